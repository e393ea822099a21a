// Hostile traces (issue 18, classes 3-5): a recorded trace changed with SQLite the way an
// attacker or a broken tool would, and what the reader makes of it. Every change is either
// refused with one line naming the file and the problem, or read without harm; an
// incomplete recording is told apart from a damaged one; SQL on a trace reaches nothing but
// the trace; and a recorder's write failure reaches the program at once.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>

#include "memlife/data/reader.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/memlife.h"
#include "memlife/session.hpp"
#include "memlife/trace.h"
#include "temp_dir.hpp"

using namespace memlife;
using namespace memlife::data;
using Kind = TraceError::Kind;
using memlife::test::TempDir;

namespace {

void exec(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error != nullptr ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Session `id` of a small keep-alive workload: a few requests with allocations of both
// scopes, and a noted block leaked at the close of every third session.
void run_session(Runtime& rt, std::uint64_t id) {
    Session* s = rt.open("10.0.0." + std::to_string(id) + ":4000", id);
    static int noted;
    for (int r = 0; r < 4 + static_cast<int>(id % 3); ++r) {
        s->request_begin();
        s->set_notification(Notification::UrlMap);
        s->alloc_mem(32 + static_cast<std::uint32_t>(r));
        s->alloc_request(100);
        s->request_end();
    }
    if (id % 3 == 0) s->note_alloc(&noted, sizeof noted, Scope::Session);
    rt.close(s);
}

class HostileTrace : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir;
        Recorder recorder(dir_->file("base.mltrace"));
        Runtime rt(Config{}, &recorder);
        for (std::uint64_t id = 1; id <= 6; ++id)
            run_session(rt, id);
        recorder.commit();
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    static std::string base() { return dir_->file("base.mltrace"); }

    // A copy of the recorded trace with `sql` applied.
    std::string changed(const std::string& sql) {
        const std::string path = dir_->file("hostile-" + std::to_string(++copies_) + ".mltrace");
        std::filesystem::copy_file(base(), path);
        exec(path, sql);
        return path;
    }

    static TempDir* dir_;
    static inline int copies_ = 0;
};
TempDir* HostileTrace::dir_ = nullptr;

// Where a reader meets the problem: opening the trace, reading its sessions, verify() (the
// event batch rows), or decoding the events.
enum class Stage { Open, Rows, Verify, Decode };

// Reads the trace at `path` through every stage and returns the TraceError of the first
// that fails ("" when none does).
std::string first_error(const std::string& path, Stage& where, Kind& kind) {
    where = Stage::Open;
    try {
        TraceReader reader(path);
        where = Stage::Rows;
        for (const SessionRow& s : reader.sessions())
            reader.requests(s.id);
        where = Stage::Verify;
        reader.verify();
        where = Stage::Decode;
        reader.for_each_event([](const Event&) { return true; });
    } catch (const TraceError& e) {
        kind = e.kind();
        return e.what();
    }
    return {};
}

struct Refusal {
    std::string sql;
    Stage stage;
    Kind kind;
    std::string reason; // what follows "PATH: "
};

void expect_refusals(const std::vector<Refusal>& cases,
                     const std::function<std::string(const std::string&)>& make) {
    for (const Refusal& c : cases) {
        SCOPED_TRACE(c.sql);
        const std::string path = make(c.sql);
        Stage stage{};
        Kind kind{};
        const std::string what = first_error(path, stage, kind);
        EXPECT_EQ(what, path + ": " + c.reason);
        EXPECT_EQ(stage, c.stage);
        EXPECT_EQ(kind, c.kind);
        EXPECT_EQ(what.find('\n'), std::string::npos);
    }
}

} // namespace

// The recorded trace itself passes every check.
TEST_F(HostileTrace, TheRecordedTraceIsCleanAndComplete) {
    Stage stage{};
    Kind kind{};
    EXPECT_EQ(first_error(base(), stage, kind), "");
    const TraceReader reader(base());
    EXPECT_TRUE(reader.info().complete);
    EXPECT_EQ(completeness_note(reader.info()), "");
}

