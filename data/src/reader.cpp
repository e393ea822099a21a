#include "memlife/data/reader.hpp"

#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "batch_cursor.hpp"
#include "block_tracker.hpp"
#include "live_marker.hpp"
#include "rows.hpp"
#include "store.hpp"
#include "validate.hpp"

namespace memlife::data {

namespace {

// Min/max reduction of a step series into at most max_points points.
class SeriesReducer {
public:
    SeriesReducer(std::vector<SeriesPoint>& out, std::size_t max_points, std::uint64_t begin,
                  std::uint64_t end)
        : out_(out), max_points_(max_points), begin_(begin) {
        buckets_ = std::max<std::size_t>(1, max_points / 2);
        width_ = std::max<std::uint64_t>(1, (end - begin) / buckets_ + 1);
    }
    void add(SeriesPoint p) {
        if (max_points_ == 0) return out_.push_back(p);
        const std::uint64_t bucket = (p.time_ns - begin_) / width_;
        if (have_ && bucket != bucket_) flush();
        if (!have_) {
            have_ = true;
            bucket_ = bucket;
            min_ = max_ = p;
            return;
        }
        if (p.live_bytes < min_.live_bytes) min_ = p;
        if (p.live_bytes > max_.live_bytes) max_ = p;
    }
    void flush() {
        if (!have_) return;
        have_ = false;
        if (max_points_ == 1) return out_.push_back(max_);
        if (min_.time_ns == max_.time_ns && min_.live_bytes == max_.live_bytes)
            return out_.push_back(min_);
        if (min_.time_ns <= max_.time_ns) {
            out_.push_back(min_);
            out_.push_back(max_);
        } else {
            out_.push_back(max_);
            out_.push_back(min_);
        }
    }

private:
    std::vector<SeriesPoint>& out_;
    std::size_t max_points_;
    std::uint64_t begin_;
    std::size_t buckets_ = 1;
    std::uint64_t width_ = 1;
    bool have_ = false;
    std::uint64_t bucket_ = 0;
    SeriesPoint min_, max_;
};

// Where a session's live bytes stand just before one of its event batches.
struct LiveStart {
    bool begun = false; // an earlier event set them (SessionOpen, Alloc, ...)
    std::uint64_t bytes = 0;
};

// One event batch of a session without its BLOB, and its LiveStart when known.
struct BatchSpan {
    std::int64_t id = 0;
    std::uint64_t first_seq = 0, first_ns = 0, last_ns = 0;
    std::optional<LiveStart> start;
};

// The steps of the live-bytes series within a window, fed one event at a time in stream
// order from the state before the first one.
class LiveSeries {
public:
    LiveSeries(SeriesReducer& reducer, const TimeWindow& window, std::uint64_t begin,
               LiveStart start)
        : reducer_(reducer), window_(window), begin_(begin), live_(start.bytes),
          begun_(start.begun), any_before_(start.begun) {}
    // Where the live bytes stand after the events so far.
    LiveStart state() const { return {begun_, live_}; }
    // False once past the window: the events after it do not matter.
    bool add(const Event& e) {
        const std::uint64_t before = live_;
        switch (e.kind) {
        case EventKind::Alloc:
            live_ += e.size;
            break;
        case EventKind::Release:
        case EventKind::RequestEnd:
            live_ -= std::min(live_, e.size);
            break;
        case EventKind::SessionClose:
            live_ = 0;
            break;
        case EventKind::SessionOpen:
            break;
        default:
            return true;
        }
        begun_ = true;
        if (e.time_ns < window_.begin_ns) {
            any_before_ = true;
            return true;
        }
        if (e.time_ns > window_.end_ns) {
            live_ = before; // what holds in a window without events is what came before it
            return false;
        }
        if (!in_window_) {
            in_window_ = true;
            // The step value holding at the window's start.
            if (any_before_ && e.time_ns > begin_) reducer_.add({begin_, before});
        }
        if (live_ != before || e.kind == EventKind::SessionOpen ||
            e.kind == EventKind::SessionClose)
            reducer_.add({e.time_ns, live_});
        return true;
    }
    void finish() {
        if (!in_window_ && any_before_) reducer_.add({begin_, live_});
        reducer_.flush();
    }

private:
    SeriesReducer& reducer_;
    const TimeWindow window_;
    const std::uint64_t begin_;
    std::uint64_t live_;
    bool begun_;      // an event set the live bytes
    bool any_before_; // one did before the window
    bool in_window_ = false;
};

} // namespace

struct TraceReader::Impl {
    std::string path;
    store::Database db;
    live::FileIdentity identity; // the file opened, for the live marker's probe
    // event_batches.live_bytes_at_start exists (a trace written before it was added lacks
    // it); otherwise the LiveStarts come from decoding, and are kept here by batch id.
    bool batch_live_bytes = false;
    // The table `outlived` exists (traces written before memlife record lack it).
    bool has_outlived = false;
    std::unordered_map<std::int64_t, LiveStart> learned_starts;
    // corruptions.stack and leaks.stack exist (schema version 3).
    bool report_stacks = false;
    ReaderStats stats;
    TraceInfo info; // checked at open (validate::check_summary)
    // What session rows are checked against: `info`, but for a trace being recorded at open
    // without its end (events and times beyond those of the open are the recording's news).
    TraceInfo row_bounds;

