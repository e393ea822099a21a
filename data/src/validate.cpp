#include "validate.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <vector>

namespace memlife::data::validate {

namespace {

using Kind = TraceError::Kind;

// ---- 1. schema objects --------------------------------------------------------------------

// Parts of kSchemaSql that older traces lack: a trace of version `optional_up_to` or less
// may miss them ("table" or "table.column").
struct LaterAddition {
    std::string_view object;
    std::uint32_t optional_up_to;
};
// live_bytes_at_start and the outlived table were added within version 2, the call stacks
// in version 3 (docs/trace-format.md).
constexpr LaterAddition kLaterAdditions[] = {{"event_batches.live_bytes_at_start", 2},
                                             {"outlived", 2},
                                             {"modules", 2},
                                             {"stack_nodes", 2},
                                             {"frames", 2},
                                             {"session_stacks", 2},
                                             {"corruptions.stack", 2},
                                             {"leaks.stack", 2}};

bool optional_in(std::string_view object, std::uint32_t version) {
    for (const LaterAddition& a : kLaterAdditions)
        if (a.object == object && version <= a.optional_up_to) return true;
    return false;
}

struct IndexShape {
    std::string table;
    std::vector<std::string> keys; // key columns in order ("" for an expression)
    bool partial = false;
    bool operator==(const IndexShape&) const = default;
};

struct SchemaShape {
    std::map<std::string, std::vector<std::string>> tables; // name -> columns
    std::map<std::string, IndexShape> indexes;
};

std::vector<std::string> column_names(sqlite3* db, const std::string& table, bool& generated) {
    store::Statement s(db, "SELECT name, hidden FROM pragma_table_xinfo(?1)");
    s.bind(1, std::string_view(table));
    std::vector<std::string> names;
    generated = false;
    while (s.step()) {
        names.push_back(s.text(0));
        generated |= s.i64(1) != 0;
    }
    return names;
}

IndexShape index_shape(sqlite3* db, const std::string& table, const std::string& index) {
    IndexShape shape;
    shape.table = table;
    store::Statement keys(db, "SELECT name FROM pragma_index_info(?1) ORDER BY seqno");
    keys.bind(1, std::string_view(index));
    while (keys.step())
        shape.keys.push_back(keys.text(0));
    store::Statement list(db, "SELECT partial FROM pragma_index_list(?1) WHERE name = ?2");
    list.bind(1, std::string_view(table)).bind(2, std::string_view(index));
    while (list.step())
        shape.partial = list.i64(0) != 0;
    return shape;
}

// The shape of store::kSchemaSql, read back from an in-memory database (so that the
// expectation is the schema text itself, whatever version it describes).
const SchemaShape& expected_shape() {
    static const SchemaShape shape = [] {
        store::Database db;
        if (sqlite3_open(":memory:", db.out()) != SQLITE_OK) throw store::SqlError("out of memory");
        db.exec(store::kSchemaSql);
        SchemaShape out;
        store::Statement objects(db.get(), "SELECT type, name, tbl_name FROM sqlite_schema");
        while (objects.step()) {
            const std::string type = objects.text(0), name = objects.text(1);
            bool generated = false;
            if (type == "table")
                out.tables[name] = column_names(db.get(), name, generated);
            else if (type == "index")
                out.indexes[name] = index_shape(db.get(), objects.text(2), name);
        }
        return out;
    }();
    return shape;
}

[[noreturn]] void foreign(const std::string& path, const std::string& what) {
    throw TraceError(Kind::Foreign, path, "not a memlife trace (" + what + ")");
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
               return std::toupper(static_cast<unsigned char>(a)) == b;
           });
}

// ---- 2. summary ---------------------------------------------------------------------------

[[noreturn]] void damaged(const std::string& path, const std::string& what) {
    throw TraceError(Kind::Damaged, path, "damaged trace (" + what + ")");
}

constexpr double kTwoTo63 = 9223372036854775808.0;

// A count or time from meta: an INTEGER, or TEXT of decimal digits (time_resolution_ns is
// stored as text), 0 .. 2^63-1.
std::optional<std::uint64_t> meta_number(const store::Statement& s, int c) {
    if (s.type(c) == SQLITE_INTEGER) {
        if (s.i64(c) < 0) return std::nullopt;
        return s.u64(c);
    }
    if (s.type(c) != SQLITE_TEXT) return std::nullopt;
    const std::string text = s.text(c);
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty() ||
        v > static_cast<std::uint64_t>(INT64_MAX))
        return std::nullopt;
    return v;
}

} // namespace

