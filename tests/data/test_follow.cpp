// Following a trace while it is recorded: the live marker (live, finished, stopped
// unexpectedly, also after SIGKILL), TraceFollower's change detection and deltas (every
// committed session and finding arrives, each read is one consistent commit), and a
// follower never keeping the recorder from finishing or its WAL from being checkpointed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "memlife/data/follow.hpp"
#include "memlife/data/reader.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "temp_dir.hpp"

using namespace memlife;
using namespace memlife::data;
using namespace std::chrono_literals;

namespace {

using memlife::test::TempDir;

// One connection of the test workload: a few requests of AllocMem blocks; every 7th session
// overruns a block (a corruption at close), every 5th leaks a noted request block.
void run_session(Runtime& rt, std::uint64_t id, int requests = 4) {
    Session* s = rt.open("10.0.0." + std::to_string(id % 250) + ":" + std::to_string(1000 + id));
    for (int r = 0; r < requests; ++r) {
        s->request_begin();
        s->set_notification(Notification::UrlMap);
        for (int k = 0; k < 3; ++k)
            s->alloc_mem(32 + static_cast<std::uint32_t>((id + k) % 64));
        if (id % 7 == 0 && r == 0) static_cast<char*>(s->alloc_mem(16))[16] = 'x';
        static char noted[64];
        if (id % 5 == 0 && r == 0) s->note_alloc(noted, sizeof noted, Scope::Request);
        s->request_end();
    }
    s->set_notification(Notification::EndOfNetSession);
    rt.close(s);
}

std::uintmax_t file_size(const std::string& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    return ec ? 0 : size;
}

// The journal mode byte of an SQLite file header: 1 rollback, 2 WAL.
int header_journal_byte(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char header[20] = {};
    in.read(header, sizeof header);
    return header[18];
}

// What a follower has seen, applied change by change.
struct Followed {
    std::map<std::uint64_t, SessionRow> sessions;
    std::size_t corruptions = 0, leaks = 0;
    std::uint64_t batch_events = 0; // the counts of every batch seen
    TraceCursor cursor;
    int deltas = 0;
    // Each read was one commit: the meta table's event count matched the sessions' (a
    // first read) or the batches' up to its cursor (the deltas).
    bool consistent = true;

    void apply(const TraceChanges& c) {
        ++deltas;
        for (const SessionRow& s : c.sessions)
            sessions[s.id] = s;
        corruptions += c.corruptions.size();
        leaks += c.leaks.size();
        if (c.all) {
            std::uint64_t events = 0;
            for (const SessionRow& s : c.sessions)
                events += s.events;
            batch_events = events;
        }
        for (const BatchInfo& b : c.batches)
            batch_events += b.count;
        if (batch_events != c.cursor.events) consistent = false;
        cursor = c.cursor;
    }
};

} // namespace

TEST(Follow, ALiveTraceReadsAsLiveThenFinished) {
    TempDir dir;
    const std::string path = dir.file("live.trace");
    Recorder recorder(path);
    Runtime rt(Config{}, &recorder);
    run_session(rt, 1);
    recorder.flush();
    EXPECT_TRUE(std::filesystem::exists(path + "-live"));
    EXPECT_EQ(TraceReader(path).info().recording, RecordingState::Live);
    TraceFollower follower(path);
    EXPECT_TRUE(follower.poll());
    EXPECT_EQ(follower.state(), RecordingState::Live);
    recorder.commit();
    EXPECT_FALSE(std::filesystem::exists(path + "-live"));
    EXPECT_TRUE(follower.poll());
    EXPECT_EQ(follower.state(), RecordingState::Finished);
    EXPECT_EQ(TraceReader(path).info().recording, RecordingState::Finished);
}

