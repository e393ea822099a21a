// Crash safety: a recording child killed with SIGKILL at a random moment leaves a trace
// that opens, passes PRAGMA integrity_check, and holds a consistent prefix of what the
// child emitted, including everything up to the child's last completed flush().
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "memlife/data/reader.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "temp_dir.hpp"

using namespace memlife;
using namespace memlife::data;

namespace {

using memlife::test::TempDir;

// Session `id` of the deterministic workload: sizes and counts depend only on the ids.
void run_session(Runtime& rt, std::uint64_t id) {
    Session* s = rt.open("peer-" + std::to_string(id), id);
    const int requests = 3 + static_cast<int>(id % 7);
    for (int j = 1; j <= requests; ++j) {
        s->request_begin();
        s->set_notification(Notification::UrlMap);
        const int allocs = 2 + static_cast<int>((id + j) % 5);
        for (int k = 0; k < allocs; ++k)
            s->alloc_mem(16 + static_cast<std::uint32_t>((id * 31 + j * 7 + k) % 300));
        s->alloc_request(64 + j);
        s->set_notification(Notification::EndOfRequest);
        s->request_end();
    }
    s->set_notification(Notification::EndOfNetSession);
    rt.close(s);
}

// What a session's events look like once time and addresses (which differ from run to
// run) are left out.
struct Shape {
    EventKind kind;
    std::uint32_t request;
    std::uint64_t block, size;
    Scope scope;
    Notification notification;
    std::uint8_t flags;
    bool operator==(const Shape&) const = default;
};
Shape shape(const Event& e) {
    return {e.kind, e.request, e.block, e.size, e.scope, e.notification, e.flags};
}

class Capture : public EventSink {
public:
    void on_event(const Event& e) noexcept override { sessions[e.session].push_back(shape(e)); }
    std::map<std::uint64_t, std::vector<Shape>> sessions;
};

constexpr std::uint64_t kSessions = 20000; // about 1.1M events
constexpr std::uint64_t kFirstFlush = 50;  // every child reports this one

[[noreturn]] void child(const std::string& path, int progress_fd, int ready_fd, bool flushes) {
    RecorderOptions options;
    options.flush_interval_ms = 2; // many commits: kills land inside and between them
    Recorder recorder(path, options);
    Runtime rt(Config{}, &recorder);
    const char ready = 'r';
    (void)!::write(ready_fd, &ready, 1);
    for (std::uint64_t id = 1; id <= kSessions; ++id) {
        run_session(rt, id);
        if (id == kFirstFlush || (flushes && id % 200 == 0)) {
            recorder.flush();
            // Everything up to session `id` is committed now: tell the parent.
            (void)!::write(progress_fd, &id, sizeof id);
        }
    }
    for (;;)
        ::pause(); // until killed
}

std::string integrity(const std::string& path) {
    sqlite3* db = nullptr;
    std::string result = "cannot open";
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK &&
            sqlite3_step(stmt) == SQLITE_ROW)
            result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return result;
}

} // namespace

