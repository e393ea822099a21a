// `memlife sql TRACE "SELECT ..."`: the stored tables plus read-only eponymous virtual
// tables that decode the BLOBs (events, requests, blocks) and a temporary view (releases).
#include <algorithm>
#include <cstdio>
#include <deque>
#include <memory>
#include <variant>

#include "batch_cursor.hpp"
#include "block_tracker.hpp"
#include "memlife/data/reader.hpp"
#include "store.hpp"

namespace memlife::data {

namespace {

using Value = std::variant<std::monostate, std::int64_t, double, std::string>;
using Row = std::vector<Value>;

std::int64_t i64(std::uint64_t v) {
    return static_cast<std::int64_t>(v);
}
Value notification_value(Notification n) {
    if (n == Notification::None) return std::monostate{};
    return std::string(name(n));
}
Value scope_value(Scope s) {
    return std::string(s == Scope::Request ? "request" : "session");
}

class RowSource {
public:
    virtual ~RowSource() = default;
    virtual bool next(Row& row) = 0; // false at the end; throws on a corrupt file
};

struct TableSpec {
    const char* name;
    const char* schema; // CREATE TABLE x(...) for sqlite3_declare_vtab
    int session_column; // constraints `session = ?` are answered by the source
    std::unique_ptr<RowSource> (*open)(sqlite3* db, std::optional<std::uint64_t> session);
};

// ---- events ---------------------------------------------------------------------------
class EventSource : public RowSource {
public:
    EventSource(sqlite3* db, std::optional<std::uint64_t> session)
        : cursor_(session ? BatchCursor(db, *session)
                          : BatchCursor(store::Statement(
                                db, select_event_batches("ORDER BY session, first_seq")))) {}
    bool next(Row& row) override {
        Event e;
        std::uint64_t seq = 0;
        if (!cursor_.next(e, seq)) return false;
        row = {i64(seq),
               i64(e.time_ns),
               i64(e.session),
               std::int64_t{e.request},
               std::string(name(e.kind)),
               scope_value(e.scope),
               notification_value(e.notification),
               i64(e.block),
               i64(e.address),
               i64(e.size),
               std::int64_t{e.flags}};
        return true;
    }

private:
    BatchCursor cursor_;
};

// ---- requests -------------------------------------------------------------------------
class RequestSource : public RowSource {
public:
    RequestSource(sqlite3* db, std::optional<std::uint64_t> session)
        : stmt_(db, store::kRequestBatchColumns.select("request_batches") +
                        (session ? " WHERE session = ?" : "") + " ORDER BY session, batch") {
        if (session) stmt_.bind(1, *session);
    }
    bool next(Row& row) override {
        while (rows_.empty()) {
            if (!stmt_.step()) return false;
            std::vector<RequestRow> decoded;
            decode_request_batch(stmt_, decoded);
            rows_.assign(decoded.begin(), decoded.end());
        }
        const RequestRow r = rows_.front();
        rows_.pop_front();
        row = {i64(r.session), std::int64_t{r.number},   i64(r.begin_ns),
               i64(r.end_ns),  i64(r.live_bytes_at_end), i64(r.peak_bytes),
               i64(r.blocks),  i64(r.released_bytes),    i64(r.corruptions),
               i64(r.leaks)};
        return true;
    }

private:
    store::Statement stmt_;
    std::deque<RequestRow> rows_;
};

// ---- blocks (reconstructed per session) ------------------------------------------------
class BlockSource : public RowSource {
public:
    BlockSource(sqlite3* db, std::optional<std::uint64_t> session)
        : db_(db), sessions_(db, std::string("SELECT id FROM sessions ") +
                                     (session ? "WHERE id = ? " : "") + "ORDER BY id") {
        if (session) sessions_.bind(1, *session);
    }
    bool next(Row& row) override {
        while (rows_.empty()) {
            if (!sessions_.step()) return false;
            load(sessions_.u64(0));
        }
        const BlockRow b = rows_.front();
        rows_.pop_front();
        static constexpr const char* kOrigins[] = {"alloc_mem", "alloc_request", "noted",
                                                   "guarded"};
        static constexpr const char* kTails[] = {"intact", "corrupted", "not_checked"};
        const auto origin = static_cast<unsigned>(b.origin);
        row = {i64(b.session),
               i64(b.id),
               i64(b.address),
               i64(b.size),
               scope_value(b.scope),
               origin < 4 ? Value(std::string(kOrigins[origin])) : Value(std::int64_t{origin}),
               notification_value(b.notification),
               std::int64_t{b.request},
               i64(b.alloc_ns),
               b.release_ns == 0 ? Value() : Value(i64(b.release_ns)),
               std::string(kTails[static_cast<unsigned>(b.tail) % 3]),
               std::int64_t{b.leaked ? 1 : 0}};
        return true;
    }

private:
    void load(std::uint64_t session) {
        const std::function<bool(const BlockRow&)> keep = [&](const BlockRow& b) {
            rows_.push_back(b);
            return true;
        };
        BlockTracker tracker(keep);
        BatchCursor cursor(db_, session);
        Event e;
        std::uint64_t seq = 0;
        while (cursor.next(e, seq))
            tracker.add(e);
        tracker.finish();
    }
    sqlite3* db_;
    store::Statement sessions_;
    std::deque<BlockRow> rows_;
};

template <typename Source>
std::unique_ptr<RowSource> open_source(sqlite3* db, std::optional<std::uint64_t> session) {
    return std::make_unique<Source>(db, session);
}

const TableSpec kTables[] = {
    {"events",
     "CREATE TABLE x(seq INTEGER, time_ns INTEGER, session INTEGER, request INTEGER, kind TEXT, "
     "scope TEXT, notification TEXT, block INTEGER, address INTEGER, size INTEGER, flags "
     "INTEGER)",
     2, &open_source<EventSource>},
    {"requests",
     "CREATE TABLE x(session INTEGER, number INTEGER, begin_ns INTEGER, end_ns INTEGER, "
     "live_bytes_at_end INTEGER, peak_bytes INTEGER, blocks INTEGER, released_bytes INTEGER, "
     "corruptions INTEGER, leaks INTEGER)",
     0, &open_source<RequestSource>},
    {"blocks",
     "CREATE TABLE x(session INTEGER, id INTEGER, address INTEGER, size INTEGER, scope TEXT, "
     "origin TEXT, notification TEXT, request INTEGER, alloc_ns INTEGER, release_ns INTEGER, "
     "tail TEXT, leaked INTEGER)",
     0, &open_source<BlockSource>},
};

// Releases as a view: single blocks (noted frees) and whole scopes (request end, session
// close) in one place.
constexpr const char* kReleasesView =
    "CREATE TEMP VIEW releases AS SELECT seq, time_ns, session, request, "
    "CASE kind WHEN 'release' THEN 'block' WHEN 'request_end' THEN 'request' ELSE 'session' "
    "END AS what, CASE WHEN kind = 'release' THEN block END AS block, "
    "CASE WHEN kind = 'release' THEN address END AS address, "
    "CASE WHEN kind = 'release' THEN 1 ELSE block END AS blocks, size AS bytes "
    "FROM events WHERE kind IN ('release', 'request_end', 'session_close')";

// ---- the sqlite3_module glue ---------------------------------------------------------
struct VTable {
    sqlite3_vtab base{};
    const TableSpec* spec = nullptr;
    sqlite3* db = nullptr;
};

struct VCursor {
    sqlite3_vtab_cursor base{};
    std::unique_ptr<RowSource> source;
    Row row;
    bool eof = true;
    sqlite3_int64 rowid = 0;
};

int fail(sqlite3_vtab* vtab, const char* message, int code = SQLITE_ERROR) {
    sqlite3_free(vtab->zErrMsg);
    vtab->zErrMsg = sqlite3_mprintf("%s", message);
    return code;
}

int x_connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char**) {
    const auto* spec = static_cast<const TableSpec*>(aux);
    const int rc = sqlite3_declare_vtab(db, spec->schema);
    if (rc != SQLITE_OK) return rc;
    auto* t = new VTable;
    t->spec = spec;
    t->db = db;
    *out = &t->base;
    return SQLITE_OK;
}

int x_disconnect(sqlite3_vtab* vtab) {
    delete reinterpret_cast<VTable*>(vtab);
    return SQLITE_OK;
}

int x_best_index(sqlite3_vtab* vtab, sqlite3_index_info* info) {
    const auto* t = reinterpret_cast<VTable*>(vtab);
    info->idxNum = 0;
    info->estimatedCost = 1e9;
    for (int i = 0; i < info->nConstraint; ++i) {
        const auto& c = info->aConstraint[i];
        if (c.usable && c.iColumn == t->spec->session_column &&
            c.op == SQLITE_INDEX_CONSTRAINT_EQ) {
            info->idxNum = 1;
            info->aConstraintUsage[i].argvIndex = 1;
            info->aConstraintUsage[i].omit = 1;
            info->estimatedCost = 1e5;
            break;
        }
    }
    return SQLITE_OK;
}

int x_open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
    auto* c = new VCursor;
    *out = &c->base;
    return SQLITE_OK;
}

