// SQLite plumbing shared by the recorder, the reader and run_sql: RAII handles, the
// schema and the checks that turn a bad file into one clear TraceError.
#pragma once

#include <sqlite3.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "memlife/data/trace.hpp"

namespace memlife::data::store {

inline constexpr std::uint32_t kApplicationId = 0x4D4C4946; // 'MLIF'
// 2: compact Alloc records in event batches (a version-1 trace reads unchanged).
// 3: call stacks: the stack tables, a stack column in corruptions and leaks, and stack ids
//    in event batch records (versions 1 and 2 read unchanged: they have no stacks).
inline constexpr std::uint32_t kSchemaVersion = 3;
// The first version with the stack tables.
inline constexpr std::uint32_t kStacksSchemaVersion = 3;

// The whole schema (documented in docs/trace-format.md) of the current version: version 1's
// tables, event_batches.live_bytes_at_start (added at the end of the table within version
// 2: a reader that names its columns reads the file either way; has_column() tells), the
// table `outlived` (added within version 2: has_table() tells) and version 3's stack tables
// and columns.
extern const char* const kSchemaSql;

// The columns a statement reads or writes, named once: the SQL text is built from the list,
// and code finds a column by its name at compile time (a misspelt name does not compile),
// so that a reader of the code sees which value goes where.
template <std::size_t N> class Columns {
public:
    template <class... Names>
    consteval explicit Columns(Names... names) : names_{std::string_view(names)...} {}

    // The 0-based result column of `name`, for Statement::u64() and the like.
    consteval int operator[](std::string_view name) const {
        for (std::size_t i = 0; i < N; ++i)
            if (names_[i] == name) return static_cast<int>(i);
        throw "no such column"; // not a constant expression: a compile error
    }
    // The 1-based parameter of `name` in insert(), for Statement::bind().
    consteval int param(std::string_view name) const { return (*this)[name] + 1; }
    static constexpr std::size_t size() { return N; }

    // "a, b, c"
    std::string names() const {
        std::string text;
        for (std::string_view name : names_)
            text.append(text.empty() ? "" : ", ").append(name);
        return text;
    }
    // "SELECT a, b, c FROM table"
    std::string select(std::string_view table) const {
        return "SELECT " + names() + " FROM " + std::string(table);
    }
    // "VERB table(a, b, c) VALUES(?1, ?2, ?3)", e.g. verb = "INSERT OR REPLACE INTO".
    std::string insert(std::string_view verb, std::string_view table) const {
        std::string text =
            std::string(verb) + " " + std::string(table) + "(" + names() + ") VALUES(";
        for (std::size_t i = 1; i <= N; ++i)
            text.append(i == 1 ? "?" : ", ?").append(std::to_string(i));
        return text + ")";
    }

private:
    std::array<std::string_view, N> names_;
};
template <class... Names> Columns(Names...) -> Columns<sizeof...(Names)>;

// The tables' columns (the order is free: statements name them).
inline constexpr Columns kMetaColumns{"key", "value"};
inline constexpr Columns kNotificationColumns{"id",      "name",        "flag",     "scope",
                                              "repeats", "conditional", "condition"};
inline constexpr Columns kSessionColumns{"id",
                                         "peer",
                                         "open_ns",
                                         "close_ns",
                                         "requests",
                                         "peak_bytes",
                                         "released_at_close_bytes",
                                         "growth_bytes_per_request",
                                         "corruptions",
                                         "leaks",
                                         "leaked_bytes",
                                         "blocks",
                                         "events",
                                         "live_bytes",
                                         "first_seq",
                                         "last_seq"};
inline constexpr Columns kRequestBatchColumns{"session",     "batch", "first_number",
                                              "last_number", "count", "data"};
// Every trace has these; live_bytes_at_start came later within version 2 (the reader
// checks for it).
inline constexpr Columns kEventBatchColumns{"id",       "session", "first_seq", "last_seq",
                                            "first_ns", "last_ns", "count",     "data"};
inline constexpr Columns kCorruptionColumns{
    "session",           "request", "alloc_request", "block",
    "address",           "size",    "scope",         "alloc_notification",
    "last_notification", "time_ns", "first_offset",  "modified_count",
    "expected",          "found",   "fault_address", "message"};
inline constexpr Columns kLeakColumns{"session", "request", "alloc_request", "block",
                                      "address", "size",    "scope",         "alloc_notification",
                                      "time_ns", "message"};
// Not in traces written before memlife record existed (has_table()).
inline constexpr Columns kOutlivedColumns{"session", "request", "alloc_request", "block",
                                          "address", "size",    "time_ns",       "message"};
inline constexpr Columns kModuleColumns{"id",    "path", "build_id",  "load_address",
                                        "start", "size", "symbolized"};
inline constexpr Columns kStackNodeColumns{"id", "parent", "address", "module"};
inline constexpr Columns kFrameColumns{"address", "inline_depth", "function", "file", "line"};
inline constexpr Columns kSessionStackColumns{"session",
                                              "stack",
                                              "blocks",
                                              "bytes_allocated",
                                              "live_bytes",
                                              "live_bytes_at_last_request_end",
                                              "max_live_bytes_at_request_end",
                                              "live_bytes_at_close",
                                              "growth_bytes_per_request",
                                              "leaks",
                                              "leaked_bytes",
                                              "corruptions"};

// An SQLite failure (the message is SQLite's); callers turn it into a TraceError.
struct SqlError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Statement {
public:
    Statement() = default;
    Statement(sqlite3* db, std::string_view sql); // throws SqlError
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(Statement&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }
    Statement& operator=(Statement&& o) noexcept {
        std::swap(stmt_, o.stmt_);
        return *this;
    }

