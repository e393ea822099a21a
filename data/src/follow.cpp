#include "memlife/data/follow.hpp"

#include "batch_cursor.hpp"
#include "live_marker.hpp"
#include "rows.hpp"
#include "store.hpp"

namespace memlife::data {

namespace {

constexpr store::Columns kBatchInfoColumns{"id",       "session", "first_seq", "last_seq",
                                           "first_ns", "last_ns", "count"};

// The largest row ids of the append-only tables; held open (stepped to its row, not reset)
// it keeps one read transaction around every other statement of a changes_since(): they
// all see the same commit. A transaction without BEGIN: a reader's connection runs
// reading statements only (store::open_trace). A trace without the table `outlived`
// (written before memlife record) reads 0 for it.
constexpr store::Columns kLastIdsColumns{"batch", "corruption", "leak", "outlived"};
std::string last_ids_sql(bool has_outlived) {
    return std::string("SELECT (SELECT max(id) FROM event_batches) AS batch, "
                       "(SELECT max(id) FROM corruptions) AS corruption, "
                       "(SELECT max(id) FROM leaks) AS leak, ") +
           (has_outlived ? "(SELECT max(id) FROM outlived)" : "0") + " AS outlived";
}

} // namespace

struct TraceFollower::Impl {
    std::string path;
    store::Database db;
    live::FileIdentity identity;
    std::optional<std::int64_t> data_version; // as of the last poll(); none after opening
    RecordingState state = RecordingState::Live;
    bool state_known = false;
    bool has_outlived = false;  // the table `outlived` exists
    bool report_stacks = false; // corruptions.stack and leaks.stack exist (schema version 3)

    template <typename Fn> auto guarded(Fn&& fn) -> decltype(fn()) {
        return guarded_read(path, db.get(), std::forward<Fn>(fn));
    }

    void ensure_open() {
        if (db.get() != nullptr) return;
        db = store::open_trace(path); // waits out SQLITE_BUSY
        if (!identity.known) identity = live::FileIdentity::of(path);
        guarded([&] {
            has_outlived = store::has_table(db.get(), "outlived");
            report_stacks = store::has_column(db.get(), "corruptions", "stack");
        });
        data_version.reset();
    }

    // Probe the marker first, read complete second (rows::info says why).
    RecordingState probe_state() {
        if (state_known && state == RecordingState::Finished) return state; // final
        const bool active = live::writer_active(path, identity);
        store::Statement s(db.get(), "SELECT value FROM meta WHERE key = 'complete'");
        const bool complete = !s.step() || s.text(0) != "0";
        s.reset();
        return rows::recording_state(complete, active);
    }

    void read_sessions(store::Statement& s, TraceChanges& out) {
        while (s.step())
            out.sessions.push_back(rows::session_with_outlived(s, out.info, path));
    }

    void read_all(TraceChanges& out) {
        store::Statement s(db.get(), rows::sessions_sql(has_outlived, " ORDER BY sessions.id"));
        read_sessions(s, out);
        store::Statement c(db.get(), rows::select_corruptions(report_stacks) + " ORDER BY id");
        while (c.step())
            out.corruptions.push_back(rows::corruption(c));
        store::Statement l(db.get(), rows::select_leaks(report_stacks) + " ORDER BY id");
        while (l.step())
            out.leaks.push_back(rows::leak(l));
    }

