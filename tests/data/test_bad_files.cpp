// Bad input: each kind of bad file gives one clear error naming the file, never a crash.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "memlife/data/reader.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "temp_dir.hpp"

using namespace memlife;
using namespace memlife::data;
using Kind = TraceError::Kind;

namespace {

using memlife::test::TempDir;

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void exec(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
}

// A valid trace big enough to span many pages.
std::string make_trace(const TempDir& dir, const std::string& name) {
    const std::string path = dir.file(name);
    Recorder recorder(path);
    Runtime rt(Config{}, &recorder);
    for (int s = 0; s < 20; ++s) {
        Session* session = rt.open("peer-" + std::to_string(s));
        for (int r = 0; r < 200; ++r) {
            session->request_begin();
            session->alloc_mem(16 + r);
            session->alloc_request(100);
            session->request_end();
        }
        rt.close(session);
    }
    recorder.commit();
    return path;
}

// Opening `path` fails with `kind`; the message is "PATH: reason" on one line. The same
// holds for run_sql.
void expect_error(const std::string& path, Kind kind, const std::string& reason) {
    for (int api = 0; api < 2; ++api) {
        try {
            if (api == 0)
                TraceReader reader(path);
            else
                run_sql(path, "SELECT 1", [](const auto&, const auto&) {});
            ADD_FAILURE() << "no error for " << path;
        } catch (const TraceError& e) {
            EXPECT_EQ(e.kind(), kind) << e.what();
            EXPECT_EQ(e.path(), path);
            EXPECT_EQ(std::string(e.what()), path + ": " + reason);
        }
    }
}

} // namespace

TEST(BadFiles, Missing) {
    TempDir dir;
    expect_error(dir.file("nope.mltrace"), Kind::Missing, "no such file");
    expect_error(dir.file("no/such/dir.mltrace"), Kind::Missing, "no such file");
}

TEST(BadFiles, Empty) {
    TempDir dir;
    write_file(dir.file("empty.mltrace"), "");
    expect_error(dir.file("empty.mltrace"), Kind::Empty, "file is empty");
}

TEST(BadFiles, RandomBytes) {
    TempDir dir;
    std::mt19937 rng(7);
    std::string bytes(10000, '\0');
    for (char& c : bytes)
        c = static_cast<char>(rng());
    write_file(dir.file("random.mltrace"), bytes);
    expect_error(dir.file("random.mltrace"), Kind::NotSqlite, "not an SQLite database");
    write_file(dir.file("text.mltrace"), "{\"kind\": \"alloc\"}\n");
    expect_error(dir.file("text.mltrace"), Kind::NotSqlite, "not an SQLite database");
}

TEST(BadFiles, Directory) {
    TempDir dir;
    std::filesystem::create_directory(dir.file("d.mltrace"));
    expect_error(dir.file("d.mltrace"), Kind::Io, "is a directory, not a trace file");
}

TEST(BadFiles, Truncated) {
    TempDir dir;
    const std::string good = make_trace(dir, "good.mltrace");
    const std::string bytes = read_file(good);
    ASSERT_GT(bytes.size(), 8192u * 4);
    for (std::size_t keep : {std::size_t{50}, std::size_t{100}, std::size_t{8192}, bytes.size() / 2,
                             bytes.size() - 1}) {
        const std::string path = dir.file("cut-" + std::to_string(keep) + ".mltrace");
        write_file(path, bytes.substr(0, keep));
        expect_error(path, Kind::Truncated, "truncated or corrupt SQLite file");
    }
}

TEST(BadFiles, CorruptPagesNeverCrash) {
    TempDir dir;
    const std::string good = make_trace(dir, "good.mltrace");
    const std::string bytes = read_file(good);
    std::mt19937 rng(11);
    // Overwrite a run of bytes past the header with garbage: whatever happens is a
    // TraceError or a successful read, never a crash.
    for (int round = 0; round < 30; ++round) {
        std::string damaged = bytes;
        const std::size_t at = 100 + rng() % (damaged.size() - 200);
        for (std::size_t i = at; i < std::min(damaged.size(), at + 64 + rng() % 512); ++i)
            damaged[i] = static_cast<char>(rng());
        const std::string path = dir.file("damaged.mltrace");
        write_file(path, damaged);
        try {
            TraceReader reader(path);
            for (const SessionRow& s : reader.sessions()) {
                reader.requests(s.id);
                reader.live_bytes_series(s.id, std::nullopt, 100);
                reader.for_each_block(s.id, [](const BlockRow&) { return true; });
            }
            reader.for_each_event([](const Event&) { return true; });
            reader.corruptions();
            reader.leaks();
            run_sql(path, "SELECT count(*), sum(size) FROM events",
                    [](const auto&, const auto&) {});
        } catch (const TraceError& e) {
            EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
            EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
        }
    }
}

