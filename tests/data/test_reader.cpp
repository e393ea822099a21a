// The reader API and `memlife sql` over real recorded traces.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "memlife/data/reader.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "temp_dir.hpp"

using namespace memlife;
using namespace memlife::data;

namespace {

using memlife::test::TempDir;

struct SqlResult {
    std::vector<std::string> columns;
    std::vector<std::vector<std::optional<std::string>>> rows;
};

SqlResult sql(const std::string& path, const std::string& statement) {
    SqlResult result;
    run_sql(path, statement, [&](const auto& columns, const auto& values) {
        result.columns = columns;
        result.rows.push_back(values);
    });
    return result;
}

// Three sessions interleaved on one thread (so their batches overlap in the stream),
// one with 600 requests (three request batches).
std::string record_interleaved(const TempDir& dir, std::vector<std::uint64_t>& ids) {
    const std::string path = dir.file("interleaved.mltrace");
    Recorder recorder(path);
    Runtime rt(Config{}, &recorder);
    Session* a = rt.open("a");
    Session* b = rt.open("b");
    Session* c = rt.open("c");
    ids = {a->id(), b->id(), c->id()};
    for (int r = 0; r < 600; ++r) {
        for (Session* s : {a, b, c}) {
            if (s == c && r >= 3) continue;
            s->request_begin();
            s->set_notification(Notification::UrlMap);
            s->alloc_mem(8);
            s->alloc_request(32);
            s->request_end();
        }
    }
    rt.close(c);
    rt.close(b);
    rt.close(a);
    recorder.commit();
    return path;
}

} // namespace

TEST(Reader, GlobalStreamIsInSequenceOrder) {
    TempDir dir;
    std::vector<std::uint64_t> ids;
    const std::string path = record_interleaved(dir, ids);
    TraceReader reader(path);
    std::vector<Event> all;
    reader.for_each_event([&](const Event& e) {
        all.push_back(e);
        return true;
    });
    ASSERT_EQ(all.size(), reader.info().events);
    for (std::size_t i = 1; i < all.size(); ++i)
        ASSERT_LE(all[i - 1].time_ns, all[i].time_ns) << i; // one thread: stream = time order
    // Interleaving preserved: a's first request begin comes before b's.
    std::vector<std::uint64_t> first_sessions;
    for (const Event& e : all)
        if (e.kind == EventKind::RequestBegin && first_sessions.size() < 3)
            first_sessions.push_back(e.session);
    EXPECT_EQ(first_sessions, ids);
    // Stopping early.
    int n = 0;
    reader.for_each_event([&](const Event&) { return ++n < 10; });
    EXPECT_EQ(n, 10);
    EXPECT_TRUE(reader.order_violations().empty());
}