    // A row of rows::sessions_sql(): the session and its outlived blocks.
    SessionRow session_with_outlived(const store::Statement& s) const {
        return rows::session_with_outlived(s, row_bounds, path);
    }

    // Runs fn, turning SQLite failures and malformed BLOBs into TraceErrors naming the file.
    template <typename Fn> auto guarded(Fn&& fn) const -> decltype(fn()) {
        return guarded_read(path, db.get(), std::forward<Fn>(fn));
    }

    void require_session(std::uint64_t id) const {
        store::Statement s(db.get(), "SELECT 1 FROM sessions WHERE id = ?");
        s.bind(1, id);
        if (!s.step())
            throw TraceError(TraceError::Kind::Usage, path,
                             "no session " + std::to_string(id) + " in this trace");
    }

    BatchCursor session_cursor(std::uint64_t session) const {
        return BatchCursor(db.get(), session);
    }

    // A session's batches in stream order, without their BLOBs. The first one starts from
    // nothing; the others from their live_bytes_at_start (NULL: not known), or from what
    // decoding taught this reader.
    std::vector<BatchSpan> batch_spans(std::uint64_t session) const {
        constexpr store::Columns c{"id", "first_seq", "first_ns", "last_ns", "live_bytes_at_start"};
        store::Statement s(db.get(),
                           std::string("SELECT id, first_seq, first_ns, last_ns, ") +
                               (batch_live_bytes ? "live_bytes_at_start" : "NULL") +
                               " FROM event_batches WHERE session = ? ORDER BY first_seq");
        s.bind(1, session);
        std::vector<BatchSpan> spans;
        while (s.step()) {
            BatchSpan& b = spans.emplace_back();
            b.id = s.i64(c["id"]);
            b.first_seq = s.u64(c["first_seq"]);
            b.first_ns = s.u64(c["first_ns"]);
            b.last_ns = s.u64(c["last_ns"]);
            if (spans.size() == 1) {
                b.start = LiveStart{};
            } else if (!s.is_null(c["live_bytes_at_start"])) {
                b.start = LiveStart{true, s.u64(c["live_bytes_at_start"])};
            } else if (const auto it = learned_starts.find(b.id); it != learned_starts.end()) {
                b.start = it->second;
            }
        }
        return spans;
    }

