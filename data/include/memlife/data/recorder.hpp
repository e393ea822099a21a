// The recorder: an EventSink that writes a trace file. The instrumented thread only appends
// to a buffer; a background thread writes batches to SQLite (WAL) at least every 100 ms.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "memlife/data/stack_source.hpp"
#include "memlife/data/symbolize.hpp"
#include "memlife/data/trace.hpp"
#include "memlife/event.hpp"

namespace memlife::data {

enum class BackPressure {
    Block, // the instrumented thread waits when the writer falls behind (nothing lost)
    Drop,  // events are dropped and counted; the count is stored in the trace
};

struct RecorderOptions {
    BackPressure back_pressure = BackPressure::Block;
    std::uint32_t flush_interval_ms = 100;
    // Beyond this many buffer records (one event each, or up to three in the slim runs a
    // session's batch travels in), back-pressure applies.
    std::size_t max_buffered_events = 1u << 22;
    std::string source = "recorder"; // TraceInfo::source
    // How precise the event times are (TraceInfo::time_resolution_ns): 1 for measured
    // times; an nginx log's one-second stamps give 1'000'000'000.
    std::uint64_t time_resolution_ns = 1;
    // Importers: write to a temporary file next to `path` and only rename it into place on
    // commit(); on abort() (or destruction without commit) nothing is left behind.
    bool atomic = false;
    // More key/value pairs for the trace's `meta` table, written when it is created (memlife
    // record: the recorded command). Keys must not be the ones memlife writes itself.
    std::vector<std::pair<std::string, std::string>> meta = {};
    // fsync at every WAL checkpoint and at commit() (SQLite synchronous = NORMAL), so that a
    // finished trace also survives an OS crash or a power cut. Off (the default): a killed
    // process still loses nothing the OS has written, but an OS crash may damage the trace
    // (as with any profiler output that is not fsynced); recording is ~2x cheaper on disk.
    bool durable = false;
    // Called once, on the recorder's writer thread, at the first write failure (a full
    // disk, a file-size limit, an I/O error) with the one-line error commit() will throw
    // ("PATH: cannot write the trace (reason)"). From then on events are discarded; the
    // trace keeps what was committed before (meta.complete = 0). A server uses it to stop
    // or to say so at once instead of at the end; see also Recorder::failed().
    std::function<void(const std::string& message)> on_failure = {};
    // When recording stops (commit()), turn the stack addresses into functions, files and
    // lines from the binaries' debug information (memlife/data/symbolize.hpp), which are at
    // hand now; `memlife symbolize` can do it later instead. Traces without stacks skip it.
    bool symbolize = true;
    std::vector<std::string> debug_dirs = {}; // looked in first for separate debug files
    // Where the stack ids of on_stacked_events come from; null (the default): this
    // process's stack tree (memlife/stacks.hpp). `memlife record` passes the stacks its
    // recorded processes sent.
    std::shared_ptr<StackSource> stack_source = nullptr;
};

class Recorder : public EventSink {
public:
    // Creates (or truncates) the trace at `path`. Throws TraceError.
    explicit Recorder(const std::string& path, RecorderOptions options = {});
    ~Recorder() override; // finishes (commit() when not atomic; abort() when atomic)

    void on_event(const Event& event) noexcept override;
    bool accepts_batches() const noexcept override { return true; }
    void on_events(const Event* events, std::size_t count) noexcept override;
    void on_stacked_events(const Event* events, const StackId* stacks,
                           std::size_t count) noexcept override;
    void on_stacked_event(const Event& event, StackId stack) noexcept override;
    void on_session_open(const Event& event, std::string_view peer) noexcept override;
    void on_report(const ml_report& report) noexcept override;
    void flush() noexcept override; // waits until everything appended so far is committed

    // Importers: counts stored in the trace's metadata (TraceInfo).
    void set_skipped_lines(std::uint64_t n);
    void set_malformed_lines(std::uint64_t n);
    // A value for the trace's `meta` table, written at the next commit (memlife record: the
    // figures known when recording ends). Same rule for keys as RecorderOptions::meta.
    void set_meta(const std::string& key, const std::string& value);

    // Writes everything, updates summaries, closes the file (renaming it into place when
    // atomic). Throws TraceError on I/O failure.
    void commit();
    // Atomic mode: discards the temporary file. Otherwise: same as commit().
    void abort() noexcept;

    std::uint64_t dropped_events() const;
    // After commit(): what symbolization found (modules without debug information, ...).
    const SymbolizeResult& symbolized() const;
    const std::string& path() const;

    // True once a write has failed (see RecorderOptions::on_failure); any thread, cheap (an
    // atomic load), so a producer can poll it per request and stop early.
    bool failed() const noexcept;
    // That failure, as the TraceError commit() throws. Only when failed().
    TraceError failure() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace memlife::data
