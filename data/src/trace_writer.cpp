#include "trace_writer.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>

namespace memlife::data {

namespace {

std::string utc_now_iso8601() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

std::uint64_t saturating_sub(std::uint64_t a, std::uint64_t b) {
    return a > b ? a - b : 0;
}

} // namespace

void create_schema(store::Database& db, const RecorderOptions& options) {
    db.exec("BEGIN");
    db.exec(store::kSchemaSql);
    db.exec(("PRAGMA application_id = " + std::to_string(store::kApplicationId)).c_str());
    db.exec(("PRAGMA user_version = " + std::to_string(store::kSchemaVersion)).c_str());
    {
        store::Statement s(db.get(), "INSERT INTO notifications VALUES(?, ?, ?, ?, ?, ?, ?)");
        for (const NotificationInfo& n : notification_table()) {
            s.bind(1, static_cast<int>(n.id))
                .bind(2, n.name)
                .bind(3, n.flag)
                .bind(4, std::string_view(n.scope == NotificationScope::Connection ? "connection"
                                                                                   : "request"))
                .bind(5, n.repeats ? 1 : 0)
                .bind(6, n.conditional ? 1 : 0)
                .bind(7, n.condition);
            s.run();
        }
    }
    {
        store::Statement s(db.get(), "INSERT INTO meta VALUES(?, ?)");
        auto put = [&](std::string_view key, std::string_view value) {
            s.bind(1, key).bind(2, value);
            s.run();
        };
        put("source", options.source);
        put("created", utc_now_iso8601());
        put("memlife_version", MEMLIFE_VERSION);
        put("time_resolution_ns",
            std::to_string(std::max<std::uint64_t>(1, options.time_resolution_ns)));
        for (const char* key : {"events", "dropped_events", "skipped_lines", "malformed_lines",
                                "first_ns", "last_ns", "complete"}) {
            s.bind(1, std::string_view(key)).bind(2, 0);
            s.run();
        }
    }
    db.exec("COMMIT");
}

struct TraceWriter::SessionState {
    SessionRow row;
    std::uint64_t live_bytes = 0;
    std::uint64_t first_seq = 0, last_seq = 0;
    codec::EventEncoder batch;
    // Requests not yet in a full request batch; the last one may still be running.
    std::vector<RequestRow> requests;
    std::uint64_t request_batch = 0;
    bool in_request = false;
    bool requests_dirty = false;
    bool dirty = false;
    // Growth: least-squares slope of live_bytes_at_end over the request number, kept as
    // running means and co-moments (numerically stable for millions of requests).
    double n = 0, mean_x = 0, mean_y = 0, c_xy = 0, m2_x = 0;