TraceInfo check_meta(sqlite3* db, const std::string& path) {
    TraceInfo info;
    struct Number {
        const char* key;
        std::uint64_t* into;
        bool required;
        bool seen = false;
    };
    std::uint64_t complete = 1, time_resolution = 1;
    Number numbers[] = {
        {"events", &info.events, true},
        {"dropped_events", &info.dropped_events, true},
        {"skipped_lines", &info.skipped_lines, true},
        {"malformed_lines", &info.malformed_lines, true},
        {"first_ns", &info.first_ns, true},
        {"last_ns", &info.last_ns, true},
        {"complete", &complete, true},
        {"time_resolution_ns", &time_resolution, false}, // absent in older traces: 1
        // memlife record's (absent elsewhere: 0)
        {"processes", &info.processes, false},
        {"process_allocations", &info.process_allocations, false},
        {"process_allocated_bytes", &info.process_allocated_bytes, false},
    };
    store::Statement s(db, store::kMetaColumns.select("meta"));
    constexpr int kKey = store::kMetaColumns["key"], kValue = store::kMetaColumns["value"];
    while (s.step()) {
        const std::string key = s.text(kKey);
        if (key == "source" || key == "created" || key == "memlife_version" || key == "command") {
            // A recorded command line may be long; a label-sized bound on the others.
            const std::size_t limit = key == "command" ? kMaxCommandBytes : kMaxPeerBytes;
            if (s.type(kValue) != SQLITE_TEXT || s.text(kValue).size() > limit)
                damaged(path, "meta." + key + " is not a short text");
            if (key == "source") info.source = s.text(kValue);
            if (key == "created") info.created = s.text(kValue);
            if (key == "command") info.command = s.text(kValue);
            continue;
        }
        for (Number& n : numbers) {
            if (key != n.key) continue;
            const auto value = meta_number(s, kValue);
            if (!value)
                damaged(path,
                        "meta." + key + " is not a count (" + printable(s.text(kValue)) + ")");
            *n.into = *value;
            n.seen = true;
        }
    }
    for (const Number& n : numbers)
        if (n.required && !n.seen) damaged(path, std::string("meta lacks ") + n.key);
    if (complete > 1) damaged(path, "meta.complete is neither 0 nor 1");
    info.complete = complete == 1;
    // Whether an incomplete trace is still being recorded only the live marker says (rows::info).
    info.recording = info.complete ? RecordingState::Finished : RecordingState::Interrupted;
    if (time_resolution == 0) damaged(path, "meta.time_resolution_ns is 0");
    info.time_resolution_ns = time_resolution;
    if (info.first_ns > info.last_ns)
        damaged(path, "meta.first_ns " + std::to_string(info.first_ns) + " is after last_ns " +
                          std::to_string(info.last_ns));
    // Every stored event takes at least one byte of the file: a count above its size is
    // made up (and would size a reader's arrays).
    store::Statement pages(db, "PRAGMA page_count"), page_size(db, "PRAGMA page_size");
    const double bytes =
        (pages.step() ? pages.real(0) : 0) * (page_size.step() ? page_size.real(0) : 0);
    pages.reset();
    page_size.reset();
    if (static_cast<double>(info.events) > bytes)
        damaged(path,
                "meta.events " + std::to_string(info.events) + " is more than the file holds");
    return info;
}