    // Feeds the events of the session's batches from spans[from] on to `series` until it
    // has seen the window (one statement: one read transaction); learns the LiveStarts it
    // passes that were not known.
    void decode_series(std::uint64_t session, const std::vector<BatchSpan>& spans, std::size_t from,
                       LiveSeries& series) {
        store::Statement rows(db.get(), select_event_batches("WHERE session = ?1 AND first_seq "
                                                             ">= ?2 ORDER BY first_seq"));
        rows.bind(1, session).bind(2, spans[from].first_seq);
        BatchDecoder batch;
        Event e;
        std::uint64_t seq = 0;
        for (std::size_t i = from; rows.step(); ++i) {
            // The same rows as `spans` (unless the trace grew in between: then it has more).
            const std::int64_t id = rows.i64(store::kEventBatchColumns["id"]);
            if (i < spans.size() && spans[i].id == id && !spans[i].start)
                learned_starts[id] = series.state();
            batch.load(rows);
            ++stats.event_batches_decoded;
            while (batch.next(e, seq)) {
                if (!series.add(e)) {
                    rows.reset();
                    return;
                }
            }
        }
    }
};

TraceReader::TraceReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
    impl_->path = path;
    impl_->db = store::open_trace(path);
    impl_->identity = live::FileIdentity::of(path); // open_trace waits out SQLITE_BUSY
    const bool writer_active = live::writer_active(path, impl_->identity); // before the read
    impl_->guarded([&] {
        sqlite3* db = impl_->db.get();
        impl_->batch_live_bytes = store::has_column(db, "event_batches", "live_bytes_at_start");
        impl_->has_outlived = store::has_table(db, "outlived");
        // One read transaction around the checks, so that a recorder's commit in between
        // does not make meta and sessions disagree (held open: a trace connection runs no
        // BEGIN, store::open_trace).
        store::Statement snapshot(db, "SELECT count(*) FROM meta");
        snapshot.step();
        impl_->report_stacks = store::has_column(db, "corruptions", "stack");
        impl_->info = validate::check_summary(db, path).info;
        store::Statement version(db, "PRAGMA user_version");
        impl_->info.schema_version = version.step() ? version.u32(0) : store::kSchemaVersion;
        version.reset();
        snapshot.reset();
    });
    impl_->info.recording = rows::recording_state(impl_->info.complete, writer_active);
    impl_->row_bounds = impl_->info;
    if (impl_->info.recording == RecordingState::Live) {
        impl_->row_bounds.events = INT64_MAX;
        impl_->row_bounds.last_ns = UINT64_MAX;
    }
}

TraceReader::~TraceReader() = default;
TraceReader::TraceReader(TraceReader&&) noexcept = default;
TraceReader& TraceReader::operator=(TraceReader&&) noexcept = default;

const std::string& TraceReader::path() const {
    return impl_->path;
}

TraceInfo TraceReader::info() const {
    if (impl_->row_bounds.recording != RecordingState::Live) return impl_->info;
    // Being recorded when opened: as of now.
    const bool writer_active = live::writer_active(impl_->path, impl_->identity);
    return impl_->guarded([&] { return rows::info(impl_->db.get(), impl_->path, writer_active); });
}

void TraceReader::verify() const {
    impl_->guarded([&] { validate::check_batches(impl_->db.get(), impl_->path, info()); });
}

std::string completeness_note(const TraceInfo& info) {
    if (info.complete) return {};
    if (info.recording == RecordingState::Live)
        return "incomplete recording (still being recorded: what was committed so far)";
    return "incomplete recording (meta.complete = 0: the recording stopped unexpectedly, its "
           "writer was killed or failed to write; the end may be missing)";
}

std::vector<SessionRow> TraceReader::sessions() const {
    std::vector<SessionRow> rows;
    for_each_session([&](const SessionRow& r) {
        rows.push_back(r);
        return true;
    });
    return rows;
}

void TraceReader::for_each_session(const std::function<bool(const SessionRow&)>& fn) const {
    impl_->guarded([&] {
        store::Statement s(impl_->db.get(),
                           rows::sessions_sql(impl_->has_outlived, " ORDER BY sessions.id"));
        while (s.step())
            if (!fn(impl_->session_with_outlived(s))) break;
        s.reset();
    });
}

std::optional<SessionRow> TraceReader::session(std::uint64_t id) const {
    return impl_->guarded([&]() -> std::optional<SessionRow> {
        store::Statement s(impl_->db.get(),
                           rows::sessions_sql(impl_->has_outlived, " WHERE sessions.id = ?"));
        s.bind(1, id);
        if (!s.step()) return std::nullopt;
        SessionRow r = impl_->session_with_outlived(s);
        s.reset();
        return r;
    });
}

std::vector<RequestRow> TraceReader::requests(std::uint64_t session) const {
    return impl_->guarded([&] {
        impl_->require_session(session);
        std::vector<RequestRow> rows;
        store::Statement s(impl_->db.get(), store::kRequestBatchColumns.select("request_batches") +
                                                " WHERE session = ? ORDER BY batch");
        s.bind(1, session);
        while (s.step())
            decode_request_batch(s, rows);
        return rows;
    });
}