    Statement& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(stmt_, i, v);
        return *this;
    }
    Statement& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
    Statement& bind(int i, std::uint32_t v) { return bind(i, static_cast<std::int64_t>(v)); }
    Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    Statement& bind(int i, double v) {
        sqlite3_bind_double(stmt_, i, v);
        return *this;
    }
    Statement& bind(int i, std::string_view v) {
        sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bind_null(int i) {
        sqlite3_bind_null(stmt_, i);
        return *this;
    }
    Statement& bind_blob(int i, const void* data, std::size_t size) {
        sqlite3_bind_blob(stmt_, i, size == 0 ? "" : data, static_cast<int>(size), SQLITE_STATIC);
        return *this;
    }
    // SQLITE_ROW -> true, SQLITE_DONE -> false (and reset), error -> throws.
    bool step();
    void run() {
        while (step()) {
        }
    }
    void reset() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }

    bool is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
    // SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL: what the file
    // holds, whatever the column's declared type (SQLite keeps text in an INTEGER column).
    int type(int c) const { return sqlite3_column_type(stmt_, c); }
    std::int64_t i64(int c) const { return sqlite3_column_int64(stmt_, c); }
    std::uint64_t u64(int c) const { return static_cast<std::uint64_t>(i64(c)); }
    std::uint32_t u32(int c) const { return static_cast<std::uint32_t>(i64(c)); }
    double real(int c) const { return sqlite3_column_double(stmt_, c); }
    std::string text(int c) const {
        const auto* p = sqlite3_column_text(stmt_, c);
        return p == nullptr
                   ? std::string()
                   : std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, c));
    }
    std::string blob(int c) const {
        const void* p = sqlite3_column_blob(stmt_, c);
        const int n = sqlite3_column_bytes(stmt_, c);
        return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
    }

private:
    sqlite3_stmt* stmt_ = nullptr;
};

class Database {
public:
    Database() = default;
    ~Database() { close(); }
    Database(Database&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
    Database& operator=(Database&& o) noexcept {
        std::swap(db_, o.db_);
        return *this;
    }
    sqlite3* get() const { return db_; }
    sqlite3** out() { return &db_; }
    void exec(const char* sql); // throws SqlError
    void close() {
        if (db_ != nullptr) sqlite3_close_v2(db_);
        db_ = nullptr;
    }

private:
    sqlite3* db_ = nullptr;
};

// The virtual tables and the view `memlife sql` registers (sql.cpp): the only tables besides
// the trace's own that a query may read.
inline constexpr std::array<std::string_view, 4> kQueryTables{"events", "requests", "blocks",
                                                              "releases"};

// Opens an existing trace read-only after checking, in this order: the file exists, is
// not empty, starts with the SQLite header, is not cut short, opens, carries memlife's
// application_id, a schema version this build knows, and the tables and indexes of that
// version and nothing else (validate::check_schema). Throws TraceError.
//
// The connection is defensive (a trace is a file anyone can edit): SQLITE_DBCONFIG_DEFENSIVE,
// no extension loading, no fts3 tokenizer registration, trusted_schema off, no triggers or
// views from the file, no ATTACH; and once `setup` has run (run_sql registers its virtual
// tables and view there) an authorizer lets statements read only the trace's tables, the
// virtual tables above and schema information, call any function but those that reach
// outside the database (fts3_tokenizer, load_extension, the rtree debugging functions), and
// nothing else: every kind of write, ATTACH, PRAGMAs that set something, transactions.
Database open_trace(const std::string& path, const std::function<void(sqlite3*)>& setup = {});

// Why the authorizer refused the last statement prepared on this thread ("" if it did
// not): e.g. "function fts3_tokenizer is not allowed on a trace".
const std::string& last_refusal();

// Interrupts any statement of `db` that runs longer than `limit` after arm() (SQLite's
// progress handler, checked every few thousand virtual machine steps, also inside the
// virtual tables' own reads). A zero limit never interrupts.
class QueryDeadline {
public:
    QueryDeadline(sqlite3* db, std::chrono::milliseconds limit);
    ~QueryDeadline();
    QueryDeadline(const QueryDeadline&) = delete;
    QueryDeadline& operator=(const QueryDeadline&) = delete;
    void arm() {
        expired_ = false;
        deadline_ = std::chrono::steady_clock::now() + limit_;
    }
    bool expired() const { return expired_; }
    std::chrono::milliseconds limit() const { return limit_; }

private:
    static int check(void* self);
    sqlite3* db_;
    std::chrono::milliseconds limit_;
    std::chrono::steady_clock::time_point deadline_;
    bool expired_ = false;
};

// Maps an SQLite failure while reading a trace to the TraceError kind it means.
[[noreturn]] void throw_read_error(const std::string& path, sqlite3* db, const std::string& what);
// A BLOB that does not decode (`reason` says which): the same error from the reader and
// from SQL over the virtual tables.
[[noreturn]] void throw_corrupt_trace(const std::string& path, const std::string& reason);

std::string meta(sqlite3* db, const char* key);
// True when `table` has `column` (a trace written before a column was added lacks it).
bool has_column(sqlite3* db, std::string_view table, std::string_view column);
// True when the trace has `table` (one written before a table was added lacks it).
bool has_table(sqlite3* db, std::string_view table);

} // namespace memlife::data::store