namespace {

// The sessions table as a whole: its totals fit in 63 bits (so no sum of them wraps), and
// its sessions are those of the event batches (the batches' index is read, not their rows).
void check_sessions(sqlite3* db, const std::string& path, Summary& summary) {
    constexpr const char* kSummed[] = {"requests",    "peak_bytes", "released_at_close_bytes",
                                       "corruptions", "leaks",      "leaked_bytes",
                                       "blocks",      "events",     "live_bytes"};
    std::string sql = "SELECT count(*), count(*) FILTER (WHERE events > 0)";
    for (const char* column : kSummed)
        sql.append(", total(").append(column).append(")");
    store::Statement totals(db, sql + " FROM sessions");
    totals.step();
    summary.info.sessions = totals.u64(0);
    summary.sessions_with_events = totals.u64(1);
    for (std::size_t i = 0; i < std::size(kSummed); ++i) {
        const double total = totals.real(static_cast<int>(i) + 2);
        if (!(std::fabs(total) < kTwoTo63))
            damaged(path, std::string("the sessions' ") + kSummed[i] + " add up to 2^63 or more");
    }
    totals.reset();

    // Each batch's session has a row counting events, and starts where the row says.
    store::Statement batches(
        db, "SELECT b.session, b.first, s.id, s.first_seq, s.events FROM (SELECT session, "
            "min(first_seq) AS first FROM event_batches GROUP BY session) AS b LEFT JOIN "
            "sessions AS s ON s.id = b.session");
    std::uint64_t with_batches = 0;
    while (batches.step()) {
        if (batches.type(0) == SQLITE_INTEGER && batches.i64(0) == 0) continue; // Drop records
        const std::string session = batches.type(0) == SQLITE_INTEGER
                                        ? std::to_string(batches.u64(0))
                                        : printable(batches.text(0));
        if (batches.is_null(2))
            damaged(path, "session " + session + " has event batches but no sessions row");
        if (batches.type(4) != SQLITE_INTEGER || batches.i64(4) <= 0)
            damaged(path, "session " + session + " has event batches but counts no events");
        if (batches.type(1) != SQLITE_INTEGER || batches.type(3) != SQLITE_INTEGER ||
            batches.i64(1) != batches.i64(3))
            damaged(path, "session " + session + ": first_seq " + printable(batches.text(3)) +
                              ", but its first event batch starts at " +
                              printable(batches.text(1)));
        ++with_batches;
    }
    if (with_batches != summary.sessions_with_events) {
        store::Statement lost(db, "SELECT id, events FROM sessions WHERE events > 0 AND id NOT IN "
                                  "(SELECT session FROM event_batches) LIMIT 1");
        if (lost.step())
            damaged(path, "session " + printable(lost.text(0)) + " counts " +
                              printable(lost.text(1)) + " events but has no event batches");
        damaged(path, "the sessions and the event batches disagree");
    }
    store::Statement requests(db, "SELECT DISTINCT session FROM request_batches WHERE session "
                                  "NOT IN (SELECT id FROM sessions) LIMIT 1");
    if (requests.step())
        damaged(path, "session " + printable(requests.text(0)) +
                          " has request batches but no sessions row");
}

// ---- 4. event batches ---------------------------------------------------------------------

struct SessionBatches {
    std::int64_t session = 0;
    std::uint64_t events = 0, last_seq = 0, min_first_ns = UINT64_MAX, max_last_ns = 0;
};

void check_session_batches(sqlite3* db, const std::string& path, const SessionBatches& b) {
    if (b.session == 0) return; // Drop records
    constexpr store::Columns c{"events", "last_seq", "open_ns", "close_ns"};
    store::Statement s(db, c.select("sessions") + " WHERE id = ?1");
    s.bind(1, b.session);
    if (!s.step())
        damaged(path, "session " + std::to_string(static_cast<std::uint64_t>(b.session)) +
                          " has event batches but no sessions row");
    const std::string session = "session " + std::to_string(static_cast<std::uint64_t>(b.session));
    if (s.u64(c["events"]) != b.events)
        damaged(path, session + " counts " + std::to_string(s.i64(c["events"])) +
                          " events, its event batches hold " + std::to_string(b.events));
    if (s.u64(c["last_seq"]) != b.last_seq)
        damaged(path, session + ": last_seq " + std::to_string(s.i64(c["last_seq"])) +
                          ", but its last event batch ends at " + std::to_string(b.last_seq));
    for (const char* column : {"open_ns", "close_ns"}) {
        const std::uint64_t t =
            s.u64(column == std::string_view("open_ns") ? c["open_ns"] : c["close_ns"]);
        if (t != 0 && (t < b.min_first_ns || t > b.max_last_ns))
            damaged(path, session + ": " + column + " " + std::to_string(t) +
                              " is outside its events' times");
    }
    s.reset();
}

// The request batch rows: typed, counts their BLOBs can hold, and as many requests per
// session as its row counts.
void check_request_batches(sqlite3* db, const std::string& path) {
    store::Statement rows(db, "SELECT r.session, r.count, length(r.data), typeof(r.data) = "
                              "'blob', typeof(r.count) = 'integer', s.requests FROM "
                              "request_batches AS r JOIN sessions AS s ON s.id = r.session "
                              "ORDER BY r.session, r.batch");
    std::int64_t session = 0;
    std::uint64_t requests = 0, expected = 0;
    const auto session_done = [&] {
        if (requests != expected)
            damaged(path, "session " + std::to_string(static_cast<std::uint64_t>(session)) +
                              " counts " + std::to_string(expected) +
                              " requests, its request batches hold " + std::to_string(requests));
    };
    bool any = false;
    while (rows.step()) {
        if (any && rows.i64(0) != session) {
            session_done();
            requests = 0;
        }
        any = true;
        session = rows.i64(0);
        expected = rows.u64(5);
        // A record takes at least 9 bytes (nine varints).
        if (rows.i64(3) != 1 || rows.i64(4) != 1 || rows.i64(1) <= 0 ||
            rows.u64(1) > rows.u64(2) / 9)
            damaged(path, "a request batch of session " +
                              std::to_string(static_cast<std::uint64_t>(session)) + " claims " +
                              printable(rows.text(1)) + " requests in " +
                              std::to_string(rows.i64(2)) + " bytes");
        requests += rows.u64(1);
    }
    if (any) session_done();
    // Sessions with requests but no request batch at all.
    store::Statement lost(db, "SELECT id, requests FROM sessions WHERE requests > 0 AND id NOT IN "
                              "(SELECT session FROM request_batches) LIMIT 1");
    if (lost.step())
        damaged(path, "session " + lost.text(0) + " counts " + lost.text(1) +
                          " requests, its request batches hold 0");
}

} // namespace

