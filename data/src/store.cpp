#include "store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "validate.hpp"

namespace memlife::data::store {

const char* const kSchemaSql = R"sql(
CREATE TABLE meta(
  key   TEXT PRIMARY KEY,
  value NOT NULL
);
CREATE TABLE notifications(
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  flag        INTEGER NOT NULL,
  scope       TEXT NOT NULL,
  repeats     INTEGER NOT NULL,
  conditional INTEGER NOT NULL,
  condition   TEXT NOT NULL
);
CREATE TABLE sessions(
  id                       INTEGER PRIMARY KEY,
  peer                     TEXT NOT NULL,
  open_ns                  INTEGER NOT NULL,
  close_ns                 INTEGER NOT NULL,
  requests                 INTEGER NOT NULL,
  peak_bytes               INTEGER NOT NULL,
  released_at_close_bytes  INTEGER NOT NULL,
  growth_bytes_per_request REAL NOT NULL,
  corruptions              INTEGER NOT NULL,
  leaks                    INTEGER NOT NULL,
  leaked_bytes             INTEGER NOT NULL,
  blocks                   INTEGER NOT NULL,
  events                   INTEGER NOT NULL,
  live_bytes               INTEGER NOT NULL,
  first_seq                INTEGER NOT NULL,
  last_seq                 INTEGER NOT NULL
);
CREATE TABLE request_batches(
  session      INTEGER NOT NULL,
  batch        INTEGER NOT NULL,
  first_number INTEGER NOT NULL,
  last_number  INTEGER NOT NULL,
  count        INTEGER NOT NULL,
  data         BLOB NOT NULL,
  PRIMARY KEY(session, batch)
);
CREATE TABLE event_batches(
  id                  INTEGER PRIMARY KEY,
  session             INTEGER NOT NULL,
  first_seq           INTEGER NOT NULL,
  last_seq            INTEGER NOT NULL,
  first_ns            INTEGER NOT NULL,
  last_ns             INTEGER NOT NULL,
  count               INTEGER NOT NULL,
  data                BLOB NOT NULL,
  live_bytes_at_start INTEGER
);
CREATE INDEX event_batches_by_session ON event_batches(session, first_seq);
CREATE INDEX event_batches_by_seq ON event_batches(first_seq);
CREATE TABLE corruptions(
  id                 INTEGER PRIMARY KEY,
  session            INTEGER NOT NULL,
  request            INTEGER NOT NULL,
  alloc_request      INTEGER NOT NULL,
  block              INTEGER NOT NULL,
  address            INTEGER NOT NULL,
  size               INTEGER NOT NULL,
  scope              INTEGER NOT NULL,
  alloc_notification INTEGER NOT NULL,
  last_notification  INTEGER NOT NULL,
  time_ns            INTEGER NOT NULL,
  first_offset       INTEGER NOT NULL,
  modified_count     INTEGER NOT NULL,
  expected           BLOB NOT NULL,
  found              BLOB NOT NULL,
  fault_address      INTEGER NOT NULL,
  message            TEXT NOT NULL,
  stack              INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX corruptions_by_session ON corruptions(session);
CREATE TABLE leaks(
  id                 INTEGER PRIMARY KEY,
  session            INTEGER NOT NULL,
  request            INTEGER NOT NULL,
  alloc_request      INTEGER NOT NULL,
  block              INTEGER NOT NULL,
  address            INTEGER NOT NULL,
  size               INTEGER NOT NULL,
  scope              INTEGER NOT NULL,
  alloc_notification INTEGER NOT NULL,
  time_ns            INTEGER NOT NULL,
  message            TEXT NOT NULL,
  stack              INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX leaks_by_session ON leaks(session);
CREATE TABLE outlived(
  id            INTEGER PRIMARY KEY,
  session       INTEGER NOT NULL,
  request       INTEGER NOT NULL,
  alloc_request INTEGER NOT NULL,
  block         INTEGER NOT NULL,
  address       INTEGER NOT NULL,
  size          INTEGER NOT NULL,
  time_ns       INTEGER NOT NULL,
  message       TEXT NOT NULL
);
CREATE INDEX outlived_by_session ON outlived(session);
CREATE TABLE modules(
  id           INTEGER PRIMARY KEY,
  path         TEXT NOT NULL,
  build_id     TEXT NOT NULL,
  load_address INTEGER NOT NULL,
  start        INTEGER NOT NULL,
  size         INTEGER NOT NULL,
  symbolized   INTEGER NOT NULL
);
CREATE TABLE stack_nodes(
  id      INTEGER PRIMARY KEY,
  parent  INTEGER NOT NULL,
  address INTEGER NOT NULL,
  module  INTEGER NOT NULL
);
CREATE TABLE frames(
  address      INTEGER NOT NULL,
  inline_depth INTEGER NOT NULL,
  function     TEXT NOT NULL,
  file         TEXT NOT NULL,
  line         INTEGER NOT NULL,
  PRIMARY KEY(address, inline_depth)
) WITHOUT ROWID;
CREATE TABLE session_stacks(
  session                        INTEGER NOT NULL,
  stack                          INTEGER NOT NULL,
  blocks                         INTEGER NOT NULL,
  bytes_allocated                INTEGER NOT NULL,
  live_bytes                     INTEGER NOT NULL,
  live_bytes_at_last_request_end INTEGER NOT NULL,
  max_live_bytes_at_request_end  INTEGER NOT NULL,
  live_bytes_at_close            INTEGER NOT NULL,
  growth_bytes_per_request       REAL NOT NULL,
  leaks                          INTEGER NOT NULL,
  leaked_bytes                   INTEGER NOT NULL,
  corruptions                    INTEGER NOT NULL,
  PRIMARY KEY(session, stack)
) WITHOUT ROWID;
CREATE INDEX session_stacks_by_stack ON session_stacks(stack);
)sql";

Statement::Statement(sqlite3* db, std::string_view sql) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt_, nullptr) != SQLITE_OK)
        throw SqlError(sqlite3_errmsg(db));
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    sqlite3_reset(stmt_);
    if (rc == SQLITE_DONE) return false;
    throw SqlError(sqlite3_errmsg(sqlite3_db_handle(stmt_)));
}

