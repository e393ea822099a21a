#include "store.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

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
  message            TEXT NOT NULL
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
  message            TEXT NOT NULL
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

Database open_trace(const std::string& path) {
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
    sqlite3_extended_result_codes(db.get(), 0);

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
    const std::int64_t tables =
        pragma("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('meta', "
               "'notifications', 'sessions', 'request_batches', 'event_batches', 'corruptions', "
               "'leaks')");
    if (tables != 7) throw TraceError(Kind::Foreign, path, "not a memlife trace (tables missing)");
    return db;
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