std::string printable(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (const char ch : text.substr(0, 64)) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c < 0x7F) {
            out.push_back(ch);
        } else {
            out.append("\\x").push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    if (text.size() > 64) out.append("...");
    return out;
}

void check_schema(sqlite3* db, const std::string& path, std::uint32_t version) {
    const SchemaShape& expected = expected_shape();
    std::map<std::string, std::string> tables;                // name -> its CREATE statement
    std::vector<std::pair<std::string, std::string>> indexes; // name, table
    std::string unexpected;                                   // the first object not ours
    store::Statement objects(db, "SELECT type, name, tbl_name, sql FROM sqlite_schema");
    while (objects.step()) {
        const std::string type = objects.text(0), name = objects.text(1);
        if (type == "table" && expected.tables.count(name) != 0)
            tables[name] = objects.text(3);
        else if (type == "index" && expected.indexes.count(name) != 0 &&
                 expected.indexes.at(name).table == objects.text(2))
            indexes.emplace_back(name, objects.text(2));
        else if (unexpected.empty())
            unexpected = "unexpected " + printable(type) + " " + printable(name);
    }
    for (const auto& [name, columns] : expected.tables)
        if (tables.count(name) == 0 && !optional_in(name, version)) foreign(path, "tables missing");
    if (!unexpected.empty()) foreign(path, unexpected);
    for (const auto& [name, sql] : tables) {
        if (!starts_with_nocase(sql, "CREATE TABLE")) foreign(path, name + " is not a plain table");
        bool generated = false;
        const std::vector<std::string> have = column_names(db, name, generated);
        if (generated) foreign(path, name + " has generated or hidden columns");
        for (const std::string& column : expected.tables.at(name))
            if (std::find(have.begin(), have.end(), column) == have.end() &&
                !optional_in(name + "." + column, version))
                foreign(path, "column " + name + "." + column + " missing");
    }
    for (const auto& index : expected.indexes) {
        // Named, not a structured binding: clang 14 (Debian 12) cannot capture those.
        const std::string& name = index.first;
        const IndexShape& shape = index.second;
        const bool present = std::any_of(indexes.begin(), indexes.end(),
                                         [&](const auto& i) { return i.first == name; });
        if (!present) {
            if (tables.count(shape.table) != 0) foreign(path, "index " + name + " missing");
            continue;
        }
        if (!(index_shape(db, shape.table, name) == shape))
            foreign(path, "index " + name + " is not memlife's");
    }
}