void Database::exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
        std::string message = error != nullptr ? error : sqlite3_errmsg(db_);
        sqlite3_free(error);
        throw SqlError(message);
    }
}

namespace {

std::uint32_t big_endian(const unsigned char* p, int bytes) {
    std::uint32_t v = 0;
    for (int i = 0; i < bytes; ++i)
        v = v << 8 | p[i];
    return v;
}

bool file_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

// Settings against a hostile file, before anything of it is read (docs/trace-format.md,
// "What a reader refuses").
void harden(sqlite3* db) {
    for (const int option :
         {SQLITE_DBCONFIG_DEFENSIVE, SQLITE_DBCONFIG_TRUSTED_SCHEMA, SQLITE_DBCONFIG_DQS_DML,
          SQLITE_DBCONFIG_DQS_DDL, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER,
          SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, SQLITE_DBCONFIG_ENABLE_TRIGGER,
          SQLITE_DBCONFIG_ENABLE_VIEW}) {
        const int on = option == SQLITE_DBCONFIG_DEFENSIVE ? 1 : 0;
        sqlite3_db_config(db, option, on, nullptr);
    }
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0); // the trace alone; no other files
    // Damaged b-tree cells are caught when read instead of being followed.
    sqlite3_exec(db, "PRAGMA cell_size_check = ON", nullptr, nullptr, nullptr);
}

thread_local std::string refusal; // why authorize() refused the last statement

// PRAGMAs that only describe the trace: without an argument, or with a table or index name.
bool describes_only(std::string_view pragma, const char* argument) {
    static constexpr std::string_view kWithName[] = {
        "table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list"};
    static constexpr std::string_view kBare[] = {
        "application_id", "user_version",   "schema_version", "data_version",    "page_size",
        "page_count",     "freelist_count", "encoding",       "integrity_check", "quick_check",
        "table_list",     "database_list",  "function_list",  "module_list",     "pragma_list",
        "collation_list", "compile_options"};
    const auto in = [&](const auto& list) {
        return std::find(std::begin(list), std::end(list), pragma) != std::end(list);
    };
    return argument == nullptr ? in(kBare) || in(kWithName) : in(kWithName);
}

// Functions that reach outside the database (a tokenizer's function pointer, a shared
// library) or decode a BLOB as an rtree node.
bool forbidden_function(std::string_view name) {
    static constexpr std::string_view kForbidden[] = {"fts3_tokenizer", "load_extension",
                                                      "rtreenode", "rtreedepth", "rtreecheck"};
    for (std::string_view f : kForbidden)
        if (name.size() == f.size() &&
            std::equal(name.begin(), name.end(), f.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == b;
            }))
            return true;
    return false;
}