    void read_since(const TraceCursor& since, TraceChanges& out) {
        constexpr const auto& b = kBatchInfoColumns;
        store::Statement batches(db.get(), b.select("event_batches") +
                                               " WHERE id > ?1 AND id <= ?2 ORDER BY id");
        batches.bind(1, since.batch).bind(2, out.cursor.batch);
        while (batches.step()) {
            BatchInfo& i = out.batches.emplace_back();
            i.id = batches.i64(b["id"]);
            i.session = batches.u64(b["session"]);
            i.first_seq = batches.u64(b["first_seq"]);
            i.last_seq = batches.u64(b["last_seq"]);
            i.first_ns = batches.u64(b["first_ns"]);
            i.last_ns = batches.u64(b["last_ns"]);
            i.count = batches.u32(b["count"]);
        }
        // A session row changes with an event of the session; its outlived count with a
        // row of `outlived`, which comes after the session closed (its close window ended).
        const bool outlived = has_outlived && out.cursor.outlived > since.outlived;
        if (!out.batches.empty() || outlived) {
            std::string where = " WHERE sessions.id IN (SELECT session FROM event_batches "
                                "WHERE id > ?1 AND id <= ?2)";
            if (outlived)
                where += " OR sessions.id IN (SELECT session FROM outlived "
                         "WHERE id > ?3 AND id <= ?4)";
            store::Statement s(db.get(),
                               rows::sessions_sql(has_outlived, where + " ORDER BY sessions.id"));
            s.bind(1, since.batch).bind(2, out.cursor.batch);
            if (outlived) s.bind(3, since.outlived).bind(4, out.cursor.outlived);
            read_sessions(s, out);
        }
        const auto since_id = [](store::Statement& s, std::int64_t after, std::int64_t upto) {
            s.bind(1, after).bind(2, upto);
        };
        store::Statement c(db.get(), rows::select_corruptions(report_stacks) +
                                         " WHERE id > ?1 AND id <= ?2 ORDER BY id");
        since_id(c, since.corruption, out.cursor.corruption);
        while (c.step())
            out.corruptions.push_back(rows::corruption(c));
        store::Statement l(db.get(), rows::select_leaks(report_stacks) +
                                         " WHERE id > ?1 AND id <= ?2 "
                                         "ORDER BY id");
        since_id(l, since.leak, out.cursor.leak);
        while (l.step())
            out.leaks.push_back(rows::leak(l));
    }
};

TraceFollower::TraceFollower(const std::string& path) : impl_(std::make_unique<Impl>()) {
    impl_->path = path;
    impl_->ensure_open();
}

TraceFollower::~TraceFollower() = default;
TraceFollower::TraceFollower(TraceFollower&&) noexcept = default;
TraceFollower& TraceFollower::operator=(TraceFollower&&) noexcept = default;

const std::string& TraceFollower::path() const {
    return impl_->path;
}

RecordingState TraceFollower::state() const {
    return impl_->state;
}

bool TraceFollower::poll() {
    Impl& im = *impl_;
    im.ensure_open();
    return im.guarded([&] {
        store::Statement v(im.db.get(), "PRAGMA data_version");
        const std::int64_t version = v.step() ? v.i64(0) : 0;
        v.reset();
        const RecordingState state = im.probe_state();
        const bool changed =
            !im.data_version || *im.data_version != version || !im.state_known || state != im.state;
        im.data_version = version;
        im.state = state;
        im.state_known = true;
        return changed;
    });
}

TraceChanges TraceFollower::changes_since(const std::optional<TraceCursor>& since) {
    Impl& im = *impl_;
    im.ensure_open();
    return im.guarded([&] {
        TraceChanges out;
        // Before the snapshot (rows::info says why).
        const bool active = live::writer_active(im.path, im.identity);
        store::Statement snapshot(im.db.get(), last_ids_sql(im.has_outlived));
        if (snapshot.step()) {
            constexpr const auto& c = kLastIdsColumns;
            out.cursor.batch = snapshot.i64(c["batch"]);
            out.cursor.corruption = snapshot.i64(c["corruption"]);
            out.cursor.leak = snapshot.i64(c["leak"]);
            out.cursor.outlived = snapshot.i64(c["outlived"]);
        }
        out.info = rows::info(im.db.get(), im.path, active);
        out.cursor.events = out.info.events;
        out.all = !since;
        if (since)
            im.read_since(*since, out);
        else
            im.read_all(out);
        snapshot.reset(); // ends the read transaction
        im.state = out.info.recording;
        im.state_known = true;
        return out;
    });
}

void TraceFollower::release() {
    impl_->db.close();
    impl_->data_version.reset();
}

} // namespace memlife::data
