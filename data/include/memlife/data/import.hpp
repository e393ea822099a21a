// Importers of captured traces: nginx debug logs and the JSON-lines event format
// (docs/trace-format.md). Both stream their input through a fixed buffer and keep state only
// for open connections, so memory stays bounded whatever the file size. They emit
// memlife::Event values (and peers and leak reports) into any EventSink; the *_to_trace
// functions write a trace file atomically through a Recorder.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <string_view>

#include "memlife/event.hpp"

namespace memlife::data {

class TraceReader;

// Bad input. what() is one line: "FILE:LINE: reason", or "FILE: reason" when the problem is
// not tied to a line (missing, unreadable, empty or foreign file).
class ImportError : public std::runtime_error {
public:
    ImportError(std::string file, std::uint64_t line, std::string reason)
        : std::runtime_error(message(file, line, reason)), file_(std::move(file)), line_(line),
          reason_(std::move(reason)) {}
    const std::string& file() const { return file_; }
    std::uint64_t line() const { return line_; } // 1-based; 0 = the whole file
    const std::string& reason() const { return reason_; }

private:
    // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) about
    // `":" + std::to_string(line)` at -O2.
    static std::string message(const std::string& file, std::uint64_t line,
                               const std::string& reason) {
        std::string m = file;
        if (line != 0) m.append(":").append(std::to_string(line));
        return m.append(": ").append(reason);
    }
    std::string file_;
    std::uint64_t line_;
    std::string reason_;
};

struct ImportOptions {
    // Strict (default): the first malformed relevant line throws ImportError. Lenient: such
    // lines are skipped and counted (ImportStats::malformed_lines, stored in the trace).
    bool lenient = false;
    // Called after each chunk read (about every MiB) and once at the end. bytes_total is 0
    // when the size is unknown (a pipe). Throwing from it aborts the import: the exception
    // propagates and the *_to_trace functions leave no file behind.
    std::function<void(std::uint64_t bytes_done, std::uint64_t bytes_total)> progress;
};

struct ImportStats {
    std::uint64_t bytes = 0;           // input bytes read
    std::uint64_t lines = 0;           // input lines
    std::uint64_t skipped_lines = 0;   // not pool activity / not events (incl. unknown_frees)
    std::uint64_t malformed_lines = 0; // lenient mode only (strict mode throws instead)
    std::uint64_t unknown_frees = 0;   // nginx: frees of addresses never seen allocated
    std::uint64_t events = 0;          // events emitted into the sink
    std::uint64_t sessions = 0;        // sessions opened
    std::uint64_t open_sessions = 0;   // sessions still open at the end of the input
    std::uint64_t leaks = 0;           // leak reports emitted (nginx: blocks live at the end)
};

// nginx `error_log FILE debug;` output (docs/trace-format.md, "Importing nginx debug logs"):
// one session per connection, one request per request pool, one block per malloc /
// posix_memalign, one release per free; leaks reported for blocks live at connection close.
ImportStats import_nginx(const std::string& log_path, EventSink& sink,
                         const ImportOptions& options = {});
// The same from memory (tests, fuzzing); `name` stands for the file in error messages.
ImportStats import_nginx_buffer(std::string_view text, EventSink& sink,
                                const ImportOptions& options = {},
                                const std::string& name = "<memory>");

// The JSON-lines event format (docs/trace-format.md, "JSON-lines format").
ImportStats import_jsonl(const std::string& path, EventSink& sink,
                         const ImportOptions& options = {});
ImportStats import_jsonl_buffer(std::string_view text, EventSink& sink,
                                const ImportOptions& options = {},
                                const std::string& name = "<memory>");

// Imports into a new trace file (source "nginx" / "jsonl"), written atomically: on success
// the file appears complete; on any error (ImportError, TraceError, or an exception thrown
// by options.progress) no file is left behind and the exception propagates. The skipped and
// malformed line counts are stored in the trace (TraceInfo).
ImportStats import_nginx_to_trace(const std::string& log_path, const std::string& trace_path,
                                  const ImportOptions& options = {});
ImportStats import_jsonl_to_trace(const std::string& jsonl_path, const std::string& trace_path,
                                  const ImportOptions& options = {});

// Writes every event of the trace in stream order as JSON lines (peers on session_open,
// report details on corruption / leak lines). import_jsonl of the output gives back an
// equal trace. Throws TraceError on a bad trace.
void export_jsonl(const TraceReader& reader, std::ostream& out);

} // namespace memlife::data