std::vector<SeriesPoint> TraceReader::live_bytes_series(std::uint64_t session,
                                                        std::optional<TimeWindow> window,
                                                        std::size_t max_points) const {
    if (window && window->begin_ns > window->end_ns)
        throw TraceError(TraceError::Kind::Usage, impl_->path, "time window ends before it begins");
    return impl_->guarded([&] {
        impl_->require_session(session);
        const TimeWindow w = window.value_or(TimeWindow{});
        const std::vector<BatchSpan> spans = impl_->batch_spans(session);
        std::vector<SeriesPoint> out;
        if (spans.empty()) return out;
        std::uint64_t first = UINT64_MAX, last = 0;
        for (const BatchSpan& b : spans) {
            first = std::min(first, b.first_ns);
            last = std::max(last, b.last_ns);
        }
        const std::uint64_t begin = std::max(first, w.begin_ns);
        const std::uint64_t end = std::min(last, w.end_ns);
        if (begin > end) return out;
        // Every event of the batches before `target` is earlier than the window: start at
        // `target`, or at the last batch before it whose LiveStart is known (the first
        // always is), and decode forward.
        std::size_t target = 0;
        while (target + 1 < spans.size() && spans[target].last_ns < w.begin_ns)
            ++target;
        std::size_t from = target;
        while (!spans[from].start)
            --from;
        SeriesReducer reducer(out, max_points, begin, end);
        LiveSeries series(reducer, w, begin, *spans[from].start);
        impl_->decode_series(session, spans, from, series);
        series.finish();
        return out;
    });
}

void TraceReader::for_each_block(std::uint64_t session,
                                 const std::function<bool(const BlockRow&)>& fn) const {
    impl_->guarded([&] {
        impl_->require_session(session);
        bool go_on = true;
        const std::function<bool(const BlockRow&)> emit = [&](const BlockRow& b) {
            return go_on = fn(b);
        };
        // Blocks that outlived the connection are flagged from the table `outlived`.
        std::unordered_set<std::uint64_t> outlived;
        if (impl_->has_outlived) {
            store::Statement o(impl_->db.get(), "SELECT block FROM outlived WHERE session = ?");
            o.bind(1, session);
            while (o.step())
                outlived.insert(o.u64(0));
        }
        const std::function<bool(const BlockRow&)> flagged = [&](const BlockRow& b) {
            if (outlived.empty() || !outlived.contains(b.id)) return emit(b);
            BlockRow copy = b;
            copy.outlived = true;
            return emit(copy);
        };
        BlockTracker tracker(flagged);
        BatchCursor cursor = impl_->session_cursor(session);
        Event e;
        std::uint64_t seq = 0;
        while (go_on && cursor.next(e, seq))
            tracker.add(e, cursor.stack());
        impl_->stats.event_batches_decoded += cursor.batches_loaded();
        if (go_on) tracker.finish();
    });
}

std::uint64_t TraceReader::event_count(std::optional<std::uint64_t> session) const {
    return impl_->guarded([&] {
        store::Statement s(impl_->db.get(),
                           session ? "SELECT total(count) FROM event_batches WHERE session = ?"
                                   : "SELECT total(count) FROM event_batches");
        if (session) s.bind(1, *session);
        s.step();
        const double total = s.real(0); // total(): 0.0 on no rows, and no integer overflow
        // More than meta.events (checked against the file's size at open) is made up, and
        // would size a view's rows. A trace being recorded when opened has grown since: its
        // meta as of now, read while `s` holds the same read transaction.
        const std::uint64_t events = impl_->row_bounds.recording == RecordingState::Live
                                         ? info().events
                                         : impl_->info.events;
        if (total > static_cast<double>(events))
            throw TraceError(TraceError::Kind::Damaged, impl_->path,
                             "damaged trace (the event batches claim more events than the "
                             "trace's " +
                                 std::to_string(events) + ")");
        return total > 0 ? static_cast<std::uint64_t>(total) : std::uint64_t{0};
    });
}