// The virtual table modules SQLite itself provides (json_each, dbstat, fts3, ...).
const std::vector<std::string>& builtin_modules() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        Database db;
        if (sqlite3_open(":memory:", db.out()) != SQLITE_OK) return out;
        Statement s(db.get(), "SELECT name FROM pragma_module_list");
        while (s.step())
            out.push_back(s.text(0));
        return out;
    }();
    return names;
}

// SQLite asks about every table a statement reads: the trace's tables, the virtual tables
// and view of kQueryTables, the schema PRAGMAs' tables, and a query's own common table
// expressions (any other name; schema objects that are not memlife's were refused at open).
// Not SQLite's own virtual tables (json_each, dbstat, the fts tables, ...).
bool readable(std::string_view table) {
    if (validate::is_trace_table(table)) return true;
    if (std::find(kQueryTables.begin(), kQueryTables.end(), table) != kQueryTables.end())
        return true;
    if (table.rfind("pragma_", 0) == 0) return describes_only(table.substr(7), "");
    const auto& modules = builtin_modules();
    return std::find(modules.begin(), modules.end(), table) == modules.end();
}

int refuse(std::string why) {
    refusal = std::move(why);
    return SQLITE_DENY;
}

// The authorizer of every trace connection (after open_trace's setup).
int authorize(void*, int action, const char* a, const char* b, const char*, const char*) {
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_READ:
        if (a != nullptr && readable(a)) return SQLITE_OK;
        return refuse("table " + validate::printable(a != nullptr ? a : "") +
                      " is not part of a memlife trace");
    case SQLITE_FUNCTION:
        if (b != nullptr && forbidden_function(b))
            return refuse("function " + validate::printable(b) + " is not allowed on a trace");
        return SQLITE_OK;
    case SQLITE_PRAGMA:
        if (a != nullptr && describes_only(a, b)) return SQLITE_OK;
        return refuse("PRAGMA " + validate::printable(a != nullptr ? a : "") +
                      (b != nullptr ? " with a value" : "") + " is not allowed on a trace");
    default: // writes, schema changes, ATTACH, transactions, ...
        return refuse("only reading statements are allowed on a trace");
    }
}

} // namespace

void throw_corrupt_trace(const std::string& path, const std::string& reason) {
    throw TraceError(TraceError::Kind::Truncated, path,
                     "truncated or corrupt trace (" + reason + ")");
}

void throw_read_error(const std::string& path, sqlite3* db, const std::string& what) {
    const int code = db != nullptr ? sqlite3_errcode(db) & 0xFF : SQLITE_ERROR;
    const std::string detail = db != nullptr ? sqlite3_errmsg(db) : what;
    if (code == SQLITE_NOTADB)
        throw TraceError(TraceError::Kind::NotSqlite, path, "not an SQLite database");
    if (code == SQLITE_CORRUPT)
        throw TraceError(TraceError::Kind::Truncated, path, "truncated or corrupt SQLite file");
    if (code == SQLITE_CANTOPEN || code == SQLITE_PERM || code == SQLITE_READONLY ||
        code == SQLITE_IOERR)
        throw TraceError(TraceError::Kind::Io, path, "cannot read (" + detail + ")");
    throw TraceError(TraceError::Kind::Io, path, what.empty() ? detail : what + ": " + detail);
}

