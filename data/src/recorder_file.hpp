// The recorder's trace file, from creation to the finished trace. The empty trace is built
// under a temporary name and renamed into place, so that a process killed at any moment
// leaves either no file or a trace that opens; it is written in WAL mode and, when
// finished, folded back into one self-contained file. In atomic mode (importers) the whole
// recording goes to a temporary name next to the target, renamed into place only on success.
// Otherwise the trace can be followed while it is written: the file holds the live marker
// (live_marker.hpp) from before the trace appears under its name until it is finished.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "live_marker.hpp"
#include "memlife/data/recorder.hpp"
#include "store.hpp"

namespace memlife::data {

class TraceFile {
public:
    // How long finish() waits for followers to close the trace before it leaves it in WAL
    // mode (see fold_wal()).
    static constexpr std::chrono::milliseconds kFoldWait{1500};

    // Creates (or truncates) the trace at `path` and opens it for writing; `unique` tells
    // this recorder's temporary names apart. Throws TraceError, also when another process
    // is recording the same trace.
    TraceFile(std::string path, const RecorderOptions& options, std::uint64_t unique);
    ~TraceFile();
    TraceFile(const TraceFile&) = delete;
    TraceFile& operator=(const TraceFile&) = delete;

    const std::string& path() const { return path_; }
    sqlite3* db() const { return db_.get(); }

    // Folds the WAL back in, closes the file and, when atomic, renames it into place; the
    // trace is no longer live. Returns the failure ("" on success); then an atomic trace is
    // removed.
    std::string finish();
    // Closes the file; an atomic trace is removed, a plain one stays as last committed.
    void discard();

private:
    void open(const std::string& file);
    void fold_wal();
    static void remove_files(const std::string& base);

    const std::string path_; // the trace as the caller named it
    const bool atomic_;
    // Held while a plain (not atomic) trace is written; declared before db_ so that it is
    // released after the file is closed.
    std::optional<live::WriterMark> live_;
    std::string write_path_; // where SQLite writes (a temporary name when atomic)
    store::Database db_;
};

} // namespace memlife::data
