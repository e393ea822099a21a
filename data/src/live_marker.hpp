// The live marker: how a reader tells a trace that is being recorded from one whose writer
// stopped. While a recorder writes TRACE it holds an open-file-description (OFD) write lock
// on the first byte of TRACE-live; a reader probes the lock (F_OFD_GETLK) and never takes it.
// The kernel drops the lock when the writer closes the file or dies in any way (SIGKILL,
// a crash, the OOM killer), so a trace is never left "live forever", whatever happened to
// its writer: no pid that could be reused, no clock, no timeout. An OFD lock (unlike a
// classic POSIX lock) is not released when the process closes another descriptor of the
// same file, and it is seen by a probe from the same process (a recorder thread and a
// follower in one program). The lock lives in a file of its own, not in the trace: SQLite
// holds classic POSIX locks on the trace, which any close() of another descriptor of it in
// the same process would release.
#pragma once

#include <sys/types.h>

#include <string>

namespace memlife::data::live {

// TRACE-live.
std::string marker_path(const std::string& trace);

// Held by a recorder from before the trace appears under its name until after it is
// finished (or abandoned). Not copyable; releasing is idempotent.
class WriterMark {
public:
    // Takes the lock, creating TRACE-live if needed, and writes this process' id into it
    // (for messages only). Throws TraceError(Io) when another writer holds it ("is being
    // recorded by another process (pid N)") or when it cannot be created.
    explicit WriterMark(const std::string& trace);
    ~WriterMark() { release(); }
    WriterMark(const WriterMark&) = delete;
    WriterMark& operator=(const WriterMark&) = delete;

    // Removes TRACE-live and drops the lock (in that order: a reader never finds the file
    // without its writer's lock while the writer still runs).
    void release() noexcept;

private:
    std::string path_;
    int fd_ = -1;
};

// Which file a reader opened, so that a trace replaced under the same name (a new
// recording with --force) is not taken for the one being recorded.
struct FileIdentity {
    dev_t device = 0;
    ino_t inode = 0;
    bool known = false;
    static FileIdentity of(const std::string& path);
    bool operator==(const FileIdentity& o) const {
        return known && o.known && device == o.device && inode == o.inode;
    }
};

// True while a writer holds the marker of the trace at `path`, and `path` is still the file
// `opened` (when known). A missing, unreadable or unlocked marker: false. One open(), one
// fcntl(), one close(): cheap enough for every poll.
bool writer_active(const std::string& path, const FileIdentity& opened);

} // namespace memlife::data::live