Database open_trace(const std::string& path, const std::function<void(sqlite3*)>& setup) {
    using Kind = TraceError::Kind;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            throw TraceError(Kind::Missing, path, "no such file");
        throw TraceError(Kind::Io, path, std::string("cannot read (") + std::strerror(errno) + ")");
    }
    if (S_ISDIR(st.st_mode)) throw TraceError(Kind::Io, path, "is a directory, not a trace file");
    if (st.st_size == 0) throw TraceError(Kind::Empty, path, "file is empty");

    unsigned char header[100] = {};
    {
        std::ifstream in(path, std::ios::binary);
        if (!in)
            throw TraceError(Kind::Io, path,
                             std::string("cannot read (") + std::strerror(errno) + ")");
        in.read(reinterpret_cast<char*>(header), sizeof header);
        const auto got = in.gcount();
        if (got < 16 || std::memcmp(header, "SQLite format 3", 16) != 0)
            throw TraceError(Kind::NotSqlite, path, "not an SQLite database");
        if (got < static_cast<std::streamsize>(sizeof header))
            throw TraceError(Kind::Truncated, path, "truncated or corrupt SQLite file");
    }
    // A file shorter than the page count in its header was cut short. With a WAL next to
    // it (a recording that was killed) the header may lag behind: SQLite checks that case.
    std::uint32_t page_size = big_endian(header + 16, 2);
    if (page_size == 1) page_size = 65536;
    const std::uint32_t pages = big_endian(header + 28, 4);
    const bool header_count_valid = big_endian(header + 24, 4) == big_endian(header + 92, 4);
    if (page_size < 512 || (page_size & (page_size - 1)) != 0)
        throw TraceError(Kind::Truncated, path, "truncated or corrupt SQLite file");
    if (header_count_valid && !file_exists(path + "-wal") &&
        static_cast<std::uint64_t>(st.st_size) < std::uint64_t{pages} * page_size)
        throw TraceError(Kind::Truncated, path, "truncated or corrupt SQLite file");

    Database db;
    if (sqlite3_open_v2(path.c_str(), db.out(), SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
        throw_read_error(path, db.get(), "cannot open");
    // Readers of a trace being recorded get SQLITE_BUSY only in brief moments (the recorder
    // folding its WAL back at the end, a WAL recovery): every reader (TraceReader,
    // StackReader, the schema checks below) waits them out.
    sqlite3_busy_timeout(db.get(), 2000);
    sqlite3_extended_result_codes(db.get(), 0);
    harden(db.get());

    auto pragma = [&](const char* sql) -> std::int64_t {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db.get(), sql, -1, &stmt, nullptr) != SQLITE_OK)
            throw_read_error(path, db.get(), "cannot read");
        const int rc = sqlite3_step(stmt);
        const std::int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
        sqlite3_finalize(stmt);
        if (rc != SQLITE_ROW) throw_read_error(path, db.get(), "cannot read");
        return v;
    };
    const auto application_id = static_cast<std::uint32_t>(pragma("PRAGMA application_id"));
    const auto version = static_cast<std::uint32_t>(pragma("PRAGMA user_version"));
    if (application_id != kApplicationId) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%08X", application_id);
        throw TraceError(Kind::Foreign, path,
                         std::string("not a memlife trace (application_id ") + hex + ")");
    }
    if (version > kSchemaVersion)
        throw TraceError(Kind::NewerSchema, path,
                         "trace schema version " + std::to_string(version) +
                             " is newer than this memlife (" + std::to_string(kSchemaVersion) +
                             ")");
    if (version == 0)
        throw TraceError(Kind::Foreign, path, "not a memlife trace (no schema version)");
    try {
        validate::check_schema(db.get(), path, version);
        // Eponymous virtual tables are created at their first use, which the authorizer
        // would see as a write to the schema: the schema pragmas' are created now.
        db.exec("SELECT 1 FROM pragma_table_info('meta'), pragma_table_xinfo('meta'), "
                "pragma_index_list('meta'), pragma_index_info(''), pragma_index_xinfo('') "
                "LIMIT 0");
        if (setup) setup(db.get());
    } catch (const SqlError& e) {
        throw_read_error(path, db.get(), e.what());
    }
    builtin_modules(); // computed once, outside the authorizer
    sqlite3_set_authorizer(db.get(), authorize, nullptr);
    return db;
}

const std::string& last_refusal() {
    return refusal;
}

QueryDeadline::QueryDeadline(sqlite3* db, std::chrono::milliseconds limit)
    : db_(db), limit_(limit) {
    if (limit_.count() > 0) sqlite3_progress_handler(db_, 4096, &QueryDeadline::check, this);
}

QueryDeadline::~QueryDeadline() {
    if (limit_.count() > 0) sqlite3_progress_handler(db_, 0, nullptr, nullptr);
}

int QueryDeadline::check(void* self) {
    auto* d = static_cast<QueryDeadline*>(self);
    if (!d->expired_ && std::chrono::steady_clock::now() > d->deadline_) d->expired_ = true;
    return d->expired_ ? 1 : 0;
}

std::string meta(sqlite3* db, const char* key) {
    Statement s(db, "SELECT value FROM meta WHERE key = ?");
    s.bind(1, std::string_view(key));
    return s.step() ? s.text(0) : std::string();
}

bool has_table(sqlite3* db, std::string_view table) {
    Statement s(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1");
    s.bind(1, table);
    const bool found = s.step();
    s.reset();
    return found;
}

bool has_column(sqlite3* db, std::string_view table, std::string_view column) {
    Statement s(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2");
    s.bind(1, table).bind(2, column);
    const bool found = s.step();
    s.reset();
    return found;
}

} // namespace memlife::data::store