void TraceReader::for_each_event(const std::function<bool(const Event&)>& fn,
                                 std::optional<std::uint64_t> session, std::uint64_t skip) const {
    impl_->guarded([&] {
        Event e;
        std::uint64_t seq = 0;
        if (session) {
            BatchCursor cursor = impl_->session_cursor(*session);
            cursor.skip(skip);
            while (cursor.next(e, seq))
                if (!fn(e)) break;
            impl_->stats.event_batches_decoded += cursor.batches_loaded();
            return;
        }
        // The stream's first sequence number to deliver: with dense numbers (every number
        // from the first to the last used once, as the writer assigns them) the skipped
        // events are exactly those numbered below it, and whole batches below it are never
        // read. Otherwise the skipped events are decoded and dropped.
        std::uint64_t from_seq = 0, drop = skip;
        if (skip > 0) {
            store::Statement range(impl_->db.get(),
                                   "SELECT total(count), min(first_seq), max(last_seq) "
                                   "FROM event_batches");
            range.step();
            const double events = range.real(0);
            const std::uint64_t first = range.u64(1), last = range.u64(2);
            if (events > 0 && last >= first && double(last - first) + 1 == events) {
                from_seq = first + skip;
                drop = 0;
            }
        }
        // Batches are per session; the stream order is the sequence number. Merge the
        // batches that overlap in sequence (one per concurrently active session).
        struct Active {
            BatchDecoder batch;
            Event event;
            std::uint64_t seq = 0;
        };
        auto later = [](const Active* a, const Active* b) { return a->seq > b->seq; };
        std::priority_queue<Active*, std::vector<Active*>, decltype(later)> heap(later);
        std::vector<std::unique_ptr<Active>> owned;
        std::vector<Active*> spare;
        store::Statement rows(impl_->db.get(),
                              select_event_batches("WHERE last_seq >= ? ORDER BY first_seq"));
        rows.bind(1, from_seq);
        bool have_row = rows.step();
        for (;;) {
            if (have_row && (heap.empty() ||
                             heap.top()->seq > rows.u64(store::kEventBatchColumns["first_seq"]))) {
                Active* a = nullptr;
                if (!spare.empty()) {
                    a = spare.back();
                    spare.pop_back();
                } else {
                    owned.push_back(std::make_unique<Active>());
                    a = owned.back().get();
                }
                a->batch.load(rows);
                ++impl_->stats.event_batches_decoded;
                if (a->batch.next(a->event, a->seq))
                    heap.push(a);
                else
                    spare.push_back(a);
                have_row = rows.step();
                continue;
            }
            if (heap.empty()) break;
            Active* a = heap.top();
            heap.pop();
            if (a->seq < from_seq) { // in a batch that straddles the first one to deliver
            } else if (drop > 0) {
                --drop;
            } else if (!fn(a->event)) {
                break;
            }
            if (a->batch.next(a->event, a->seq))
                heap.push(a);
            else
                spare.push_back(a);
        }
        rows.reset();
    });
}

namespace {

// "WHERE session = ?" when a session is given, in id order.
std::string of_session(std::optional<std::uint64_t> session) {
    return std::string(session ? " WHERE session = ?" : "") + " ORDER BY id";
}

} // namespace

std::vector<CorruptionRow> TraceReader::corruptions(std::optional<std::uint64_t> session) const {
    return impl_->guarded([&] {
        std::vector<CorruptionRow> out;
        store::Statement s(impl_->db.get(),
                           rows::select_corruptions(impl_->report_stacks) + of_session(session));
        if (session) s.bind(1, *session);
        while (s.step())
            out.push_back(rows::corruption(s));
        return out;
    });
}

std::vector<OutlivedRow> TraceReader::outlived(std::optional<std::uint64_t> session) const {
    return impl_->guarded([&] {
        constexpr const auto& c = store::kOutlivedColumns;
        std::vector<OutlivedRow> out;
        if (!impl_->has_outlived) return out;
        store::Statement s(impl_->db.get(), c.select("outlived") + of_session(session));
        if (session) s.bind(1, *session);
        while (s.step())
            out.push_back(rows::outlived(s));
        return out;
    });
}

std::vector<LeakRow> TraceReader::leaks(std::optional<std::uint64_t> session) const {
    return impl_->guarded([&] {
        std::vector<LeakRow> out;
        store::Statement s(impl_->db.get(),
                           rows::select_leaks(impl_->report_stacks) + of_session(session));
        if (session) s.bind(1, *session);
        while (s.step())
            out.push_back(rows::leak(s));
        return out;
    });
}

} // namespace memlife::data

namespace memlife::data {

ReaderStats TraceReader::stats() const {
    return impl_->stats;
}

std::vector<OrderViolation> TraceReader::order_violations() const {
    OrderChecker checker;
    for_each_event([&](const Event& e) {
        checker.check(e);
        return true;
    });
    return checker.violations();
}

} // namespace memlife::data