    // Allocations of `bytes` in all, during which live bytes rose by up to `peak_rise`.
    void note_allocs(std::uint32_t request, std::uint64_t count, std::uint64_t bytes,
                     std::uint64_t peak_rise) {
        const std::uint64_t peak = live_bytes + peak_rise;
        live_bytes += bytes;
        row.blocks += count;
        row.peak_bytes = std::max(row.peak_bytes, peak);
        if (RequestRow* r = current_request(request)) {
            r->blocks += count;
            r->peak_bytes = std::max(r->peak_bytes, peak);
            requests_dirty = true;
        }
    }
    RequestRow* current_request(std::uint32_t number) {
        if (!in_request || requests.empty() || requests.back().number != number) return nullptr;
        return &requests.back();
    }
    void add_growth_point(double x, double y) {
        n += 1;
        const double inv_n = 1 / n; // one division per request; the slope's when written
        const double dx = x - mean_x;
        mean_x += dx * inv_n;
        mean_y += (y - mean_y) * inv_n;
        c_xy += dx * (y - mean_y);
        m2_x += dx * (x - mean_x);
    }
    double growth() const { return m2_x > 0 ? c_xy / m2_x : 0; }
};

TraceWriter::TraceWriter(sqlite3* db)
    : db_(db),
      insert_batch_(db, "INSERT INTO event_batches(session, first_seq, last_seq, first_ns, "
                        "last_ns, count, data) VALUES(?, ?, ?, ?, ?, ?, ?)"),
      upsert_requests_(db, "INSERT OR REPLACE INTO request_batches VALUES(?, ?, ?, ?, ?, ?)"),
      upsert_session_(db, "INSERT OR REPLACE INTO sessions VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                          "?, ?, ?, ?, ?, ?)"),
      insert_corruption_(db, "INSERT INTO corruptions(session, request, alloc_request, block, "
                             "address, size, scope, alloc_notification, last_notification, "
                             "time_ns, first_offset, modified_count, expected, found, "
                             "fault_address, message) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                             "?, ?, ?, ?, ?)"),
      insert_leak_(db, "INSERT INTO leaks(session, request, alloc_request, block, address, "
                       "size, scope, alloc_notification, time_ns, message) VALUES(?, ?, ?, ?, "
                       "?, ?, ?, ?, ?, ?)"),
      upsert_meta_(db, "INSERT OR REPLACE INTO meta VALUES(?, ?)") {}

TraceWriter::~TraceWriter() = default;

TraceWriter::SessionState& TraceWriter::switch_session(std::uint64_t session) {
    auto& slot = sessions_[session];
    if (!slot) {
        slot = std::make_unique<SessionState>();
        slot->row.id = session;
    }
    last_session_ = session;
    return *(last_ = slot.get());
}

void TraceWriter::begin() {
    if (in_transaction_) return;
    if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
        throw store::SqlError(sqlite3_errmsg(db_));
    in_transaction_ = true;
}

void TraceWriter::mark_dirty(SessionState& s) {
    if (!s.dirty) {
        s.dirty = true;
        dirty_.push_back(&s);
    }
}

void TraceWriter::add(const Event& e) {
    const std::uint64_t seq = next_seq_++;
    SessionState& s = state(e.session);
    if (!s.dirty) mark_dirty(s);
    if (s.batch.empty()) s.batch.start(e.time_ns, seq);
    s.batch.add(e, seq);
    note_times(e.time_ns, e.time_ns);

    SessionRow& row = s.row;
    if (row.events++ == 0) s.first_seq = seq;
    s.last_seq = seq;
    switch (e.kind) {
    case EventKind::SessionOpen:
        row.open_ns = e.time_ns;
        break;
    case EventKind::SessionClose:
        if (RequestRow* r = s.current_request(s.requests.empty() ? 0 : s.requests.back().number)) {
            r->end_ns = e.time_ns; // a request cut short by the end of the session
            r->live_bytes_at_end = s.live_bytes;
            s.in_request = false;
        }
        row.close_ns = e.time_ns;
        row.released_at_close_bytes = e.size;
        s.live_bytes = 0;
        s.requests_dirty = true;
        break;
    case EventKind::RequestBegin: {
        ++row.requests;
        if (s.in_request && !s.requests.empty()) s.requests.back().live_bytes_at_end = s.live_bytes;
        // Filled in place: a row built on the stack and copied stalled on reading back its
        // narrow stores (a third of this function's time).
        RequestRow& r = s.requests.emplace_back();
        r.session = e.session;
        r.number = e.request;
        r.begin_ns = e.time_ns;
        r.peak_bytes = s.live_bytes;
        s.in_request = true;
        s.requests_dirty = true;
        break;
    }
    case EventKind::RequestEnd:
        s.live_bytes = saturating_sub(s.live_bytes, e.size);
        if (RequestRow* r = s.current_request(e.request)) {
            r->end_ns = e.time_ns;
            r->released_bytes = e.size;
            r->live_bytes_at_end = s.live_bytes;
            s.in_request = false;
            s.add_growth_point(r->number, static_cast<double>(s.live_bytes));
            s.requests_dirty = true;
            if (s.requests.size() >= kRequestsPerBatch) write_requests(s);
        }
        break;
    case EventKind::Alloc:
        s.note_allocs(e.request, 1, e.size, e.size);
        break;
    case EventKind::Release:
        s.live_bytes = saturating_sub(s.live_bytes, e.size);
        break;
    case EventKind::Corruption:
        ++row.corruptions;
        if (RequestRow* r = s.current_request(e.request)) ++r->corruptions, s.requests_dirty = true;
        break;
    case EventKind::Leak:
        ++row.leaks;
        row.leaked_bytes += e.size;
        if (RequestRow* r = s.current_request(e.request)) ++r->leaks, s.requests_dirty = true;
        break;
    case EventKind::Notification:
    case EventKind::Drop:
        break;
    }
    if (s.batch.full(kBatchBytes, kEventsPerBatch)) write_batch(s);
}

std::size_t TraceWriter::add_events(const Event* events, std::size_t count) {
    std::size_t i = 0;
    while (i < count) {
        const Event& e = events[i];
        const auto kind = static_cast<unsigned>(e.kind);
        if (kind < 1 || kind > kEventKindMax) break;
        SessionState& s = state(e.session);
        if (e.kind == EventKind::Alloc && !s.batch.empty()) {
            const codec::EventEncoder::AllocRun run = s.batch.add_allocs(
                events + i, count - i, e.session, next_seq_, kBatchBytes, kEventsPerBatch);
            if (run.count != 0) {
                // What add() keeps per event, for the whole run at once.
                next_seq_ += run.count;
                s.last_seq = next_seq_ - 1;
                s.row.events += run.count;
                s.note_allocs(e.request, run.count, run.bytes, run.peak_rise);
                note_times(run.min_ns, s.batch.last_ns());
                if (s.batch.full(kBatchBytes, kEventsPerBatch)) write_batch(s);
                i += run.count;
                continue;
            }
        }
        add(e);
        ++i;
    }
    return i;
}

void TraceWriter::set_peer(std::uint64_t session, std::string peer) {
    SessionState& s = state(session);
    s.row.peer = std::move(peer);
    // The peer record precedes the session's first event; a commit between the two must
    // not write a session row that has no events (a trace killed there would show it).
    if (s.row.events > 0) mark_dirty(s);
}

void TraceWriter::write_batch(SessionState& s) {
    begin();
    const codec::EventEncoder& b = s.batch;
    insert_batch_.bind(1, s.row.id)
        .bind(2, b.first_seq())
        .bind(3, b.last_seq())
        .bind(4, b.first_ns())
        .bind(5, b.last_ns())
        .bind(6, b.count())
        .bind_blob(7, b.data(), b.size());
    insert_batch_.run();
    s.batch.start(0, 1); // empty (count 0) until the next event restarts it
}

void TraceWriter::write_requests(SessionState& s) {
    begin();
    codec::encode_requests(s.requests, scratch_);
    upsert_requests_.bind(1, s.row.id)
        .bind(2, s.request_batch)
        .bind(3, s.requests.front().number)
        .bind(4, s.requests.back().number)
        .bind(5, static_cast<std::uint64_t>(s.requests.size()))
        .bind_blob(6, scratch_.data(), scratch_.size());
    upsert_requests_.run();
    s.requests_dirty = false;
    // A full batch whose last request has ended is final; the next requests start a new row.
    if (s.requests.size() >= kRequestsPerBatch && !s.in_request) {
        ++s.request_batch;
        s.requests.clear();
    }
}

void TraceWriter::write_session(const SessionState& s) {
    const SessionRow& r = s.row;
    upsert_session_.bind(1, r.id)
        .bind(2, std::string_view(r.peer))
        .bind(3, r.open_ns)
        .bind(4, r.close_ns)
        .bind(5, r.requests)
        .bind(6, r.peak_bytes)
        .bind(7, r.released_at_close_bytes)
        .bind(8, s.growth())
        .bind(9, r.corruptions)
        .bind(10, r.leaks)
        .bind(11, r.leaked_bytes)
        .bind(12, r.blocks)
        .bind(13, r.events)
        .bind(14, s.live_bytes)
        .bind(15, s.first_seq)
        .bind(16, s.last_seq);
    upsert_session_.run();
}

// The columns corruptions and leaks share, in the same order (1-8: session ..
// alloc_notification), and the message.
static store::Statement& bind_report(store::Statement& s, const ml_report& r) {
    return s.bind(1, r.session_id)
        .bind(2, r.request)
        .bind(3, r.alloc_request)
        .bind(4, r.block_id)
        .bind(5, r.address)
        .bind(6, r.size)
        .bind(7, r.scope)
        .bind(8, r.alloc_notification);
}

void TraceWriter::add_report(const ml_report& report) {
    begin();
    const std::string_view message(report.message, strnlen(report.message, ML_MESSAGE_MAX));
    if (report.kind == ML_REPORT_CORRUPTION) {
        const std::uint32_t tail = std::min<std::uint32_t>(report.tail_len, ML_TAIL_MAX);
        bind_report(insert_corruption_, report)
            .bind(9, report.last_notification)
            .bind(10, report.time_ns)
            .bind(11, report.first_offset)
            .bind(12, report.modified_count)
            .bind_blob(13, report.expected, tail)
            .bind_blob(14, report.found, tail)
            .bind(15, report.fault_address)
            .bind(16, message);
        insert_corruption_.run();
    } else if (report.kind == ML_REPORT_LEAK) {
        bind_report(insert_leak_, report).bind(9, report.time_ns).bind(10, message);
        insert_leak_.run();
    }
}

void TraceWriter::commit(const Counters& counters, bool force) {
    const bool counters_changed = counters.dropped_events != last_counters_.dropped_events ||
                                  counters.skipped_lines != last_counters_.skipped_lines ||
                                  counters.malformed_lines != last_counters_.malformed_lines ||
                                  counters.complete != last_counters_.complete;
    if (!force && !counters_changed && dirty_.empty() && !in_transaction_) return;
    begin();
    for (SessionState* s : dirty_) {
        if (!s->batch.empty()) write_batch(*s);
        if (s->requests_dirty && !s->requests.empty()) write_requests(*s);
        if (s->row.id != 0) write_session(*s); // session 0 holds only Drop events
        s->dirty = false;
    }
    auto put = [&](std::string_view key, std::uint64_t value) {
        upsert_meta_.bind(1, key).bind(2, value);
        upsert_meta_.run();
    };
    put("events", next_seq_ - 1);
    put("dropped_events", counters.dropped_events);
    put("skipped_lines", counters.skipped_lines);
    put("malformed_lines", counters.malformed_lines);
    put("first_ns", first_ns_);
    put("last_ns", last_ns_);
    put("complete", counters.complete ? 1 : 0);
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
        throw store::SqlError(sqlite3_errmsg(db_));
    in_transaction_ = false;
    last_counters_ = counters;
    // Closed sessions are final: forget them (memory stays bounded by the open sessions).
    for (SessionState* s : dirty_) {
        if (s->row.close_ns != 0 && !s->in_request) {
            if (last_ == s) last_ = nullptr;
            sessions_.erase(s->row.id);
        }
    }
    dirty_.clear();
}

} // namespace memlife::data