TEST(Follow, ASecondRecorderOfTheSameTraceIsRefused) {
    TempDir dir;
    const std::string path = dir.file("twice.trace");
    Recorder first(path);
    try {
        Recorder second(path);
        FAIL() << "a second recorder of a live trace was accepted";
    } catch (const TraceError& e) {
        EXPECT_EQ(e.kind(), TraceError::Kind::Io);
        EXPECT_NE(std::string(e.what()).find("is being recorded by another process (pid " +
                                             std::to_string(::getpid()) + ")"),
                  std::string::npos)
            << e.what();
    }
    first.commit();
    EXPECT_NO_THROW(Recorder again(path)); // once finished, a new recording may replace it
}

TEST(Follow, AnImportIsNeverLive) {
    TempDir dir;
    const std::string path = dir.file("atomic.trace");
    RecorderOptions options;
    options.atomic = true;
    Recorder recorder(path, options);
    EXPECT_FALSE(std::filesystem::exists(path + "-live"));
    recorder.commit();
    EXPECT_EQ(TraceReader(path).info().recording, RecordingState::Finished);
}

// The acceptance test: a recorder killed with SIGKILL leaves a trace that opens as
// "stopped unexpectedly", not as live; while it ran, another process saw it live.
TEST(Follow, ARecorderKilledWithSigkillLeavesAnInterruptedTrace) {
    TempDir dir;
    const std::string path = dir.file("killed.trace");
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        Recorder recorder(path);
        Runtime rt(Config{}, &recorder);
        for (std::uint64_t id = 1; id <= 50; ++id)
            run_session(rt, id);
        recorder.flush();
        const char byte = 'r';
        (void)!::write(ready[1], &byte, 1);
        for (std::uint64_t id = 51;; ++id) // keeps writing until killed
            run_session(rt, id);
    }
    ::close(ready[1]);
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);
    ::close(ready[0]);
    {
        TraceFollower follower(path);
        follower.poll();
        EXPECT_EQ(follower.state(), RecordingState::Live);
        EXPECT_EQ(TraceReader(path).info().recording, RecordingState::Live);
        const TraceChanges all = follower.changes_since(std::nullopt);
        EXPECT_GE(all.sessions.size(), 50u);
        ASSERT_EQ(::kill(child, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFSIGNALED(status));
        // A follower that was watching sees the end at its next poll.
        EXPECT_TRUE(follower.poll());
        EXPECT_EQ(follower.state(), RecordingState::Interrupted);
    }
    // The marker file stays (nobody could remove it), but unlocked it means nothing.
    EXPECT_TRUE(std::filesystem::exists(path + "-live"));
    TraceReader reader(path);
    EXPECT_EQ(reader.info().recording, RecordingState::Interrupted);
    EXPECT_GE(reader.sessions().size(), 50u);
    TraceFollower after(path);
    after.poll();
    EXPECT_EQ(after.state(), RecordingState::Interrupted);
    // A new recording of the same name takes the stale marker over.
    Recorder again(path);
    EXPECT_EQ(TraceReader(path).info().recording, RecordingState::Live);
}

TEST(Follow, AReplacedTraceIsNotTakenForTheNewRecording) {
    TempDir dir;
    const std::string path = dir.file("replaced.trace");
    { Recorder first(path); } // finished (complete = 1)
    // A trace left unfinished (as by a killed recorder): complete = 0, no writer.
    std::filesystem::copy_file(path, dir.file("old.trace"));
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(dir.file("old.trace").c_str(), &db), SQLITE_OK);
        sqlite3_exec(db, "UPDATE meta SET value = 0 WHERE key = 'complete'", nullptr, nullptr,
                     nullptr);
        sqlite3_close(db);
    }
    std::filesystem::rename(dir.file("old.trace"), path);
    TraceReader old_reader(path);
    EXPECT_EQ(old_reader.info().recording, RecordingState::Interrupted);
    Recorder second(path); // replaces the file: the old reader still reads the old one
    EXPECT_EQ(old_reader.info().recording, RecordingState::Interrupted);
    EXPECT_EQ(TraceReader(path).info().recording, RecordingState::Live);
}