int x_close(sqlite3_vtab_cursor* cursor) {
    delete reinterpret_cast<VCursor*>(cursor);
    return SQLITE_OK;
}

int advance(VCursor* c) {
    try {
        c->eof = !c->source->next(c->row);
        ++c->rowid;
        return SQLITE_OK;
    } catch (const CorruptBatch& e) {
        c->eof = true;
        return fail(c->base.pVtab, e.what(), SQLITE_CORRUPT);
    } catch (const std::exception& e) {
        c->eof = true;
        return fail(c->base.pVtab, e.what());
    }
}

int x_filter(sqlite3_vtab_cursor* cursor, int idx, const char*, int argc, sqlite3_value** argv) {
    auto* c = reinterpret_cast<VCursor*>(cursor);
    const auto* t = reinterpret_cast<VTable*>(cursor->pVtab);
    std::optional<std::uint64_t> session;
    if (idx == 1 && argc == 1) {
        if (sqlite3_value_numeric_type(argv[0]) != SQLITE_INTEGER) {
            c->eof = true; // `session = 'abc'` matches nothing
            return SQLITE_OK;
        }
        session = static_cast<std::uint64_t>(sqlite3_value_int64(argv[0]));
    }
    try {
        c->source = t->spec->open(t->db, session);
    } catch (const std::exception& e) {
        c->eof = true;
        return fail(cursor->pVtab, e.what());
    }
    c->rowid = 0;
    return advance(c);
}

