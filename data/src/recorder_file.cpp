#include "recorder_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <thread>

#include "trace_writer.hpp"

namespace memlife::data {

TraceFile::TraceFile(std::string path, const RecorderOptions& options, std::uint64_t unique)
    : path_(std::move(path)), atomic_(options.atomic),
      write_path_(atomic_
                      ? path_ + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(unique)
                      : path_) {
    // Before the trace exists under its name: a reader that finds it unfinished and
    // unmarked knows its writer is gone.
    if (!atomic_) live_.emplace(path_);
    const std::string fresh = write_path_ + ".new";
    try {
        remove_files(fresh);
        open(fresh);
        // WAL (persistent in the file): a commit appends to the log, readers never see a
        // partial transaction, and a killed process leaves a file that recovers to its last
        // commit. synchronous: see RecorderOptions::durable.
        db_.exec("PRAGMA page_size = 32768");
        db_.exec("PRAGMA journal_mode = WAL");
        create_schema(db_, options);
        db_.close(); // checkpoints and removes the -wal file
        remove_files(write_path_);
        if (std::rename(fresh.c_str(), write_path_.c_str()) != 0)
            throw store::SqlError(std::strerror(errno));
        open(write_path_);
        db_.exec(options.durable ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = OFF");
        // Checkpoint every 8 MiB: the WAL stays in the page cache, and little is left for
        // the final checkpoint in finish().
        db_.exec("PRAGMA wal_autocheckpoint = 256");
    } catch (const std::exception& ex) {
        db_.close();
        remove_files(fresh);
        throw TraceError(TraceError::Kind::Io, path_,
                         std::string("cannot create the trace (") + ex.what() + ")");
    }
}

TraceFile::~TraceFile() = default;

void TraceFile::open(const std::string& file) {
    if (sqlite3_open_v2(file.c_str(), db_.out(),
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        const std::string reason =
            db_.get() != nullptr ? sqlite3_errmsg(db_.get()) : "out of memory";
        db_.close();
        throw store::SqlError(reason);
    }
}

void TraceFile::remove_files(const std::string& base) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
        ::unlink((base + suffix).c_str());
}

// A finished trace is one self-contained file: the WAL folded back in (journal_mode DELETE).
// That needs the only connection to the file, and SQLite does not wait for one: a follower
// (memlife-gui, memlife top) still has the trace open. Followers let go once they see the
// trace finished (meta complete = 1, committed before this), so the switch is retried for a
// while; past kFoldWait the trace stays in WAL mode with everything checkpointed into the
// main file (a complete trace all the same; the empty -wal and -shm files stay beside it).
void TraceFile::fold_wal() {
    const auto deadline = std::chrono::steady_clock::now() + kFoldWait;
    for (;;) {
        try {
            db_.exec("PRAGMA journal_mode = DELETE");
            return;
        } catch (const store::SqlError&) {
            if ((sqlite3_errcode(db_.get()) & 0xFF) != SQLITE_BUSY) throw;
        }
        if (std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // Waits for readers inside a transaction (they are short), not for idle ones.
    sqlite3_busy_timeout(db_.get(), static_cast<int>(kFoldWait.count()));
    db_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

std::string TraceFile::finish() {
    std::string error;
    try {
        fold_wal();
    } catch (const std::exception& ex) {
        error = ex.what();
    }
    db_.close();
    if (live_) live_->release();
    if (error.empty() && atomic_ && std::rename(write_path_.c_str(), path_.c_str()) != 0)
        error = std::string("cannot rename the temporary file into place (") +
                std::strerror(errno) + ")";
    if (!error.empty() && atomic_) remove_files(write_path_);
    return error;
}

void TraceFile::discard() {
    db_.close();
    if (live_) live_->release();
    if (atomic_) remove_files(write_path_);
}

} // namespace memlife::data