// Class 3: a trace whose writer did not finish is "incomplete", not clean and not damaged.
TEST_F(HostileTrace, AnUnfinishedRecordingIsIncomplete) {
    const std::string path = changed("UPDATE meta SET value = 0 WHERE key = 'complete'");
    const TraceReader reader(path);
    EXPECT_FALSE(reader.info().complete);
    EXPECT_EQ(completeness_note(reader.info()).rfind("incomplete recording (", 0), 0u)
        << completeness_note(reader.info());
    EXPECT_NO_THROW(reader.verify()); // complete or not, the trace is consistent
}

// Class 3: summary values are checked against their types, their ranges and each other.
TEST_F(HostileTrace, SummaryValuesAreCheckedAgainstTheirTypesAndEachOther) {
    const Kind D = Kind::Damaged;
    expect_refusals(
        {
            {"UPDATE sessions SET requests = -1 WHERE id = 2", Stage::Rows, D,
             "damaged trace (session 2: requests -1 is out of range)"},
            {"UPDATE sessions SET requests = 'many' WHERE id = 2", Stage::Rows, D,
             "damaged trace (session 2: requests is not an integer (many))"},
            {"UPDATE sessions SET corruptions = 2.5 WHERE id = 3", Stage::Rows, D,
             "damaged trace (session 3: corruptions is not an integer (2.5))"},
            {"UPDATE sessions SET leaks = x'ff' WHERE id = 3", Stage::Rows, D,
             "damaged trace (session 3: leaks is not an integer (\\xff))"},
            {"UPDATE sessions SET requests = 4000000000 WHERE id = 2", Stage::Rows, D,
             "damaged trace (session 2: requests 4000000000 is out of range)"},
            {"UPDATE sessions SET growth_bytes_per_request = 9e999 WHERE id = 2", Stage::Rows, D,
             "damaged trace (session 2: growth_bytes_per_request is not a finite number)"},
            // Totals that would wrap a 64-bit sum.
            {"UPDATE sessions SET leaked_bytes = 9223372036854775807", Stage::Open, D,
             "damaged trace (the sessions' leaked_bytes add up to 2^63 or more)"},
            {"UPDATE sessions SET requests = 4611686018427387904 WHERE id < 3", Stage::Open, D,
             "damaged trace (the sessions' requests add up to 2^63 or more)"},
            // The sessions table against the event batches.
            {"DELETE FROM sessions", Stage::Open, D,
             "damaged trace (session 1 has event batches but no sessions row)"},
            {"DELETE FROM sessions WHERE id = 4", Stage::Open, D,
             "damaged trace (session 4 has event batches but no sessions row)"},
            {"DELETE FROM event_batches WHERE session = 5", Stage::Open, D,
             "damaged trace (session 5 counts 32 events but has no event batches)"},
            {"UPDATE sessions SET events = 0 WHERE id = 5", Stage::Open, D,
             "damaged trace (session 5 has event batches but counts no events)"},
            {"UPDATE sessions SET first_seq = first_seq + 1 WHERE id = 2", Stage::Open, D,
             "damaged trace (session 2: first_seq 29, but its first event batch starts at 28)"},
            {"UPDATE event_batches SET first_seq = first_seq + 1000 WHERE session = 2", Stage::Open,
             D,
             "damaged trace (session 2: first_seq 28, but its first event batch starts at 1028)"},
            {"UPDATE sessions SET events = events + 1 WHERE id = 2", Stage::Rows, D,
             "damaged trace (session 2: 33 events cannot be numbered 28..59)"},
            {"UPDATE sessions SET events = events - 1 WHERE id = 2", Stage::Verify, D,
             "damaged trace (session 2 counts 31 events, its event batches hold 32)"},
            {"UPDATE sessions SET last_seq = last_seq + 1 WHERE id = 2", Stage::Verify, D,
             "damaged trace (session 2: last_seq 60, but its last event batch ends at 59)"},
            {"UPDATE sessions SET requests = requests - 1 WHERE id = 2", Stage::Verify, D,
             "damaged trace (session 2 counts 5 requests, its request batches hold 6)"},
            {"DELETE FROM request_batches WHERE session = 3", Stage::Verify, D,
             "damaged trace (session 3 counts 4 requests, its request batches hold 0)"},
            {"UPDATE request_batches SET session = 99 WHERE session = 3", Stage::Open, D,
             "damaged trace (session 99 has request batches but no sessions row)"},
            // Event batch rows.
            {"UPDATE event_batches SET count = 100000, data = zeroblob(50) WHERE session = 2",
             Stage::Verify, D,
             "damaged trace (an event batch of session 2 claims 100000 events in 50 bytes)"},
            {"UPDATE event_batches SET count = 'x' WHERE session = 2", Stage::Verify, D,
             "damaged trace (an event batch of session 2 has a value that is not a count)"},
            {"UPDATE event_batches SET data = 'text' WHERE session = 2", Stage::Verify, D,
             "damaged trace (an event batch of session 2 claims 32 events in 4 bytes)"},
            {"UPDATE event_batches SET last_seq = 1000000 WHERE session = 6", Stage::Verify, D,
             "damaged trace (an event batch of session 6 numbers its 24 events 143..1000000)"},
            // A BLOB replaced by random bytes of the same length does not decode.
            {"UPDATE event_batches SET data = randomblob(length(data)) WHERE session = 4",
             Stage::Decode, Kind::Truncated,
             "truncated or corrupt trace (event batch of session 4 does not decode)"},
            // The meta table.
            {"UPDATE meta SET value = 'lots' WHERE key = 'events'", Stage::Open, D,
             "damaged trace (meta.events is not a count (lots))"},
            {"UPDATE meta SET value = -1 WHERE key = 'dropped_events'", Stage::Open, D,
             "damaged trace (meta.dropped_events is not a count (-1))"},
            {"DELETE FROM meta WHERE key = 'complete'", Stage::Open, D,
             "damaged trace (meta lacks complete)"},
            {"UPDATE meta SET value = 2 WHERE key = 'complete'", Stage::Open, D,
             "damaged trace (meta.complete is neither 0 nor 1)"},
            {"UPDATE meta SET value = 4000000000000 WHERE key = 'events'", Stage::Open, D,
             "damaged trace (meta.events 4000000000000 is more than the file holds)"},
            {"UPDATE meta SET value = value + 1 WHERE key = 'events'", Stage::Verify, D,
             "damaged trace (meta.events is 167, the event batches hold 166)"},
        },
        [&](const std::string& sql) { return changed(sql); });
}

