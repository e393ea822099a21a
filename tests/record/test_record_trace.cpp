// What memlife record adds to the trace format, through the data API: the `outlived`
// table (ML_REPORT_OUTLIVED reports), its counts per session and flags per block, the
// recording's meta (command, processes, allocations outside connections), and traces
// written before the table existed, which read as before.
#include <sqlite3.h>

#include "memlife/data/recorder.hpp"
#include "record_fixture.hpp"

using namespace memlife;
using namespace memlife::test;

namespace {

Event event(EventKind kind, std::uint64_t session, std::uint64_t time_ns) {
    Event e;
    e.kind = kind;
    e.session = session;
    e.time_ns = time_ns;
    return e;
}

Event alloc(std::uint64_t session, std::uint64_t block, std::uint64_t size, std::uint64_t t) {
    Event e = event(EventKind::Alloc, session, t);
    e.block = block;
    e.address = 0x10000 * session + 0x100 * block;
    e.size = size;
    e.request = 1;
    e.flags = static_cast<std::uint8_t>(AllocOrigin::Noted);
    return e;
}

ml_report outlived(std::uint64_t session, std::uint64_t block, std::uint64_t size) {
    ml_report r{};
    r.kind = ML_REPORT_OUTLIVED;
    r.session_id = session;
    r.request = 1;
    r.alloc_request = 1;
    r.block_id = block;
    r.address = 0x10000 * session + 0x100 * block;
    r.size = size;
    r.time_ns = 5000;
    std::snprintf(r.message, sizeof r.message, "Outlived its connection: block %llu",
                  static_cast<unsigned long long>(block));
    return r;
}

// Two connections: the first keeps blocks 2 and 3 after its close, the second block 1.
void write_trace(const std::string& path) {
    data::Recorder recorder(path, {.source = "record", .meta = {{"command", "server --port 80"}}});
    for (std::uint64_t s : {1, 2}) {
        recorder.on_session_open(event(EventKind::SessionOpen, s, 1000), "127.0.0.1:1 (pid 7)");
        Event begin = event(EventKind::RequestBegin, s, 1100);
        begin.request = 1;
        recorder.on_event(begin);
        for (std::uint64_t b = 1; b <= 3; ++b)
            recorder.on_event(alloc(s, b, 100 * b, 1200 + b));
        Event end = event(EventKind::RequestEnd, s, 1300);
        end.request = 1;
        recorder.on_event(end);
    }
    for (auto [s, b, size] : {std::tuple{1, 2, 200}, {1, 3, 300}, {2, 1, 100}})
        recorder.on_report(outlived(s, b, size));
    for (std::uint64_t s : {1, 2}) {
        Event close = event(EventKind::SessionClose, s, 2000);
        close.size = s == 1 ? 100 : 500; // freed in the close window
        recorder.on_event(close);
    }
    recorder.set_meta("processes", "2");
    recorder.set_meta("process_allocations", "17");
    recorder.set_meta("process_allocated_bytes", "4096");
    recorder.commit();
}

} // namespace

TEST(RecordTrace, OutlivedBlocksAreStoredCountedAndFlagged) {
    TempDir dir;
    const std::string path = dir / "outlived.mltrace";
    write_trace(path);
    data::TraceReader reader(path);
    const auto rows = reader.outlived();
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].session, 1u);
    EXPECT_EQ(rows[0].block, 2u);
    EXPECT_EQ(rows[0].size, 200u);
    EXPECT_EQ(rows[0].alloc_request, 1u);
    EXPECT_EQ(rows[0].request, 1u);
    EXPECT_EQ(rows[0].address, 0x10200u);
    EXPECT_EQ(rows[0].time_ns, 5000u);
    EXPECT_EQ(rows[0].message, "Outlived its connection: block 2");
    EXPECT_EQ(reader.outlived(2).size(), 1u);

    const auto sessions = reader.sessions();
    ASSERT_EQ(sessions.size(), 2u);
    EXPECT_EQ(sessions[0].outlived, 2u);
    EXPECT_EQ(sessions[0].outlived_bytes, 500u);
    EXPECT_EQ(sessions[1].outlived, 1u);
    EXPECT_EQ(sessions[1].outlived_bytes, 100u);
    EXPECT_EQ(reader.session(1)->outlived, 2u);
    EXPECT_EQ(sessions[0].leaks, 0u) << "not leaks: a finding of its own";

    std::map<std::uint64_t, bool> flagged;
    reader.for_each_block(1, [&](const data::BlockRow& b) {
        flagged[b.id] = b.outlived;
        return true;
    });
    EXPECT_EQ(flagged, (std::map<std::uint64_t, bool>{{1, false}, {2, true}, {3, true}}));

    const data::TraceInfo info = reader.info();
    EXPECT_EQ(info.source, "record");
    EXPECT_EQ(info.command, "server --port 80");
    EXPECT_EQ(info.processes, 2u);
    EXPECT_EQ(info.process_allocations, 17u);
    EXPECT_EQ(info.process_allocated_bytes, 4096u);

    // report and check show them like leaks.
    const Shell check = shell(std::string(MEMLIFE_CLI) + " check " + path);
    EXPECT_EQ(check.exit_code, 1);
    EXPECT_NE(check.out.find("3 block(s) outlived their connection, 600 B"), std::string::npos)
        << check.out;
    const Shell report = shell(std::string(MEMLIFE_CLI) + " report --json " + path);
    ASSERT_EQ(report.exit_code, 0);
    EXPECT_NE(report.out.find("\"outlived\": 3"), std::string::npos) << report.out;
    EXPECT_NE(report.out.find("\"process_allocations\": 17"), std::string::npos) << report.out;
}

TEST(RecordTrace, TracesWithoutTheOutlivedTableReadAsBefore) {
    TempDir dir;
    const std::string path = dir / "older.mltrace";
    write_trace(path);
    sqlite3* db = nullptr; // a trace from before memlife record: version 2, no table `outlived`
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db, "DROP TABLE outlived; PRAGMA user_version = 2", nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
    data::TraceReader reader(path);
    EXPECT_TRUE(reader.outlived().empty());
    for (const auto& s : reader.sessions())
        EXPECT_EQ(s.outlived, 0u);
    std::size_t blocks = 0;
    reader.for_each_block(1, [&](const data::BlockRow& b) {
        EXPECT_FALSE(b.outlived);
        return ++blocks, true;
    });
    EXPECT_EQ(blocks, 3u);
    EXPECT_EQ(shell(std::string(MEMLIFE_CLI) + " check -q " + path).exit_code, 0);
}
