#include "trace_writer.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>

#include "stacks_ledger.hpp"

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

using store::kCorruptionColumns;
using store::kLeakColumns;
using store::kMetaColumns;
using store::kOutlivedColumns;
using store::kRequestBatchColumns;
using store::kSessionColumns;

// The event_batches columns the writer fills (id is the row id).
constexpr store::Columns kBatchInsertColumns{
    "session", "first_seq", "last_seq", "first_ns",
    "last_ns", "count",     "data",     "live_bytes_at_start"};

} // namespace

void create_schema(store::Database& db, const RecorderOptions& options) {
    db.exec("BEGIN");
    db.exec(store::kSchemaSql);
    db.exec(("PRAGMA application_id = " + std::to_string(store::kApplicationId)).c_str());
    db.exec(("PRAGMA user_version = " + std::to_string(store::kSchemaVersion)).c_str());
    {
        constexpr const auto& c = store::kNotificationColumns;
        store::Statement s(db.get(), c.insert("INSERT INTO", "notifications"));
        for (const NotificationInfo& n : notification_table()) {
            s.bind(c.param("id"), static_cast<int>(n.id))
                .bind(c.param("name"), n.name)
                .bind(c.param("flag"), n.flag)
                .bind(c.param("scope"),
                      std::string_view(n.scope == NotificationScope::Connection ? "connection"
                                                                                : "request"))
                .bind(c.param("repeats"), n.repeats ? 1 : 0)
                .bind(c.param("conditional"), n.conditional ? 1 : 0)
                .bind(c.param("condition"), n.condition);
            s.run();
        }
    }
    {
        store::Statement s(db.get(), kMetaColumns.insert("INSERT INTO", "meta"));
        auto put = [&](std::string_view key, std::string_view value) {
            s.bind(kMetaColumns.param("key"), key).bind(kMetaColumns.param("value"), value);
            s.run();
        };
        put("source", options.source);
        put("created", utc_now_iso8601());
        put("memlife_version", MEMLIFE_VERSION);
        put("time_resolution_ns",
            std::to_string(std::max<std::uint64_t>(1, options.time_resolution_ns)));
        for (const auto& [key, value] : options.meta)
            put(key, value);
        for (const char* key : {"events", "dropped_events", "skipped_lines", "malformed_lines",
                                "first_ns", "last_ns", "complete"}) {
            s.bind(kMetaColumns.param("key"), std::string_view(key))
                .bind(kMetaColumns.param("value"), 0);
            s.run();
        }
    }
    db.exec("COMMIT");
}

struct TraceWriter::SessionState {
    SessionRow row;
    std::uint64_t live_bytes = 0;
    bool live_bytes_set = false; // an event set them (the live-bytes series has begun)
    std::uint64_t first_seq = 0, last_seq = 0;
    codec::EventEncoder batch;
    // live_bytes when the batch started (its live_bytes_at_start), if live_bytes_set was.
    std::uint64_t batch_live_bytes = 0;
    bool batch_live_bytes_set = false;
    // Requests not yet in a full request batch; the last one may still be running.
    std::vector<RequestRow> requests;
    std::uint64_t request_batch = 0;
    bool in_request = false;
    bool requests_dirty = false;
    bool dirty = false;
    // Growth: least-squares slope of live_bytes_at_end over the request number.
    Slope growth;
    // What each allocating stack did (sessions with stacks only).
    StackLedger stacks;