// The acceptance core of following: a recorder thread writes while a follower polls; every
// committed session and finding shows up, with its final row; each delta is one commit.
TEST(Follow, EveryCommittedSessionAndFindingArrives) {
    TempDir dir;
    const std::string path = dir.file("follow.trace");
    RecorderOptions options;
    options.flush_interval_ms = 5; // many commits
    auto recorder = std::make_unique<Recorder>(path, options);
    constexpr std::uint64_t kSessions = 3000;
    std::atomic<bool> done{false};
    std::thread writer([&] {
        Runtime rt(Config{}, recorder.get());
        for (std::uint64_t id = 1; id <= kSessions; ++id) {
            run_session(rt, id);
            if (id % 100 == 0) std::this_thread::sleep_for(1ms);
        }
        recorder->commit();
        done = true;
    });
    TraceFollower follower(path);
    Followed seen;
    seen.apply(follower.changes_since(std::nullopt));
    EXPECT_TRUE(seen.consistent); // the first read (everything) is one commit too
    int polls = 0, changed = 0;
    while (follower.state() == RecordingState::Live || !done) {
        ++polls;
        if (follower.poll()) {
            ++changed;
            seen.apply(follower.changes_since(seen.cursor));
            if (changed % 10 == 0) { // a first read in the middle of the recording
                Followed fresh;
                fresh.apply(follower.changes_since(std::nullopt));
                EXPECT_TRUE(fresh.consistent) << "a first read after " << changed << " deltas";
            }
        }
        if (follower.state() != RecordingState::Live) break;
        std::this_thread::sleep_for(2ms);
    }
    writer.join();
    seen.apply(follower.changes_since(seen.cursor)); // anything after the last poll
    EXPECT_TRUE(seen.consistent);
    EXPECT_GT(seen.deltas, 5) << "the follower saw the trace grow";
    EXPECT_EQ(follower.state(), RecordingState::Finished);

    TraceReader reader(path);
    const std::vector<SessionRow> final_rows = reader.sessions();
    ASSERT_EQ(final_rows.size(), kSessions);
    ASSERT_EQ(seen.sessions.size(), kSessions);
    for (const SessionRow& s : final_rows) {
        const SessionRow& f = seen.sessions.at(s.id);
        EXPECT_EQ(f.close_ns, s.close_ns) << "session " << s.id;
        EXPECT_EQ(f.requests, s.requests) << "session " << s.id;
        EXPECT_EQ(f.events, s.events) << "session " << s.id;
        EXPECT_EQ(f.corruptions, s.corruptions) << "session " << s.id;
        EXPECT_EQ(f.leaks, s.leaks) << "session " << s.id;
    }
    EXPECT_EQ(seen.corruptions, reader.corruptions().size());
    EXPECT_EQ(seen.leaks, reader.leaks().size());
    EXPECT_EQ(seen.corruptions, kSessions / 7);
    EXPECT_EQ(seen.leaks, kSessions / 5);
    EXPECT_EQ(seen.cursor.events, reader.info().events);
    EXPECT_GT(changed, 0);
    EXPECT_GE(polls, changed);
}

TEST(Follow, NothingChangedMeansAnEmptyDeltaAndNoPoll) {
    TempDir dir;
    const std::string path = dir.file("idle.trace");
    Recorder recorder(path);
    Runtime rt(Config{}, &recorder);
    run_session(rt, 1);
    recorder.flush();
    TraceFollower follower(path);
    EXPECT_TRUE(follower.poll()); // the first one
    const TraceChanges all = follower.changes_since(std::nullopt);
    EXPECT_TRUE(all.all);
    EXPECT_EQ(all.sessions.size(), 1u);
    EXPECT_FALSE(follower.poll());
    const TraceChanges none = follower.changes_since(all.cursor);
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(none.cursor, all.cursor);
    run_session(rt, 2);
    recorder.flush();
    EXPECT_TRUE(follower.poll());
    const TraceChanges one = follower.changes_since(all.cursor);
    ASSERT_EQ(one.sessions.size(), 1u);
    EXPECT_EQ(one.sessions[0].id, 2u);
    EXPECT_FALSE(one.batches.empty());
    EXPECT_GT(one.cursor.events, all.cursor.events);
}