// Skipping into the stream (the event log's seek) gives exactly the suffix a full read
// gives: at batch boundaries and inside batches, for one session and for the merged
// stream, with dense sequence numbers (whole batches passed over) and without.
TEST(Reader, SkipGivesTheSuffixOfTheStream) {
    TempDir dir;
    const std::string path = dir.file("long.mltrace");
    std::vector<std::uint64_t> ids;
    {
        Recorder recorder(path);
        Runtime rt(Config{}, &recorder);
        std::vector<Session*> sessions;
        for (const char* peer : {"a", "b", "c"}) {
            sessions.push_back(rt.open(peer));
            ids.push_back(sessions.back()->id());
        }
        for (int r = 0; r < 4000; ++r)
            for (Session* s : sessions) {
                s->request_begin();
                for (std::uint32_t i = 0; i < 4; ++i)
                    s->alloc_mem(8 + i + static_cast<std::uint32_t>(r % 100));
                s->request_end();
            }
        for (Session* s : sessions)
            rt.close(s);
        recorder.commit();
    }
    auto read = [](const TraceReader& reader, std::optional<std::uint64_t> session,
                   std::uint64_t skip) {
        std::vector<Event> out;
        reader.for_each_event(
            [&](const Event& e) {
                out.push_back(e);
                return true;
            },
            session, skip);
        return out;
    };
    auto check = [&](const std::string& trace) {
        const TraceReader reader(trace);
        for (std::optional<std::uint64_t> session :
             {std::optional<std::uint64_t>{}, std::optional<std::uint64_t>{ids[1]}}) {
            const std::vector<Event> all = read(reader, session, 0);
            ASSERT_EQ(reader.event_count(session), all.size());
            ASSERT_GT(all.size(), 20000u); // several batches per session
            for (std::uint64_t skip :
                 {std::uint64_t{1}, std::uint64_t{4095}, std::uint64_t{all.size() / 3},
                  std::uint64_t{all.size() / 2 + 7}, std::uint64_t{all.size() - 1},
                  std::uint64_t{all.size()}, std::uint64_t{all.size() + 5}}) {
                const std::vector<Event> rest = read(reader, session, skip);
                ASSERT_EQ(rest.size(), skip < all.size() ? all.size() - skip : 0) << skip;
                for (std::size_t i = 0; i < rest.size(); ++i)
                    ASSERT_EQ(std::memcmp(&rest[i], &all[skip + i], sizeof(Event)), 0)
                        << "skip " << skip << " event " << i;
            }
        }
    };
    check(path);
    {
        // Whole batches before the skip target are passed over, not decoded: a damaged
        // first batch is only an error for a read that includes it.
        const std::string damaged = dir.file("damaged-first.mltrace");
        std::filesystem::copy_file(path, damaged);
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(damaged.c_str(), &db), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(db,
                               "UPDATE event_batches SET data = x'ff' WHERE id = (SELECT id FROM "
                               "event_batches WHERE session = (SELECT min(session) FROM "
                               "event_batches) ORDER BY first_seq LIMIT 1)",
                               nullptr, nullptr, nullptr),
                  SQLITE_OK);
        sqlite3_close(db);
        const TraceReader reader(damaged);
        EXPECT_THROW(read(reader, std::nullopt, 0), TraceError);
        EXPECT_THROW(read(reader, ids[0], 0), TraceError);
        const std::uint64_t total = reader.event_count(), of_a = reader.event_count(ids[0]);
        EXPECT_EQ(read(reader, std::nullopt, total - 10).size(), 10u);
        EXPECT_EQ(read(reader, ids[0], of_a - 10).size(), 10u);
    }
    // Not dense any more: session b's batches renumbered above the others (and its
    // sessions row and the meta count with them, so that the trace still opens).
    const std::string gappy = dir.file("gappy.mltrace");
    std::filesystem::copy_file(path, gappy);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(gappy.c_str(), &db), SQLITE_OK);
    const std::string b = std::to_string(ids[1]);
    const std::string sql =
        "UPDATE event_batches SET first_seq = first_seq + 100000, last_seq = last_seq + 100000 "
        "WHERE session = " +
        b +
        "; UPDATE sessions SET first_seq = first_seq + 100000, "
        "last_seq = last_seq + 100000 WHERE id = " +
        b + "; UPDATE meta SET value = value + 100000 WHERE key = 'events'";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    check(gappy);
}

TEST(Reader, RequestsSpanSeveralBatches) {
    TempDir dir;
    std::vector<std::uint64_t> ids;
    const std::string path = record_interleaved(dir, ids);
    TraceReader reader(path);
    const auto requests = reader.requests(ids[0]);
    ASSERT_EQ(requests.size(), 600u);
    for (std::uint32_t i = 0; i < 600; ++i) {
        EXPECT_EQ(requests[i].number, i + 1);
        EXPECT_EQ(requests[i].live_bytes_at_end, 8u * (i + 1));
        EXPECT_EQ(requests[i].released_bytes, 32u);
    }
    EXPECT_EQ(reader.requests(ids[2]).size(), 3u);
    EXPECT_NEAR(reader.session(ids[0])->growth_bytes_per_request, 8.0, 1e-6);
    EXPECT_THROW(reader.requests(999999), TraceError);
    EXPECT_FALSE(reader.session(999999).has_value());
    // for_each_session stops when asked.
    int seen = 0;
    reader.for_each_session([&](const SessionRow&) { return ++seen < 2; });
    EXPECT_EQ(seen, 2);
}

