// Following a trace while it is being recorded (memlife top, memlife-gui --follow). The
// recorder commits at least every 100 ms in WAL mode with its summary tables current, so a
// reader in another process (or thread) sees a consistent trace at any moment; a follower
// asks cheaply whether anything was committed since it last looked, and if so reads only
// what changed, in one short read transaction.
//
//     TraceFollower follower(path);
//     TraceChanges all = follower.changes_since(std::nullopt); // everything so far
//     TraceCursor at = all.cursor;
//     for (;;) {                                               // e.g. every 100 ms
//         if (follower.poll()) {
//             TraceChanges news = follower.changes_since(at);
//             ... apply news.sessions (new or changed rows), news.corruptions, ...
//             at = news.cursor;
//         }
//         if (follower.state() != RecordingState::Live) break; // finished or stopped
//     }
//
// Change detection is SQLite's `PRAGMA data_version` on the follower's own long-lived
// connection: it changes when another connection commits, and costs no I/O. Between calls
// the connection holds no read transaction, so it never keeps the recorder's checkpoints
// from completing (the -wal file stays bounded; see docs/trace-format.md, "Following").
// One thread at a time, like TraceReader.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "memlife/data/trace.hpp"

namespace memlife::data {

// A point in a trace's history: everything committed up to it has been seen. Rows are only
// ever appended to event_batches, corruptions, leaks and outlived, so their largest row ids
// mark it.
struct TraceCursor {
    std::uint64_t events = 0; // meta events at that point
    std::int64_t batch = 0;   // largest event_batches.id
    std::int64_t corruption = 0;
    std::int64_t leak = 0;
    std::int64_t outlived = 0; // 0 also in a trace without the table
    bool operator==(const TraceCursor&) const = default;
};

// An event batch row without its events: which session got events, which, and when.
struct BatchInfo {
    std::int64_t id = 0;
    std::uint64_t session = 0; // 0: Drop records
    std::uint64_t first_seq = 0, last_seq = 0;
    std::uint64_t first_ns = 0, last_ns = 0;
    std::uint32_t count = 0;
};

struct TraceChanges {
    TraceInfo info;   // as of `cursor`, with the recording state
    bool all = false; // changes since nothing: `sessions` is every session, `batches` empty
    // Sessions that are new or whose row changed, with their outlived blocks counted (every
    // change to a session row comes with an event of the session, so these are the sessions
    // of `batches`, and those with new rows of `outlived`), by id.
    std::vector<SessionRow> sessions;
    std::vector<CorruptionRow> corruptions; // new ones, in the order they were found
    std::vector<LeakRow> leaks;
    std::vector<BatchInfo> batches; // new event batches, in the order they were written
    TraceCursor cursor;             // for the next changes_since()
    bool empty() const {
        return sessions.empty() && corruptions.empty() && leaks.empty() && batches.empty();
    }
};

class TraceFollower {
public:
    // Opens read-only (as TraceReader). Throws TraceError.
    explicit TraceFollower(const std::string& path);
    ~TraceFollower();
    TraceFollower(TraceFollower&&) noexcept;
    TraceFollower& operator=(TraceFollower&&) noexcept;

    const std::string& path() const;

    // True when something was committed since the previous poll() (by any other
    // connection) or the recording state changed; the first poll() after opening or
    // release() is true. A PRAGMA and a probe of the live marker: microseconds.
    bool poll();
    // The recording state as of the last poll() or changes_since().
    RecordingState state() const;

    // What was committed after `since` (nullopt: everything, as in a first load), read in
    // one read transaction that ends before it returns. Throws TraceError.
    TraceChanges changes_since(const std::optional<TraceCursor>& since);

    // Closes the connection (a recorder finishing the trace needs every other connection
    // closed to fold its WAL back); the next poll() or changes_since() reopens it.
    void release();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace memlife::data