// Class 4: values that would make a reader allocate or draw in proportion to them.
TEST_F(HostileTrace, ImpossibleTimesAndLabelsAreRefused) {
    const Kind D = Kind::Damaged;
    const auto meta = [&](const char* key) {
        std::string v;
        run_sql(base(), std::string("SELECT value FROM meta WHERE key = '") + key + "'",
                [&](const auto&, const auto& values) { v = *values[0]; });
        return v;
    };
    const std::string first_ns = meta("first_ns"), last_ns = meta("last_ns");
    expect_refusals(
        {
            {"UPDATE sessions SET open_ns = 9000000000000000000, close_ns = 1 WHERE id = 1",
             Stage::Rows, D,
             "damaged trace (session 1 closes before it opens (open_ns 9000000000000000000, "
             "close_ns 1))"},
            {"UPDATE sessions SET open_ns = -5 WHERE id = 1", Stage::Rows, D,
             "damaged trace (session 1: open_ns -5 is out of range)"},
            {"UPDATE sessions SET peer = printf('%.*c', 102400, 'x') WHERE id = 2", Stage::Rows, D,
             "damaged trace (session 2: peer label of 102400 bytes (a recorder writes at most "
             "1024))"},
            {"UPDATE sessions SET peer = zeroblob(10) WHERE id = 2", Stage::Rows, D,
             "damaged trace (session 2: peer is not text)"},
            {"UPDATE meta SET value = printf('%.*c', 5000, 's') WHERE key = 'source'", Stage::Open,
             D, "damaged trace (meta.source is not a short text)"},
            {"UPDATE meta SET value = 9000000000000000000 WHERE key = 'last_ns'", Stage::Verify, D,
             "damaged trace (meta.last_ns is 9000000000000000000, the last event is at " + last_ns +
                 ")"},
            {"UPDATE sessions SET close_ns = 9000000000000000000 WHERE id = 2", Stage::Rows, D,
             "damaged trace (session 2: time 9000000000000000000 is outside the trace's " +
                 first_ns + ".." + last_ns + ")"},
            {"UPDATE meta SET value = 1 WHERE key = 'last_ns'", Stage::Open, D,
             "damaged trace (meta.first_ns " + first_ns + " is after last_ns 1)"},
        },
        [&](const std::string& sql) { return changed(sql); });
}