TEST(Reader, SqlOverEventsRequestsBlocksAndReleases) {
    TempDir dir;
    std::vector<std::uint64_t> ids;
    const std::string path = record_interleaved(dir, ids);
    TraceReader reader(path);
    const std::string a = std::to_string(ids[0]);

    auto count = sql(path, "SELECT count(*) FROM events");
    ASSERT_EQ(count.rows.size(), 1u);
    EXPECT_EQ(count.rows[0][0], std::to_string(reader.info().events));

    auto allocs = sql(path, "SELECT kind, scope, notification, size, flags FROM events WHERE "
                            "session = " +
                                a + " AND kind = 'alloc' ORDER BY seq LIMIT 2");
    ASSERT_EQ(allocs.rows.size(), 2u);
    EXPECT_EQ(allocs.columns,
              (std::vector<std::string>{"kind", "scope", "notification", "size", "flags"}));
    EXPECT_EQ(allocs.rows[0][1], "session");
    EXPECT_EQ(allocs.rows[0][2], "URL_MAP");
    EXPECT_EQ(allocs.rows[0][3], "8");
    EXPECT_EQ(allocs.rows[1][1], "request");
    EXPECT_EQ(allocs.rows[1][4], "1"); // AllocOrigin::AllocRequest

    auto per_session = sql(path, "SELECT session, count(*) FROM events GROUP BY session ORDER BY "
                                 "session");
    ASSERT_EQ(per_session.rows.size(), 3u);
    for (const auto& row : per_session.rows)
        EXPECT_EQ(row[1], std::to_string(reader.session(std::stoull(*row[0]))->events));

    auto requests =
        sql(path, "SELECT number, live_bytes_at_end FROM requests WHERE session = " + a +
                      " AND number = 600");
    ASSERT_EQ(requests.rows.size(), 1u);
    EXPECT_EQ(requests.rows[0][1], "4800");

    auto blocks = sql(path, "SELECT origin, count(*), sum(release_ns IS NULL) FROM blocks WHERE "
                            "session = " +
                                a + " GROUP BY origin ORDER BY origin");
    ASSERT_EQ(blocks.rows.size(), 2u);
    EXPECT_EQ(blocks.rows[0][0], "alloc_mem");
    EXPECT_EQ(blocks.rows[0][1], "600");
    EXPECT_EQ(blocks.rows[0][2], "0");
    EXPECT_EQ(blocks.rows[1][0], "alloc_request");

    auto releases =
        sql(path, "SELECT what, count(*), sum(bytes) FROM releases WHERE session = " + a +
                      " GROUP BY what ORDER BY what");
    ASSERT_EQ(releases.rows.size(), 2u);
    EXPECT_EQ(releases.rows[0][0], "request");
    EXPECT_EQ(releases.rows[0][2], std::to_string(600 * 32));
    EXPECT_EQ(releases.rows[1][0], "session");
    EXPECT_EQ(releases.rows[1][2], std::to_string(600 * 8));

    auto sessions = sql(path, "SELECT peer, requests, peak_bytes FROM sessions ORDER BY id");
    ASSERT_EQ(sessions.rows.size(), 3u);
    EXPECT_EQ(sessions.rows[2][0], "c");
    EXPECT_EQ(sessions.rows[2][1], "3");

    auto notifications = sql(path, "SELECT flag FROM notifications WHERE name = 'URL_MAP'");
    ASSERT_EQ(notifications.rows.size(), 1u);
    EXPECT_EQ(notifications.rows[0][0], std::to_string(0x1000));

    auto nothing = sql(path, "SELECT * FROM events WHERE session = 'abc'");
    EXPECT_TRUE(nothing.rows.empty());
}

TEST(Reader, SqlErrorsAreOneLineAndNameTheFile) {
    TempDir dir;
    std::vector<std::uint64_t> ids;
    const std::string path = record_interleaved(dir, ids);
    auto expect_usage = [&](const std::string& statement) {
        try {
            sql(path, statement);
            ADD_FAILURE() << "no error for " << statement;
        } catch (const TraceError& e) {
            EXPECT_EQ(e.kind(), TraceError::Kind::Usage) << e.what();
            const std::string what = e.what();
            EXPECT_EQ(what.rfind(path + ": SQL error: ", 0), 0u) << what;
            EXPECT_EQ(what.find('\n'), std::string::npos);
        }
    };
    expect_usage("SELEC nonsense");
    expect_usage("SELECT * FROM no_such_table");
    expect_usage("DELETE FROM sessions");
    expect_usage("INSERT INTO events(seq) VALUES(1)");
    expect_usage("ATTACH DATABASE '/tmp/x.db' AS x");
    // The trace is untouched.
    TraceReader reader(path);
    EXPECT_EQ(reader.sessions().size(), 3u);
}