TEST(Follow, AnOpenSessionShowsItsLiveBytes) {
    TempDir dir;
    const std::string path = dir.file("open.trace");
    Recorder recorder(path);
    Runtime rt(Config{}, &recorder);
    Session* s = rt.open("10.0.0.1:1");
    s->request_begin();
    s->alloc_mem(1000);
    s->request_end();
    recorder.flush();
    TraceFollower follower(path);
    TraceChanges all = follower.changes_since(std::nullopt);
    ASSERT_EQ(all.sessions.size(), 1u);
    EXPECT_EQ(all.sessions[0].live_bytes, 1000u);
    EXPECT_FALSE(all.sessions[0].closed());
    s->request_begin();
    s->alloc_mem(500);
    s->request_end();
    recorder.flush();
    ASSERT_TRUE(follower.poll());
    const TraceChanges more = follower.changes_since(all.cursor);
    ASSERT_EQ(more.sessions.size(), 1u);
    EXPECT_EQ(more.sessions[0].live_bytes, 1500u);
    EXPECT_EQ(more.sessions[0].requests, 2u);
    rt.close(s);
}

// Outlived blocks come after their session closed (when its close window ended, memlife
// record): the follower brings the session again with the count, as TraceReader counts it.
TEST(Follow, ASessionsOutlivedBlocksArriveAfterItClosed) {
    TempDir dir;
    const std::string path = dir.file("outlived.trace");
    Recorder recorder(path);
    Runtime rt(Config{}, &recorder);
    run_session(rt, 1);
    run_session(rt, 2);
    ml_report report{};
    report.kind = ML_REPORT_OUTLIVED;
    report.session_id = 1;
    report.block_id = 9;
    report.address = 0x4000;
    report.size = 64;
    recorder.on_report(report);
    recorder.flush();
    TraceFollower follower(path);
    const TraceChanges all = follower.changes_since(std::nullopt);
    ASSERT_EQ(all.sessions.size(), 2u);
    EXPECT_EQ(all.sessions[0].outlived, 1u);
    EXPECT_EQ(all.sessions[0].outlived_bytes, 64u);
    EXPECT_EQ(all.sessions[1].outlived, 0u);
    report.session_id = 2;
    report.size = 100;
    recorder.on_report(report); // no event of session 2 comes with it
    recorder.flush();
    ASSERT_TRUE(follower.poll());
    const TraceChanges later = follower.changes_since(all.cursor);
    EXPECT_TRUE(later.batches.empty());
    ASSERT_EQ(later.sessions.size(), 1u);
    EXPECT_EQ(later.sessions[0].id, 2u);
    EXPECT_EQ(later.sessions[0].outlived, 1u);
    EXPECT_EQ(later.sessions[0].outlived_bytes, 100u);
    EXPECT_GT(later.cursor.outlived, all.cursor.outlived);
    EXPECT_TRUE(follower.changes_since(later.cursor).empty());
}

// A reader opened while the trace is recorded counts the events recorded since (the GUI's
// readers outlive many commits: compare mode profiles a followed trace with one).
TEST(Follow, AReaderOpenedWhileRecordingCountsWhatCameLater) {
    TempDir dir;
    const std::string path = dir.file("later.trace");
    Recorder recorder(path);
    Runtime rt(Config{}, &recorder);
    run_session(rt, 1);
    recorder.flush();
    const TraceReader reader(path);
    ASSERT_EQ(reader.info().recording, RecordingState::Live);
    const std::uint64_t before = reader.event_count();
    for (std::uint64_t id = 2; id <= 5; ++id)
        run_session(rt, id);
    recorder.flush();
    EXPECT_GT(reader.event_count(), before);
    EXPECT_EQ(reader.event_count(), reader.info().events);
}