// Class 4: the number of events a view gets as its row count is never more than the trace
// can hold.
TEST_F(HostileTrace, EventCountsAreBoundedByTheTrace) {
    const std::string path = changed("UPDATE event_batches SET count = 2000000000 WHERE id = 1");
    const TraceReader reader(path);
    try {
        reader.event_count();
        ADD_FAILURE() << "counted";
    } catch (const TraceError& e) {
        EXPECT_EQ(e.kind(), Kind::Damaged);
        EXPECT_EQ(std::string(e.what()), path + ": damaged trace (the event batches claim more "
                                                "events than the trace's 166)");
    }
    EXPECT_EQ(TraceReader(base()).event_count(), 166u);
}

// Class 5: a trace holds memlife's tables and indexes and nothing else. Anything added
// (a view or trigger that would run code, an fts3 table whose tokenizer is a pointer, a
// generated column, an index on an expression) is refused when the trace is opened, by the
// reader and by SQL alike; a column added at the end of a table is allowed (the format
// allows that within a version).
TEST_F(HostileTrace, UnknownSchemaObjectsAreRefusedAtOpen) {
    const Kind F = Kind::Foreign;
    const std::vector<Refusal> cases{
        {"CREATE VIEW v AS SELECT fts3_tokenizer('simple')", Stage::Open, F,
         "not a memlife trace (unexpected view v)"},
        {"CREATE TRIGGER t AFTER INSERT ON meta BEGIN SELECT 1; END", Stage::Open, F,
         "not a memlife trace (unexpected trigger t)"},
        {"CREATE VIRTUAL TABLE f USING fts3(x)", Stage::Open, F,
         "not a memlife trace (unexpected table f)"},
        {"CREATE TABLE extra(x)", Stage::Open, F, "not a memlife trace (unexpected table extra)"},
        {"CREATE TABLE \"two\nlines\"(x)", Stage::Open, F,
         "not a memlife trace (unexpected table two\\x0alines)"},
        {"CREATE INDEX by_peer ON sessions(peer)", Stage::Open, F,
         "not a memlife trace (unexpected index by_peer)"},
        {"DROP INDEX event_batches_by_session; CREATE INDEX event_batches_by_session ON "
         "event_batches(session, abs(first_seq))",
         Stage::Open, F, "not a memlife trace (index event_batches_by_session is not memlife's)"},
        {"DROP INDEX event_batches_by_seq; CREATE INDEX event_batches_by_seq ON "
         "event_batches(first_seq) WHERE session > 1",
         Stage::Open, F, "not a memlife trace (index event_batches_by_seq is not memlife's)"},
        {"DROP INDEX leaks_by_session", Stage::Open, F,
         "not a memlife trace (index leaks_by_session missing)"},
        {"ALTER TABLE sessions ADD COLUMN g GENERATED ALWAYS AS (peer || 'x')", Stage::Open, F,
         "not a memlife trace (sessions has generated or hidden columns)"},
        {"ALTER TABLE sessions RENAME COLUMN peer TO label", Stage::Open, F,
         "not a memlife trace (column sessions.peer missing)"},
        {"DROP TABLE leaks", Stage::Open, F, "not a memlife trace (tables missing)"},
        {"DROP TABLE leaks; CREATE VIRTUAL TABLE leaks USING fts4(message)", Stage::Open, F,
         "not a memlife trace (unexpected table leaks_content)"},
        {"ANALYZE", Stage::Open, F, "not a memlife trace (unexpected table sqlite_stat1)"},
    };
    expect_refusals(cases, [&](const std::string& sql) { return changed(sql); });
    // SQL opens the trace the same way.
    for (const Refusal& c : cases) {
        SCOPED_TRACE(c.sql);
        const std::string path = changed(c.sql);
        try {
            run_sql(path, "SELECT 1", [](const auto&, const auto&) {});
            ADD_FAILURE() << "SQL ran on " << path;
        } catch (const TraceError& e) {
            EXPECT_EQ(std::string(e.what()), path + ": " + c.reason);
        }
    }
    // A plain column added at the end of a table is not a reason to refuse.
    const std::string wider = changed("ALTER TABLE sessions ADD COLUMN note TEXT");
    Stage stage{};
    Kind kind{};
    EXPECT_EQ(first_error(wider, stage, kind), "");
}