bool is_trace_table(std::string_view name) {
    static constexpr std::string_view kSchemaTables[] = {
        "sqlite_schema", "sqlite_master", "sqlite_temp_schema", "sqlite_temp_master"};
    for (std::string_view t : kSchemaTables)
        if (t == name) return true;
    const auto& tables = expected_shape().tables;
    return tables.find(std::string(name)) != tables.end();
}

Summary check_summary(sqlite3* db, const std::string& path) {
    Summary summary;
    summary.info = check_meta(db, path);
    check_sessions(db, path, summary);
    return summary;
}

SessionRow session_row(const store::Statement& s, const TraceInfo& info, const std::string& path) {
    constexpr const auto& c = store::kSessionColumns;
    const std::string session = "session " + printable(s.text(c["id"]));
    // An INTEGER column's value within [0, max].
    const auto count = [&](int column, const char* name,
                           std::uint64_t max = INT64_MAX) -> std::uint64_t {
        if (s.type(column) != SQLITE_INTEGER)
            damaged(path, session + ": " + name + " is not an integer (" +
                              printable(s.text(column)) + ")");
        if (s.i64(column) < 0 || s.u64(column) > max)
            damaged(path, session + ": " + name + " " + std::to_string(s.i64(column)) +
                              " is out of range");
        return s.u64(column);
    };
    SessionRow r;
    // An id is any 64-bit value but 0 (stored as its two's-complement bit pattern).
    if (s.type(c["id"]) != SQLITE_INTEGER || s.i64(c["id"]) == 0)
        damaged(path, "a sessions row with id " + printable(s.text(c["id"])));
    r.id = s.u64(c["id"]);
    if (s.type(c["peer"]) != SQLITE_TEXT) damaged(path, session + ": peer is not text");
    r.peer = s.text(c["peer"]);
    if (r.peer.size() > kMaxPeerBytes)
        damaged(path, session + ": peer label of " + std::to_string(r.peer.size()) +
                          " bytes (a recorder writes at most " + std::to_string(kMaxPeerBytes) +
                          ")");
    r.events = count(c["events"], "events", info.events);
    r.open_ns = count(c["open_ns"], "open_ns");
    r.close_ns = count(c["close_ns"], "close_ns");
    if (r.close_ns != 0 && r.close_ns < r.open_ns)
        damaged(path, session + " closes before it opens (open_ns " + std::to_string(r.open_ns) +
                          ", close_ns " + std::to_string(r.close_ns) + ")");
    for (const std::uint64_t t : {r.open_ns, r.close_ns})
        if (t != 0 && (t < info.first_ns || t > info.last_ns))
            damaged(path, session + ": time " + std::to_string(t) + " is outside the trace's " +
                              std::to_string(info.first_ns) + ".." + std::to_string(info.last_ns));
    // Each of these is an event of the session (a RequestBegin, a Corruption, ...).
    r.requests = static_cast<std::uint32_t>(
        count(c["requests"], "requests", std::min<std::uint64_t>(r.events, UINT32_MAX)));
    r.corruptions = count(c["corruptions"], "corruptions", r.events);
    r.leaks = count(c["leaks"], "leaks", r.events);
    r.blocks = count(c["blocks"], "blocks", r.events);
    r.peak_bytes = count(c["peak_bytes"], "peak_bytes");
    r.released_at_close_bytes = count(c["released_at_close_bytes"], "released_at_close_bytes");
    r.leaked_bytes = count(c["leaked_bytes"], "leaked_bytes");
    r.live_bytes = count(c["live_bytes"], "live_bytes");
    const int growth = c["growth_bytes_per_request"];
    if ((s.type(growth) != SQLITE_FLOAT && s.type(growth) != SQLITE_INTEGER) ||
        !std::isfinite(s.real(growth)))
        damaged(path, session + ": growth_bytes_per_request is not a finite number");
    r.growth_bytes_per_request = s.real(growth);
    const std::uint64_t first_seq = count(c["first_seq"], "first_seq", info.events);
    const std::uint64_t last_seq = count(c["last_seq"], "last_seq", info.events);
    if (r.events != 0 &&
        (first_seq == 0 || last_seq < first_seq || last_seq - first_seq < r.events - 1))
        damaged(path, session + ": " + std::to_string(r.events) + " events cannot be numbered " +
                          std::to_string(first_seq) + ".." + std::to_string(last_seq));
    return r;
}