int x_next(sqlite3_vtab_cursor* cursor) {
    return advance(reinterpret_cast<VCursor*>(cursor));
}

int x_eof(sqlite3_vtab_cursor* cursor) {
    return reinterpret_cast<VCursor*>(cursor)->eof ? 1 : 0;
}

int x_column(sqlite3_vtab_cursor* cursor, sqlite3_context* ctx, int column) {
    const auto* c = reinterpret_cast<VCursor*>(cursor);
    if (column < 0 || static_cast<std::size_t>(column) >= c->row.size()) {
        sqlite3_result_null(ctx);
        return SQLITE_OK;
    }
    const Value& v = c->row[column];
    if (const auto* i = std::get_if<std::int64_t>(&v))
        sqlite3_result_int64(ctx, *i);
    else if (const auto* d = std::get_if<double>(&v))
        sqlite3_result_double(ctx, *d);
    else if (const auto* s = std::get_if<std::string>(&v))
        sqlite3_result_text(ctx, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
    else
        sqlite3_result_null(ctx);
    return SQLITE_OK;
}

int x_rowid(sqlite3_vtab_cursor* cursor, sqlite3_int64* rowid) {
    *rowid = reinterpret_cast<VCursor*>(cursor)->rowid;
    return SQLITE_OK;
}

const sqlite3_module kModule = {
    /* iVersion */ 0,
    /* xCreate: null makes the table eponymous-only */ nullptr,
    x_connect,
    x_best_index,
    x_disconnect,
    /* xDestroy */ nullptr,
    x_open,
    x_close,
    x_filter,
    x_next,
    x_eof,
    x_column,
    x_rowid,
    /* xUpdate: read-only */ nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

// "query stopped after 2.5 s"
std::string fmt_seconds(const char* what, std::chrono::milliseconds ms) {
    char text[64];
    std::snprintf(text, sizeof text, "%s%g s", what, static_cast<double>(ms.count()) / 1000);
    return text;
}

std::string hex(const void* data, int size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(static_cast<std::size_t>(size) * 2);
    const auto* p = static_cast<const unsigned char*>(data);
    for (int i = 0; i < size; ++i) {
        out.push_back(kDigits[p[i] >> 4]);
        out.push_back(kDigits[p[i] & 15]);
    }
    return out;
}

// Before the authorizer: the view is created and the eponymous tables are connected (their
// creation at first use would look like a schema write to it).
void register_trace_tables(sqlite3* db) {
    for (const TableSpec& spec : kTables) {
        if (std::find(store::kQueryTables.begin(), store::kQueryTables.end(), spec.name) ==
            store::kQueryTables.end())
            throw store::SqlError(std::string("virtual table ") + spec.name +
                                  " is not in store::kQueryTables");
        if (sqlite3_create_module_v2(db, spec.name, &kModule, const_cast<TableSpec*>(&spec),
                                     nullptr) != SQLITE_OK)
            throw store::SqlError(sqlite3_errmsg(db));
    }
    if (sqlite3_exec(db, kReleasesView, nullptr, nullptr, nullptr) != SQLITE_OK ||
        sqlite3_exec(db, "SELECT 1 FROM events, requests, blocks LIMIT 0", nullptr, nullptr,
                     nullptr) != SQLITE_OK)
        throw store::SqlError(sqlite3_errmsg(db));
}

} // namespace

void run_sql(const std::string& path, const std::string& sql,
             const std::function<void(const std::vector<std::string>& columns,
                                      const std::vector<std::optional<std::string>>& values)>& fn,
             const SqlOptions& options) {
    store::Database db = store::open_trace(path, register_trace_tables);
    store::QueryDeadline deadline(db.get(), options.time_limit);
    const auto sql_error = [&](const std::string& what) {
        return TraceError(TraceError::Kind::Usage, path, "SQL error: " + what);
    };
    const char* next = sql.c_str();
    const char* const end = next + sql.size();
    while (next < end) {
        sqlite3_stmt* raw = nullptr;
        const char* tail = nullptr;
        if (sqlite3_prepare_v2(db.get(), next, static_cast<int>(end - next), &raw, &tail) !=
            SQLITE_OK) {
            // The authorizer's reason, when it refused (SQLite words it "not authorized").
            const std::string message = sqlite3_errmsg(db.get());
            const bool refused =
                sqlite3_errcode(db.get()) == SQLITE_AUTH || message.rfind("not authorized", 0) == 0;
            throw sql_error(refused ? store::last_refusal() : message);
        }
        next = tail;
        if (raw == nullptr) continue; // whitespace or a comment
        std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
        if (sqlite3_stmt_readonly(raw) == 0)
            throw sql_error("only reading statements are allowed on a trace");
        const int columns = sqlite3_column_count(raw);
        std::vector<std::string> names;
        for (int i = 0; i < columns; ++i)
            names.emplace_back(sqlite3_column_name(raw, i));
        std::vector<std::optional<std::string>> values(columns);
        deadline.arm();
        int rc = SQLITE_ROW;
        while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
            for (int i = 0; i < columns; ++i) {
                switch (sqlite3_column_type(raw, i)) {
                case SQLITE_NULL:
                    values[i].reset();
                    break;
                case SQLITE_BLOB:
                    values[i] = hex(sqlite3_column_blob(raw, i), sqlite3_column_bytes(raw, i));
                    break;
                default:
                    values[i] =
                        std::string(reinterpret_cast<const char*>(sqlite3_column_text(raw, i)),
                                    sqlite3_column_bytes(raw, i));
                }
            }
            fn(names, values);
        }
        if (rc == SQLITE_DONE) continue;
        if (deadline.expired())
            throw sql_error(fmt_seconds("query stopped after ", deadline.limit()) +
                            " (the time limit)");
        const int code = sqlite3_errcode(db.get()) & 0xFF;
        // A virtual table's BLOB that does not decode carries its own reason; SQLite's
        // generic text means damaged pages.
        const std::string message = sqlite3_errmsg(db.get());
        if (code == SQLITE_CORRUPT && message != sqlite3_errstr(SQLITE_CORRUPT))
            store::throw_corrupt_trace(path, message);
        if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB || code == SQLITE_IOERR)
            store::throw_read_error(path, db.get(), "cannot read");
        throw sql_error(message);
    }
}

} // namespace memlife::data