namespace {

// Runs `sql` on the trace; "" or the error's reason (after "PATH: SQL error: ").
std::string sql_outcome(const std::string& path, const std::string& sql,
                        std::vector<std::vector<std::string>>* rows = nullptr,
                        SqlOptions options = {}) {
    try {
        run_sql(
            path, sql,
            [&](const auto&, const auto& values) {
                if (rows == nullptr) return;
                auto& row = rows->emplace_back();
                for (const auto& v : values)
                    row.push_back(v.value_or("NULL"));
            },
            options);
    } catch (const TraceError& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.find('\n'), std::string::npos) << what;
        const std::string prefix = path + ": SQL error: ";
        EXPECT_EQ(what.rfind(prefix, 0), 0u) << what;
        EXPECT_EQ(e.kind(), Kind::Usage) << what;
        return what.substr(std::min(what.size(), prefix.size()));
    }
    return {};
}

} // namespace

// Class 5: SQL on a trace reads the trace and nothing else: no function that reaches
// outside the database, no SQLite virtual table that is not memlife's, no write of any
// kind, no PRAGMA that sets something; the file is byte for byte the same afterwards.
TEST_F(HostileTrace, SqlReachesNothingButTheTrace) {
    const std::string path = changed("SELECT 1");
    const std::string before = read_file(path);
    EXPECT_EQ(sql_outcome(path, "SELECT fts3_tokenizer('simple')"),
              "function fts3_tokenizer is not allowed on a trace");
    EXPECT_EQ(sql_outcome(path, "SELECT fts3_tokenizer('simple', x'4141414141414141')"),
              "function fts3_tokenizer is not allowed on a trace");
    EXPECT_EQ(sql_outcome(path, "SELECT load_extension('/tmp/x.so')"),
              "function load_extension is not allowed on a trace");
    EXPECT_EQ(sql_outcome(path, "SELECT rtreenode(2, x'0000')"),
              "function rtreenode is not allowed on a trace");
    for (const char* table : {"json_each('[1]')", "dbstat", "fts3tokenize('simple')",
                              "pragma_function_list", "pragma_compile_options"})
        EXPECT_NE(sql_outcome(path, std::string("SELECT * FROM ") + table), "") << table;

    // Every kind of write, and everything that would change the connection's settings.
    const char* writes[] = {
        "INSERT INTO meta VALUES('x', 1)",
        "INSERT OR IGNORE INTO meta VALUES('x', 1)",
        "REPLACE INTO meta VALUES('source', 'x')",
        "INSERT INTO meta VALUES('source', 'x') ON CONFLICT(key) DO UPDATE SET value = 'y'",
        "UPDATE sessions SET peer = 'x'",
        "DELETE FROM sessions",
        "WITH doomed AS (SELECT id FROM sessions) DELETE FROM sessions WHERE id IN doomed",
        "SELECT 1; DELETE FROM sessions",
        "INSERT INTO events(seq) VALUES(1)",
        "DELETE FROM events",
        "DROP TABLE leaks",
        "DROP INDEX leaks_by_session",
        "DROP VIEW releases",
        "CREATE TABLE t(x)",
        "CREATE TEMP TABLE t(x)",
        "CREATE INDEX i ON sessions(peer)",
        "CREATE VIEW v AS SELECT 1",
        "CREATE TEMP VIEW v AS SELECT 1",
        "CREATE TRIGGER t AFTER INSERT ON meta BEGIN SELECT 1; END",
        "CREATE TEMP TRIGGER t AFTER INSERT ON meta BEGIN SELECT 1; END",
        "CREATE VIRTUAL TABLE f USING fts3(x)",
        "ALTER TABLE sessions RENAME TO s",
        "ALTER TABLE sessions ADD COLUMN x",
        "ALTER TABLE sessions DROP COLUMN peer",
        "ATTACH DATABASE '/tmp/memlife-hostile-attached.db' AS x",
        "DETACH DATABASE main",
        "VACUUM",
        "VACUUM INTO '/tmp/memlife-hostile-vacuum.db'",
        "REINDEX",
        "ANALYZE",
        "BEGIN",
        "BEGIN IMMEDIATE",
        "BEGIN EXCLUSIVE",
        "SAVEPOINT s",
        "PRAGMA user_version = 3",
        "PRAGMA application_id = 0",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA writable_schema = 1",
        "PRAGMA trusted_schema = 1",
        "PRAGMA query_only = 0",
        "PRAGMA cell_size_check = 0",
        "PRAGMA cache_size = -1000000000",
        "PRAGMA mmap_size = 1000000000",
        "PRAGMA optimize",
        "PRAGMA wal_checkpoint(TRUNCATE)",
        "PRAGMA incremental_vacuum",
    };
    for (const char* sql : writes)
        EXPECT_NE(sql_outcome(path, sql), "") << "allowed: " << sql;
    EXPECT_EQ(sql_outcome(path, "DELETE FROM sessions"),
              "only reading statements are allowed on a trace");
    EXPECT_EQ(sql_outcome(path, "PRAGMA writable_schema = 1"),
              "PRAGMA writable_schema with a value is not allowed on a trace");
    EXPECT_FALSE(std::filesystem::exists("/tmp/memlife-hostile-vacuum.db"));
    EXPECT_FALSE(std::filesystem::exists("/tmp/memlife-hostile-attached.db"));
    EXPECT_EQ(read_file(path), before);

    // What a query may read: the trace's tables, its virtual tables and view, the schema,
    // its own common table expressions.
    std::vector<std::vector<std::string>> rows;
    for (const char* sql : {
             "SELECT count(*) FROM sessions",
             "SELECT count(*) FROM events",
             "SELECT count(*) FROM requests",
             "SELECT count(*) FROM blocks",
             "SELECT count(*) FROM releases",
             "SELECT count(*) FROM sqlite_schema",
             "SELECT count(*) FROM pragma_table_info('sessions')",
             "PRAGMA table_info(event_batches)",
             "PRAGMA user_version",
             "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10) "
             "SELECT sum(x) FROM n",
             "WITH s AS (SELECT id FROM sessions) SELECT count(*) FROM s",
             "SELECT json_array(1, 2), printf('%d', 5), hex(randomblob(2)) IS NOT NULL",
         }) {
        rows.clear();
        EXPECT_EQ(sql_outcome(path, sql, &rows), "") << sql;
        EXPECT_FALSE(rows.empty()) << sql;
    }
}