TEST(Crash, KilledRecorderLeavesAConsistentPrefix) {
    // The expected events of the first sessions, from the same workload without a recorder.
    Capture expected;
    {
        Runtime rt(Config{}, &expected);
        for (std::uint64_t id = 1; id <= kSessions; ++id)
            run_session(rt, id);
    }
    TempDir dir;
    std::mt19937 rng(std::random_device{}());
    constexpr int kRuns = 24;
    int runs_with_sessions = 0;
    for (int run = 0; run < kRuns; ++run) {
        SCOPED_TRACE("run " + std::to_string(run));
        const std::string path = dir.file("crash-" + std::to_string(run) + ".mltrace");
        int progress[2], ready[2];
        ASSERT_EQ(::pipe(progress), 0);
        ASSERT_EQ(::pipe(ready), 0);
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(progress[0]);
            ::close(ready[0]);
            child(path, progress[1], ready[1], run % 2 == 0);
        }
        ::close(progress[1]);
        ::close(ready[1]);
        // Most runs are killed while recording; every fourth at any moment after the fork
        // (possibly while the trace is being created). Even runs flush every 200 sessions,
        // odd ones leave commits to the writer's interval (larger transactions).
        const bool anytime = run % 4 == 3;
        char byte = 0;
        std::uint64_t flushed = 0, value = 0;
        if (!anytime) { // wait until the child records (slow under sanitizers)
            ASSERT_EQ(::read(ready[0], &byte, 1), 1);
            ASSERT_EQ(::read(progress[0], &flushed, sizeof flushed),
                      static_cast<ssize_t>(sizeof flushed));
        }
        std::this_thread::sleep_for(
            std::chrono::microseconds(anytime ? rng() % 20000 : 500 + rng() % 60000));
        ASSERT_EQ(::kill(pid, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        const bool was_ready = ::read(ready[0], &byte, 1) == 1 || !anytime;
        while (::read(progress[0], &value, sizeof value) == sizeof value)
            flushed = value;
        ::close(progress[0]);
        ::close(ready[0]);

        if (!std::filesystem::exists(path)) {
            EXPECT_FALSE(was_ready) << "the trace must exist once the recorder is constructed";
            continue;
        }
        ASSERT_EQ(integrity(path), "ok");
        TraceReader reader(path);
        const TraceInfo info = reader.info();
        EXPECT_FALSE(info.complete) << "a killed recording is an incomplete one";
        const std::vector<SessionRow> sessions = reader.sessions();
        // The reader's full consistency check passes on every committed prefix.
        EXPECT_NO_THROW(reader.verify());
        if (!sessions.empty()) ++runs_with_sessions;
        std::uint64_t total = 0;
        for (std::size_t i = 0; i < sessions.size(); ++i) {
            const SessionRow& row = sessions[i];
            ASSERT_EQ(row.id, i + 1) << "sessions are a prefix";
            ASSERT_LE(row.id, kSessions);
            std::vector<Shape> read;
            std::uint64_t allocs = 0, begins = 0;
            reader.for_each_event(
                [&](const Event& e) {
                    read.push_back(shape(e));
                    allocs += e.kind == EventKind::Alloc;
                    begins += e.kind == EventKind::RequestBegin;
                    return true;
                },
                row.id);
            const std::vector<Shape>& want = expected.sessions.at(row.id);
            ASSERT_LE(read.size(), want.size());
            ASSERT_TRUE(std::equal(read.begin(), read.end(), want.begin()))
                << "session " << row.id << " is not a prefix of what was emitted";
            // Only the last session may be cut short.
            if (i + 1 < sessions.size()) {
                ASSERT_EQ(read.size(), want.size()) << row.id;
            }
            // The summaries agree with the events committed with them.
            EXPECT_EQ(row.events, read.size());
            EXPECT_EQ(row.blocks, allocs);
            EXPECT_EQ(row.requests, begins);
            ASSERT_FALSE(read.empty()) << "a session row without events: session " << row.id;
            EXPECT_EQ(row.closed(), read.back().kind == EventKind::SessionClose);
            EXPECT_EQ(row.peer, "peer-" + std::to_string(row.id));
            EXPECT_EQ(reader.requests(row.id).size(), row.requests);
            total += read.size();
        }
        EXPECT_EQ(info.events, total);
        std::printf("run %2d: killed after %s; %zu sessions, %llu events, flushed through "
                    "session %llu%s\n",
                    run, anytime ? "fork" : "ready", sessions.size(),
                    static_cast<unsigned long long>(total),
                    static_cast<unsigned long long>(flushed),
                    std::filesystem::exists(path + "-wal") ? ", WAL left" : "");
        // Everything before the child's last completed flush is there.
        if (flushed > 0) {
            ASSERT_GE(sessions.size(), flushed);
            EXPECT_TRUE(sessions[flushed - 1].closed());
        }
        // Sequence numbers are contiguous from 1.
        run_sql(path, "SELECT min(seq), max(seq), count(*) FROM events",
                [&](const auto&, const auto& values) {
                    if (total == 0) return;
                    EXPECT_EQ(values[0], "1");
                    EXPECT_EQ(values[1], std::to_string(total));
                    EXPECT_EQ(values[2], std::to_string(total));
                });
    }
    EXPECT_GE(runs_with_sessions, kRuns * 3 / 4); // every run killed while recording
}