    // Allocations of `bytes` in all, during which live bytes rose by up to `peak_rise`.
    void note_allocs(std::uint32_t request, std::uint64_t count, std::uint64_t bytes,
                     std::uint64_t peak_rise) {
        const std::uint64_t peak = live_bytes + peak_rise;
        live_bytes += bytes;
        live_bytes_set = true;
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
};

namespace {
// "INSERT INTO table(<c's columns>, stack) VALUES(...)": a report row with its block's
// allocating stack (version 3; 0 = none), bound as parameter c.size() + 1.
template <const auto& c> std::string insert_with_stack(std::string_view table) {
    std::string sql = "INSERT INTO " + std::string(table) + "(" + c.names() + ", stack) VALUES(";
    for (std::size_t i = 1; i <= c.size() + 1; ++i)
        sql.append(i == 1 ? "?" : ", ?").append(std::to_string(i));
    return sql + ")";
}
} // namespace

TraceWriter::TraceWriter(sqlite3* db, std::shared_ptr<StackSource> stacks)
    : db_(db), insert_batch_(db, kBatchInsertColumns.insert("INSERT INTO", "event_batches")),
      upsert_requests_(db,
                       kRequestBatchColumns.insert("INSERT OR REPLACE INTO", "request_batches")),
      upsert_session_(db, kSessionColumns.insert("INSERT OR REPLACE INTO", "sessions")),
      insert_corruption_(db, insert_with_stack<kCorruptionColumns>("corruptions")),
      insert_leak_(db, insert_with_stack<kLeakColumns>("leaks")),
      insert_outlived_(db, kOutlivedColumns.insert("INSERT INTO", "outlived")),
      upsert_meta_(db, kMetaColumns.insert("INSERT OR REPLACE INTO", "meta")),
      insert_node_(db, store::kStackNodeColumns.insert("INSERT OR REPLACE INTO", "stack_nodes")),
      insert_module_(db, store::kModuleColumns.insert("INSERT OR REPLACE INTO", "modules")),
      upsert_session_stack_(
          db, store::kSessionStackColumns.insert("INSERT OR REPLACE INTO", "session_stacks")),
      stacks_(stacks ? std::move(stacks) : std::make_shared<LocalStacks>()) {}

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

void TraceWriter::write_stack(StackId id) {
    begin();
    StackNode node;
    std::uint32_t module = 0;
    while (id != 0 && (id >= nodes_written_.size() || !nodes_written_[id]) &&
           stacks_->node(id, node, module)) {
        if (module != 0 && (module >= modules_written_.size() || !modules_written_[module])) {
            const ModuleInfo m = stacks_->module(module);
            constexpr const auto& c = store::kModuleColumns;
            insert_module_.bind(c.param("id"), module)
                .bind(c.param("path"), std::string_view(m.path))
                .bind(c.param("build_id"), std::string_view(m.build_id))
                .bind(c.param("load_address"), m.load_address)
                .bind(c.param("start"), m.start)
                .bind(c.param("size"), m.size)
                .bind(c.param("symbolized"), 0);
            insert_module_.run();
            if (module >= modules_written_.size()) modules_written_.resize(module + 1);
            modules_written_[module] = true;
        }
        constexpr const auto& c = store::kStackNodeColumns;
        insert_node_.bind(c.param("id"), id)
            .bind(c.param("parent"), node.parent)
            .bind(c.param("address"), node.address)
            .bind(c.param("module"), module);
        insert_node_.run();
        if (id >= nodes_written_.size()) nodes_written_.resize(std::size_t{id} + 1024);
        nodes_written_[id] = true;
        id = node.parent;
    }
}

// An Alloc's share of the session's stack ledger.
void TraceWriter::allocated(SessionState& s, const Event& e, StackId stack) {
    note_stack(stack);
    if (static_cast<AllocOrigin>(e.flags) == AllocOrigin::Noted)
        s.stacks.noted(stack, e.block, e.size);
    else
        s.stacks.allocated(stack, 1, e.size, e.scope == Scope::Request ? e.size : 0);
}

void TraceWriter::add(const Event& e, StackId stack) {
    const std::uint64_t seq = next_seq_++;
    SessionState& s = state(e.session);
    if (!s.dirty) mark_dirty(s);
    if (s.batch.empty()) {
        s.batch.start(e.time_ns, seq);
        s.batch_live_bytes = s.live_bytes;
        s.batch_live_bytes_set = s.live_bytes_set;
    }
    s.batch.add(e, seq, stack); // the encoder keeps only an Alloc's stack
    note_times(e.time_ns, e.time_ns);

    SessionRow& row = s.row;
    if (row.events++ == 0) s.first_seq = seq;
    s.last_seq = seq;
    switch (e.kind) {
    case EventKind::SessionOpen:
        row.open_ns = e.time_ns;
        s.live_bytes_set = true; // 0 from here on
        break;
    case EventKind::SessionClose:
        if (RequestRow* r = s.current_request(s.requests.empty() ? 0 : s.requests.back().number)) {
            r->end_ns = e.time_ns; // a request cut short by the end of the session
            r->live_bytes_at_end = s.live_bytes;
            s.in_request = false;
        }
        row.close_ns = e.time_ns;
        row.released_at_close_bytes = e.size;
        if (!s.stacks.empty()) s.stacks.closed();
        s.live_bytes = 0;
        s.live_bytes_set = true;
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
        s.live_bytes_set = true;
        if (RequestRow* r = s.current_request(e.request)) {
            r->end_ns = e.time_ns;
            r->released_bytes = e.size;
            r->live_bytes_at_end = s.live_bytes;
            s.in_request = false;
            s.growth.add(r->number, static_cast<double>(s.live_bytes));
            if (!s.stacks.empty()) s.stacks.request_ended(r->number);
            s.requests_dirty = true;
            if (s.requests.size() >= kRequestsPerBatch) write_requests(s);
        }
        break;
    case EventKind::Alloc:
        s.note_allocs(e.request, 1, e.size, e.size);
        if (stack != 0) allocated(s, e, stack);
        break;
    case EventKind::Release:
        s.live_bytes = saturating_sub(s.live_bytes, e.size);
        s.live_bytes_set = true;
        if (!s.stacks.empty()) s.stacks.released(e.block);
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

std::size_t TraceWriter::add_events(const Event* events, std::size_t count,
                                    const codec::StackFeed* stacks) {
    std::size_t i = 0;
    while (i < count) {
        const Event& e = events[i];
        const auto kind = static_cast<unsigned>(e.kind);
        if (kind < 1 || kind > kEventKindMax) break;
        SessionState& s = state(e.session);
        if (e.kind == EventKind::Alloc && !s.batch.empty()) {
            const codec::EventEncoder::AllocRun run = s.batch.add_allocs(
                events + i, count - i, e.session, next_seq_, kBatchBytes, kEventsPerBatch, stacks);
            if (run.count != 0) {
                // What add() keeps per event, for the whole run at once.
                next_seq_ += run.count;
                s.last_seq = next_seq_ - 1;
                s.row.events += run.count;
                s.note_allocs(e.request, run.count, run.bytes, run.peak_rise);
                if (run.stack != 0) {
                    note_stack(run.stack);
                    s.stacks.allocated(run.stack, run.count, run.bytes, run.request_bytes);
                }
                note_times(run.min_ns, s.batch.last_ns());
                if (s.batch.full(kBatchBytes, kEventsPerBatch)) write_batch(s);
                i += run.count;
                continue;
            }
        }
        add(e, stacks != nullptr ? stacks->stack_of(e.session, e.block) : 0);
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
    constexpr const auto& c = kBatchInsertColumns;
    insert_batch_.bind(c.param("session"), s.row.id)
        .bind(c.param("first_seq"), b.first_seq())
        .bind(c.param("last_seq"), b.last_seq())
        .bind(c.param("first_ns"), b.first_ns())
        .bind(c.param("last_ns"), b.last_ns())
        .bind(c.param("count"), b.count())
        .bind_blob(c.param("data"), b.data(), b.size());
    if (s.batch_live_bytes_set)
        insert_batch_.bind(c.param("live_bytes_at_start"), s.batch_live_bytes);
    else
        insert_batch_.bind_null(c.param("live_bytes_at_start"));
    insert_batch_.run();
    s.batch.start(0, 1); // empty (count 0) until the next event restarts it
}

void TraceWriter::write_requests(SessionState& s) {
    begin();
    codec::encode_requests(s.requests, scratch_);
    constexpr const auto& c = kRequestBatchColumns;
    upsert_requests_.bind(c.param("session"), s.row.id)
        .bind(c.param("batch"), s.request_batch)
        .bind(c.param("first_number"), s.requests.front().number)
        .bind(c.param("last_number"), s.requests.back().number)
        .bind(c.param("count"), static_cast<std::uint64_t>(s.requests.size()))
        .bind_blob(c.param("data"), scratch_.data(), scratch_.size());
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
    constexpr const auto& c = kSessionColumns;
    upsert_session_.bind(c.param("id"), r.id)
        .bind(c.param("peer"), std::string_view(r.peer))
        .bind(c.param("open_ns"), r.open_ns)
        .bind(c.param("close_ns"), r.close_ns)
        .bind(c.param("requests"), r.requests)
        .bind(c.param("peak_bytes"), r.peak_bytes)
        .bind(c.param("released_at_close_bytes"), r.released_at_close_bytes)
        .bind(c.param("growth_bytes_per_request"), s.growth.slope())
        .bind(c.param("corruptions"), r.corruptions)
        .bind(c.param("leaks"), r.leaks)
        .bind(c.param("leaked_bytes"), r.leaked_bytes)
        .bind(c.param("blocks"), r.blocks)
        .bind(c.param("events"), r.events)
        .bind(c.param("live_bytes"), s.live_bytes)
        .bind(c.param("first_seq"), s.first_seq)
        .bind(c.param("last_seq"), s.last_seq);
    upsert_session_.run();
}

// The columns corruptions, leaks and outlived blocks share.
template <const auto& c>
static store::Statement& bind_report(store::Statement& s, const ml_report& r) {
    const std::string_view message(r.message, strnlen(r.message, ML_MESSAGE_MAX));
    return s.bind(c.param("session"), r.session_id)
        .bind(c.param("request"), r.request)
        .bind(c.param("alloc_request"), r.alloc_request)
        .bind(c.param("block"), r.block_id)
        .bind(c.param("address"), r.address)
        .bind(c.param("size"), r.size)
        .bind(c.param("time_ns"), r.time_ns)
        .bind(c.param("message"), message);
}

void TraceWriter::write_session_stacks(SessionState& s) {
    s.stacks.changed([&](const StackTotals& t) {
        constexpr const auto& c = store::kSessionStackColumns;
        upsert_session_stack_.bind(c.param("session"), s.row.id)
            .bind(c.param("stack"), t.stack)
            .bind(c.param("blocks"), t.blocks)
            .bind(c.param("bytes_allocated"), t.bytes_allocated)
            .bind(c.param("live_bytes"), t.live_bytes)
            .bind(c.param("live_bytes_at_last_request_end"), t.live_bytes_at_last_request_end)
            .bind(c.param("max_live_bytes_at_request_end"), t.max_live_bytes_at_request_end)
            .bind(c.param("live_bytes_at_close"), t.live_bytes_at_close)
            .bind(c.param("growth_bytes_per_request"), t.growth_bytes_per_request)
            .bind(c.param("leaks"), t.leaks)
            .bind(c.param("leaked_bytes"), t.leaked_bytes)
            .bind(c.param("corruptions"), t.corruptions);
        upsert_session_stack_.run();
    });
}

void TraceWriter::add_report(const ml_report& report) {
    begin();
    if (report.alloc_stack_id != 0) {
        // The allocating stack of the reported block, counted against its stack (a report
        // comes before its session's close: the session is known).
        note_stack(report.alloc_stack_id);
        if (const auto it = sessions_.find(report.session_id); it != sessions_.end()) {
            SessionState& s = *it->second;
            if (report.kind == ML_REPORT_CORRUPTION)
                s.stacks.corrupted(report.alloc_stack_id);
            else if (report.kind == ML_REPORT_LEAK)
                s.stacks.leaked(report.alloc_stack_id, report.size);
            mark_dirty(s);
        }
    }
    if (report.kind == ML_REPORT_CORRUPTION) {
        constexpr const auto& c = kCorruptionColumns;
        const std::uint32_t tail = std::min<std::uint32_t>(report.tail_len, ML_TAIL_MAX);
        bind_report<c>(insert_corruption_, report)
            .bind(c.param("scope"), report.scope)
            .bind(c.param("alloc_notification"), report.alloc_notification)
            .bind(c.param("last_notification"), report.last_notification)
            .bind(c.param("first_offset"), report.first_offset)
            .bind(c.param("modified_count"), report.modified_count)
            .bind_blob(c.param("expected"), report.expected, tail)
            .bind_blob(c.param("found"), report.found, tail)
            .bind(c.param("fault_address"), report.fault_address)
            .bind(static_cast<int>(c.size()) + 1, report.alloc_stack_id);
        insert_corruption_.run();
    } else if (report.kind == ML_REPORT_LEAK) {
        bind_report<kLeakColumns>(insert_leak_, report)
            .bind(kLeakColumns.param("scope"), report.scope)
            .bind(kLeakColumns.param("alloc_notification"), report.alloc_notification)
            .bind(static_cast<int>(kLeakColumns.size()) + 1, report.alloc_stack_id);
        insert_leak_.run();
    } else if (report.kind == ML_REPORT_OUTLIVED) {
        bind_report<kOutlivedColumns>(insert_outlived_, report);
        insert_outlived_.run();
    }
}

void TraceWriter::commit(const Counters& counters, bool force) {
    const bool counters_changed = counters.dropped_events != last_counters_.dropped_events ||
                                  counters.skipped_lines != last_counters_.skipped_lines ||
                                  counters.malformed_lines != last_counters_.malformed_lines ||
                                  counters.complete != last_counters_.complete ||
                                  counters.meta != last_counters_.meta;
    if (!force && !counters_changed && dirty_.empty() && !in_transaction_) return;
    begin();
    for (SessionState* s : dirty_) {
        if (!s->batch.empty()) write_batch(*s);
        if (s->requests_dirty && !s->requests.empty()) write_requests(*s);
        if (s->row.id != 0) write_session(*s); // session 0 holds only Drop events
        if (!s->stacks.empty()) write_session_stacks(*s);
        s->dirty = false;
    }
    auto put = [&](std::string_view key, std::uint64_t value) {
        upsert_meta_.bind(kMetaColumns.param("key"), key).bind(kMetaColumns.param("value"), value);
        upsert_meta_.run();
    };
    put("events", next_seq_ - 1);
    put("dropped_events", counters.dropped_events);
    put("skipped_lines", counters.skipped_lines);
    put("malformed_lines", counters.malformed_lines);
    put("first_ns", first_ns_);
    put("last_ns", last_ns_);
    put("complete", counters.complete ? 1 : 0);
    for (const auto& [key, value] : counters.meta) {
        upsert_meta_.bind(kMetaColumns.param("key"), key).bind(kMetaColumns.param("value"), value);
        upsert_meta_.run();
    }
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