// Class 5: a query that does not end is stopped, with the reason in words.
TEST_F(HostileTrace, EndlessQueriesAreStopped) {
    SqlOptions options;
    options.time_limit = std::chrono::milliseconds(300);
    for (const char* sql : {
             "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
             "SELECT count(*) FROM n",
             // The virtual tables' own reads are stopped too.
             "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
             "SELECT count(*) FROM n, events",
         }) {
        const auto start = std::chrono::steady_clock::now();
        EXPECT_EQ(sql_outcome(base(), sql, nullptr, options),
                  "query stopped after 0.3 s (the time limit)")
            << sql;
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
    }
}

namespace {

// Runs `body` in a child process (its exit code is the result); SIGXFSZ is ignored there, so
// that a write past limit_file_size() fails with EFBIG, as on a full disk.
int in_child(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::signal(SIGXFSZ, SIG_IGN);
        int code = 100;
        try {
            code = body();
        } catch (...) {
            code = 101;
        }
        ::_exit(code);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void limit_file_size(rlim_t bytes) {
    const rlimit limit{bytes, bytes};
    ::setrlimit(RLIMIT_FSIZE, &limit);
}

} // namespace

// Class 3: a write failure (here `ulimit -f`) reaches the program when it happens, through
// the callback and failed(), not only at commit(); the trace keeps what was committed
// before it, consistent, and is an incomplete recording.
TEST(RecorderFailure, AWriteFailureReachesTheProgramAtOnce) {
    TempDir dir;
    const std::string path = dir.file("full.mltrace");
    const int code = in_child([&] {
        std::mutex mutex;
        int calls = 0;
        std::string message;
        RecorderOptions options;
        options.on_failure = [&](const std::string& what) { // on the writer thread
            std::lock_guard lock(mutex);
            message = what;
            ++calls;
        };
        Recorder recorder(path, options);
        limit_file_size(2 << 20);
        Runtime rt(Config{}, &recorder);
        std::uint64_t id = 0;
        while (!recorder.failed() && id < 1'000'000) {
            run_session(rt, ++id);
            if (id % 10 == 0) recorder.flush();
        }
        if (!recorder.failed()) return 1;
        for (int i = 0; i < 200; ++i) // discarded: recording on never blocks
            run_session(rt, ++id);
        recorder.flush();
        std::lock_guard lock(mutex);
        if (calls != 1) return 2;
        if (message.rfind(path + ": cannot write the trace (", 0) != 0) return 3;
        if (recorder.failure().what() != message) return 4;
        try {
            recorder.commit();
            return 5;
        } catch (const TraceError& e) {
            if (e.what() != message) return 6;
        }
        return 0;
    });
    ASSERT_EQ(code, 0);
    const TraceReader reader(path);
    EXPECT_FALSE(reader.info().complete);
    EXPECT_GT(reader.sessions().size(), 10u);
    EXPECT_NO_THROW(reader.verify());
}

// The same through the C API: ml_trace_status() tells at once, ml_trace_flush() and
// ml_trace_stop() report it too.
TEST(RecorderFailure, TheCApiTellsAtOnce) {
    TempDir dir;
    const std::string path = dir.file("c-full.mltrace");
    const int code = in_child([&] {
        if (ml_trace_status() != ML_ERR_NO_TRACE) return 1;
        if (ml_trace_start(path.c_str()) != ML_OK) return 2;
        if (ml_trace_status() != ML_OK) return 3;
        limit_file_size(256 << 10);
        static char noted[16];
        for (int i = 0; i < 100'000 && ml_trace_status() == ML_OK; ++i) {
            ml_session* s = ml_session_open("10.0.0.9:5000");
            for (int r = 0; r < 5; ++r) {
                ml_request_begin(s);
                ml_alloc_mem(s, 64, 0);
                ml_note_alloc(s, noted, sizeof noted, ML_SCOPE_REQUEST);
                ml_note_free(s, noted);
                ml_request_end(s);
            }
            ml_session_close(s);
            if (i % 50 == 0) ml_trace_flush();
        }
        if (ml_trace_status() != ML_ERR_TRACE_IO) return 4;
        if (std::string(ml_trace_error()).rfind(path + ": cannot write the trace (", 0) != 0)
            return 5;
        if (ml_trace_flush() != ML_ERR_TRACE_IO) return 6;
        if (ml_trace_stop() != ML_ERR_TRACE_IO) return 7;
        if (ml_trace_status() != ML_ERR_NO_TRACE) return 8;
        return 0;
    });
    ASSERT_EQ(code, 0);
    const TraceReader reader(path);
    EXPECT_FALSE(reader.info().complete);
    EXPECT_NO_THROW(reader.verify());
}