// A follower that lets go when it sees the trace finished: the recorder folds the WAL back
// (one self-contained file). One that never lets go: the recorder still finishes, in WAL
// mode with everything checkpointed into the main file.
TEST(Follow, AFollowerNeverKeepsTheRecorderFromFinishing) {
    TempDir dir;
    for (const bool lets_go : {true, false}) {
        SCOPED_TRACE(lets_go ? "the follower lets go" : "the follower holds on");
        const std::string path = dir.file(lets_go ? "lets-go.trace" : "holds-on.trace");
        auto recorder = std::make_unique<Recorder>(path);
        {
            Runtime rt(Config{}, recorder.get());
            for (std::uint64_t id = 1; id <= 20; ++id)
                run_session(rt, id);
        }
        recorder->flush();
        TraceFollower follower(path);
        follower.changes_since(std::nullopt);
        std::atomic<bool> stop{false};
        std::thread watcher([&] {
            while (!stop) {
                if (follower.poll() && follower.state() == RecordingState::Finished && lets_go)
                    follower.release();
                std::this_thread::sleep_for(20ms);
            }
        });
        const auto start = std::chrono::steady_clock::now();
        EXPECT_NO_THROW(recorder->commit());
        const auto took = std::chrono::steady_clock::now() - start;
        stop = true;
        watcher.join();
        EXPECT_LT(took, 3s);
        if (lets_go) {
            EXPECT_EQ(header_journal_byte(path), 1) << "rollback mode: one self-contained file";
            EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
        } else {
            EXPECT_EQ(file_size(path + "-wal"), 0u) << "everything checkpointed";
        }
        follower.release();
        TraceReader reader(path);
        EXPECT_EQ(reader.info().recording, RecordingState::Finished);
        EXPECT_EQ(reader.sessions().size(), 20u);
    }
}

// While a follower polls and reads deltas, the -wal file stays about as large as without
// one: its reads are short, so checkpoints complete and the log restarts. (CI-sized: 2 s of
// recording per run; scripts/bench.sh measures 30 s at 1M events/s as follow_wal_vs_alone.)
TEST(Follow, AFollowerDoesNotMakeTheWalGrow) {
    TempDir dir;
    const auto largest_wal = [&](const std::string& name, bool follow) {
        const std::string path = dir.file(name);
        auto recorder = std::make_unique<Recorder>(path);
        std::atomic<bool> stop{false};
        std::thread writer([&] {
            // About 1M events/s: 100 sessions of 20 requests are about 12,000 events.
            Runtime rt(Config{}, recorder.get());
            auto next = std::chrono::steady_clock::now();
            for (std::uint64_t id = 1; !stop; ++id) {
                run_session(rt, id, 20);
                if (id % 100 == 0) std::this_thread::sleep_until(next += 12ms);
            }
        });
        std::thread follower_thread;
        if (follow)
            follower_thread = std::thread([&] {
                TraceFollower follower(path);
                TraceCursor at = follower.changes_since(std::nullopt).cursor;
                while (!stop) {
                    if (follower.poll()) at = follower.changes_since(at).cursor;
                    std::this_thread::sleep_for(100ms);
                }
            });
        std::uintmax_t largest = 0;
        const auto end = std::chrono::steady_clock::now() + 2s;
        while (std::chrono::steady_clock::now() < end) {
            largest = std::max(largest, file_size(path + "-wal"));
            std::this_thread::sleep_for(5ms);
        }
        stop = true;
        writer.join();
        if (follower_thread.joinable()) follower_thread.join();
        recorder->commit();
        return largest;
    };
    const std::uintmax_t alone = largest_wal("alone.trace", false);
    const std::uintmax_t followed = largest_wal("followed.trace", true);
    ASSERT_GT(alone, 0u);
    EXPECT_LT(followed, 2 * alone) << "alone " << alone << " bytes, followed " << followed;
    std::printf("largest -wal: alone %ju bytes, followed %ju bytes\n", alone, followed);
}