void check_batches(sqlite3* db, const std::string& path, const TraceInfo& info) {
    const bool has_live_start = store::has_column(db, "event_batches", "live_bytes_at_start");
    constexpr store::Columns c{"session", "first_seq", "last_seq", "first_ns",           "last_ns",
                               "count",   "bytes",     "is_blob",  "live_bytes_at_start"};
    store::Statement rows(
        db, std::string("SELECT session, first_seq, last_seq, first_ns, last_ns, count, "
                        "length(data), typeof(data) = 'blob', ") +
                (has_live_start ? "live_bytes_at_start" : "NULL") +
                " FROM event_batches ORDER BY session, first_seq");
    std::optional<SessionBatches> current;
    std::uint64_t events = 0, first_seq = UINT64_MAX, last_seq = 0, last_ns = 0;
    while (rows.step()) {
        const std::string batch = "an event batch of session " + printable(rows.text(c["session"]));
        if (rows.type(c["session"]) != SQLITE_INTEGER)
            damaged(path, batch + " has a session that is not an integer");
        for (const int column :
             {c["first_seq"], c["last_seq"], c["first_ns"], c["last_ns"], c["count"]})
            if (rows.type(column) != SQLITE_INTEGER || rows.i64(column) < 0)
                damaged(path, batch + " has a value that is not a count");
        const int start = c["live_bytes_at_start"];
        if (!rows.is_null(start) && (rows.type(start) != SQLITE_INTEGER || rows.i64(start) < 0))
            damaged(path, batch + ": live_bytes_at_start is not a count");
        const std::uint64_t count = rows.u64(c["count"]), first = rows.u64(c["first_seq"]),
                            last = rows.u64(c["last_seq"]), begin_ns = rows.u64(c["first_ns"]),
                            end_ns = rows.u64(c["last_ns"]);
        // Every event takes at least one byte; sequence numbers grow within a batch.
        if (rows.i64(c["is_blob"]) != 1 || count == 0 || count > rows.u64(c["bytes"]))
            damaged(path, batch + " claims " + std::to_string(count) + " events in " +
                              std::to_string(rows.i64(c["bytes"])) + " bytes");
        if (first == 0 || last < first || last - first < count - 1 || last > info.events)
            damaged(path, batch + " numbers its " + std::to_string(count) + " events " +
                              std::to_string(first) + ".." + std::to_string(last));
        if (end_ns < begin_ns || begin_ns < info.first_ns || end_ns > info.last_ns)
            damaged(path, batch + " has times " + std::to_string(begin_ns) + ".." +
                              std::to_string(end_ns) + " outside the trace's");
        const std::int64_t session = rows.i64(c["session"]);
        if (current && current->session != session) {
            check_session_batches(db, path, *current);
            current.reset();
        }
        if (!current) current = SessionBatches{session};
        current->events += count;
        current->last_seq = std::max(current->last_seq, last);
        current->min_first_ns = std::min(current->min_first_ns, begin_ns);
        current->max_last_ns = std::max(current->max_last_ns, end_ns);
        events += count;
        first_seq = std::min(first_seq, first);
        last_seq = std::max(last_seq, last);
        last_ns = std::max(last_ns, end_ns);
    }
    if (current) check_session_batches(db, path, *current);
    if (events != info.events)
        damaged(path, "meta.events is " + std::to_string(info.events) +
                          ", the event batches hold " + std::to_string(events));
    // The writer numbers every stored event, 1, 2, 3, ... without gaps.
    if (events != 0 && (first_seq != 1 || last_seq != events))
        damaged(path, "the event batches number their events " + std::to_string(first_seq) + ".." +
                          std::to_string(last_seq) + ", not 1.." + std::to_string(events));
    if (events != 0 && last_ns != info.last_ns)
        damaged(path, "meta.last_ns is " + std::to_string(info.last_ns) +
                          ", the last event is at " + std::to_string(last_ns));
    check_request_batches(db, path);
}

} // namespace memlife::data::validate