TEST(BadFiles, ForeignSqliteDatabase) {
    TempDir dir;
    const std::string path = dir.file("foreign.db");
    exec(path, "CREATE TABLE people(name TEXT); INSERT INTO people VALUES('x');");
    expect_error(path, Kind::Foreign, "not a memlife trace (application_id 0x00000000)");
    const std::string other = dir.file("other-app.db");
    exec(other, "PRAGMA application_id = 1234; CREATE TABLE t(x);");
    expect_error(other, Kind::Foreign, "not a memlife trace (application_id 0x000004D2)");
    // Our application_id, but not our tables.
    const std::string fake = dir.file("fake.db");
    exec(fake, "PRAGMA application_id = 1296845126; PRAGMA user_version = 1; CREATE TABLE t(x);");
    expect_error(fake, Kind::Foreign, "not a memlife trace (tables missing)");
}

TEST(BadFiles, NewerSchemaIsRefused) {
    TempDir dir;
    const std::string path = make_trace(dir, "newer.mltrace");
    exec(path, "PRAGMA user_version = 7");
    expect_error(path, Kind::NewerSchema, "trace schema version 7 is newer than this memlife (3)");
}

// Event batch BLOBs that do not decode to their row's count: a compact Alloc record (kind
// 11) with its reserved bits set, a record cut in half, a count that does not match.
TEST(BadFiles, BatchesThatDoNotDecodeAreReported) {
    TempDir dir;
    const std::string good = make_trace(dir, "blobs.mltrace");
    {
        const TraceReader reader(good); // the recording uses compact Alloc records
        std::size_t allocs = 0;
        reader.for_each_event([&](const Event& e) {
            allocs += e.kind == EventKind::Alloc;
            return true;
        });
        EXPECT_EQ(allocs, 20u * 200u * 2u);
    }
    // Batch 1 replaced by hand-made records: a SessionOpen (header 01, time +0, seq +0)
    // and a compact Alloc (header 0b, size 8, address = previous end + 0).
    const std::string path = dir.file("hand-made.mltrace");
    std::filesystem::copy_file(good, path);
    exec(path, "UPDATE event_batches SET data = x'0100000b0800', count = 2 WHERE id = 1");
    std::vector<Event> first;
    TraceReader(path).for_each_event([&](const Event& e) {
        first.push_back(e);
        return first.size() < 2;
    });
    ASSERT_EQ(first.size(), 2u);
    EXPECT_EQ(first[1].kind, EventKind::Alloc);
    EXPECT_EQ(first[1].block, 1u);
    EXPECT_EQ(first[1].size, 8u);
    EXPECT_EQ(first[1].scope, Scope::Session);

    const char* damage[] = {
        // the compact record with its reserved bits 6-7 set
        "UPDATE event_batches SET data = x'0100004b0800', count = 2 WHERE id = 1",
        // cut in the middle of the record
        "UPDATE event_batches SET data = x'0100000b08', count = 2 WHERE id = 1",
        // a count the BLOB does not have
        "UPDATE event_batches SET count = count + 1 WHERE id = 2",
    };
    for (const char* sql : damage) {
        const std::string path = dir.file("damaged-blob.mltrace");
        std::filesystem::copy_file(good, path, std::filesystem::copy_options::overwrite_existing);
        exec(path, sql);
        // The reader and SQL over the events table give the same reason.
        std::string reasons[2];
        for (int api = 0; api < 2; ++api) {
            try {
                if (api == 0)
                    TraceReader(path).for_each_event([](const Event&) { return true; });
                else
                    run_sql(path, "SELECT count(*) FROM events", [](const auto&, const auto&) {});
                ADD_FAILURE() << "no error after " << sql;
            } catch (const TraceError& e) {
                EXPECT_EQ(e.kind(), Kind::Truncated) << e.what();
                EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
                reasons[api] = e.what();
            }
        }
        EXPECT_NE(reasons[0].find("event batch of session"), std::string::npos) << reasons[0];
        EXPECT_EQ(reasons[1], reasons[0]);
    }

    // A request batch: the same from TraceReader::requests and from SQL's requests table.
    const std::string requests = dir.file("damaged-requests.mltrace");
    std::filesystem::copy_file(good, requests);
    exec(requests, "UPDATE request_batches SET data = x'ff' WHERE session = 3");
    std::string reasons[2];
    try {
        TraceReader(requests).requests(3);
        ADD_FAILURE() << "no error from requests()";
    } catch (const TraceError& e) {
        reasons[0] = e.what();
    }
    try {
        run_sql(requests, "SELECT count(*) FROM requests", [](const auto&, const auto&) {});
        ADD_FAILURE() << "no error from SQL";
    } catch (const TraceError& e) {
        reasons[1] = e.what();
    }
    EXPECT_EQ(reasons[0], requests + ": truncated or corrupt trace (request batch of session 3 "
                                     "does not decode)");
    EXPECT_EQ(reasons[1], reasons[0]);
}

TEST(BadFiles, ReaderNeverModifiesTheFile) {
    TempDir dir;
    const std::string path = make_trace(dir, "ro.mltrace");
    const std::string before = read_file(path);
    {
        TraceReader reader(path);
        reader.sessions();
        reader.for_each_event([](const Event&) { return true; });
        run_sql(path, "SELECT count(*) FROM blocks", [](const auto&, const auto&) {});
    }
    EXPECT_EQ(read_file(path), before);
    // A read-only file opens too.
    ASSERT_EQ(::chmod(path.c_str(), 0444), 0);
    TraceReader reader(path);
    EXPECT_EQ(reader.sessions().size(), 20u);
}
