// Recorder round trip: what the allocator emitted is what the reader returns.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "memlife/data/reader.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "read_events.hpp"
#include "temp_dir.hpp"

using namespace memlife;
using namespace memlife::data;

namespace {

using memlife::test::read_events;

using memlife::test::TempDir;

// An EventSink that forwards to the recorder and keeps a copy of everything, so the test
// can compare what was recorded with what is read back.
class Tee : public EventSink {
public:
    explicit Tee(EventSink& next) : next_(next) {}
    void on_event(const Event& e) noexcept override {
        {
            std::lock_guard lock(mutex_);
            events_.push_back(e);
        }
        next_.on_event(e);
    }
    void on_session_open(const Event& e, std::string_view peer) noexcept override {
        {
            std::lock_guard lock(mutex_);
            events_.push_back(e);
            peers_[e.session] = std::string(peer);
        }
        next_.on_session_open(e, peer);
    }
    void on_report(const ml_report& r) noexcept override {
        {
            std::lock_guard lock(mutex_);
            reports_.push_back(r);
        }
        next_.on_report(r);
    }
    void flush() noexcept override { next_.flush(); }
    // Batches pass through as batches, so the recorder's batch path is the one tested.
    bool accepts_batches() const noexcept override { return next_.accepts_batches(); }
    void on_events(const Event* e, std::size_t n) noexcept override {
        {
            std::lock_guard lock(mutex_);
            events_.insert(events_.end(), e, e + n);
        }
        next_.on_events(e, n);
    }

    std::vector<Event> events() const {
        std::lock_guard lock(mutex_);
        return events_;
    }
    std::vector<Event> events_of(std::uint64_t session) const {
        std::vector<Event> out;
        for (const Event& e : events())
            if (e.session == session) out.push_back(e);
        return out;
    }
    std::map<std::uint64_t, std::string> peers() const {
        std::lock_guard lock(mutex_);
        return peers_;
    }
    std::vector<ml_report> reports() const {
        std::lock_guard lock(mutex_);
        return reports_;
    }

private:
    EventSink& next_;
    mutable std::mutex mutex_;
    std::vector<Event> events_;
    std::map<std::uint64_t, std::string> peers_;
    std::vector<ml_report> reports_;
};

bool same_event(const Event& a, const Event& b) {
    return std::memcmp(&a, &b, sizeof(Event)) == 0;
}

// One keep-alive connection: `requests` requests with AllocMem and request memory, a noted
// block freed and one leaked, and (optionally) a tail overrun.
void run_session(Session* s, int requests, bool corrupt) {
    for (int r = 1; r <= requests; ++r) {
        ASSERT_EQ(s->request_begin(), ML_OK);
        s->set_notification(Notification::ReadRawData);
        s->set_notification(Notification::PreprocHeaders);
        s->set_notification(Notification::UrlMap);
        void* kept = s->alloc_mem(100 + r);
        ASSERT_NE(kept, nullptr);
        ASSERT_NE(s->alloc_request(2000), nullptr);
        static char noted[4][64];
        ASSERT_EQ(s->note_alloc(noted[r % 4], 64, Scope::Request), ML_OK);
        ASSERT_EQ(s->note_free(noted[r % 4]), ML_OK);
        if (corrupt && r == 2) static_cast<char*>(kept)[100 + r] = 'X'; // one byte past the end
        s->set_notification(Notification::SendResponse);
        s->set_notification(Notification::EndOfRequest);
        ASSERT_EQ(s->request_end(), ML_OK);
    }
    static char leaked[64];
    ASSERT_EQ(s->note_alloc(leaked, 32, Scope::Session), ML_OK);
    s->set_notification(Notification::EndOfNetSession);
}

} // namespace

TEST(Recorder, RoundTripOneSession) {
    TempDir dir;
    const std::string path = dir.file("one.mltrace");
    std::uint64_t session_id = 0;
    std::vector<Event> recorded;
    std::vector<ml_report> reports;
    {
        Recorder recorder(path);
        Tee tee(recorder);
        Runtime rt(Config{}, &tee);
        Session* s = rt.open("10.0.0.7:51234");
        session_id = s->id();
        run_session(s, 5, true);
        rt.close(s);
        recorder.commit();
        recorded = tee.events();
        reports = tee.reports();
    }
    TraceReader reader(path);
    EXPECT_EQ(read_events(reader, std::nullopt).size(), recorded.size());
    const std::vector<Event> read = read_events(reader, session_id);
    ASSERT_EQ(read.size(), recorded.size());
    for (std::size_t i = 0; i < read.size(); ++i)
        EXPECT_TRUE(same_event(read[i], recorded[i]))
            << "event " << i << " kind " << name(recorded[i].kind);

    const TraceInfo info = reader.info();
    EXPECT_EQ(info.schema_version, 3u);
    EXPECT_EQ(info.source, "recorder");
    EXPECT_EQ(info.time_resolution_ns, 1u); // measured
    EXPECT_EQ(info.events, recorded.size());
    EXPECT_EQ(info.sessions, 1u);
    EXPECT_EQ(info.dropped_events, 0u);
    EXPECT_EQ(info.first_ns, recorded.front().time_ns);
    EXPECT_EQ(info.last_ns, recorded.back().time_ns);

    const auto row = reader.session(session_id);
    ASSERT_TRUE(row.has_value());
    EXPECT_EQ(row->peer, "10.0.0.7:51234");
    EXPECT_EQ(row->requests, 5u);
    EXPECT_TRUE(row->closed());
    EXPECT_EQ(row->corruptions, 1u);
    EXPECT_EQ(row->leaks, 1u);
    EXPECT_EQ(row->leaked_bytes, 32u);
    EXPECT_EQ(row->blocks, 5u * 3 + 1);
    EXPECT_EQ(row->events, recorded.size());
    // Session memory: 101 + 102 + ... + 105 plus the leaked noted block, all released at close.
    EXPECT_EQ(row->released_at_close_bytes, 515u + 32);
    EXPECT_EQ(row->peak_bytes, 515u - 105 + 105 + 2000 + 64); // during request 5
    EXPECT_NEAR(row->growth_bytes_per_request, 103.0, 1.0);

    const std::vector<RequestRow> requests = reader.requests(session_id);
    ASSERT_EQ(requests.size(), 5u);
    std::uint64_t kept = 0;
    for (std::uint32_t i = 0; i < 5; ++i) {
        kept += 101 + i;
        EXPECT_EQ(requests[i].number, i + 1);
        EXPECT_EQ(requests[i].live_bytes_at_end, kept);
        EXPECT_EQ(requests[i].released_bytes, 2000u);
        EXPECT_EQ(requests[i].blocks, 3u);
        EXPECT_EQ(requests[i].peak_bytes, kept + 2000 + 64);
        EXPECT_EQ(requests[i].corruptions, 0u); // session blocks are checked at close
        EXPECT_LT(requests[i].begin_ns, requests[i].end_ns);
    }

    const auto corruptions = reader.corruptions();
    ASSERT_EQ(corruptions.size(), 1u);
    EXPECT_EQ(corruptions[0].session, session_id);
    EXPECT_EQ(corruptions[0].alloc_request, 2u);
    EXPECT_EQ(corruptions[0].size, 102u);
    EXPECT_EQ(corruptions[0].first_offset, 0u);
    EXPECT_EQ(corruptions[0].found[0], 'X');
    EXPECT_EQ(corruptions[0].expected.size(), 16u);
    EXPECT_EQ(corruptions[0].alloc_notification, Notification::UrlMap);
    const auto report = std::find_if(reports.begin(), reports.end(), [](const ml_report& r) {
        return r.kind == ML_REPORT_CORRUPTION;
    });
    ASSERT_NE(report, reports.end());
    EXPECT_EQ(corruptions[0].message, std::string(report->message));
    EXPECT_EQ(corruptions[0].expected,
              std::string(reinterpret_cast<const char*>(report->expected), report->tail_len));
    const auto leaks = reader.leaks(session_id);
    ASSERT_EQ(leaks.size(), 1u);
    EXPECT_EQ(leaks[0].size, 32u);
    EXPECT_EQ(leaks[0].scope, Scope::Session);
    EXPECT_TRUE(reader.leaks(session_id + 1).empty());
}

TEST(Recorder, BlocksAreReconstructed) {
    TempDir dir;
    const std::string path = dir.file("blocks.mltrace");
    std::uint64_t id = 0;
    {
        Recorder recorder(path);
        Runtime rt(Config{}, &recorder);
        Session* s = rt.open("peer");
        id = s->id();
        run_session(s, 3, true);
        rt.close(s);
    } // the destructor commits
    TraceReader reader(path);
    std::vector<BlockRow> blocks;
    reader.for_each_block(id, [&](const BlockRow& b) {
        blocks.push_back(b);
        return true;
    });
    ASSERT_EQ(blocks.size(), 3u * 3 + 1);
    const auto row = reader.session(id);
    std::map<AllocOrigin, int> origins;
    for (const BlockRow& b : blocks) {
        ++origins[b.origin];
        EXPECT_NE(b.release_ns, 0u);
        EXPECT_GE(b.release_ns, b.alloc_ns);
        if (b.origin == AllocOrigin::AllocRequest) {
            EXPECT_LT(b.release_ns, row->close_ns);
        }
        if (b.origin == AllocOrigin::AllocMem) {
            EXPECT_EQ(b.release_ns, row->close_ns);
        }
        EXPECT_EQ(b.tail == TailStatus::Corrupted,
                  b.origin == AllocOrigin::AllocMem && b.request == 2);
        EXPECT_EQ(b.leaked, b.origin == AllocOrigin::Noted && b.scope == Scope::Session);
        // What released it: the leaked block only the close, the other noted ones their free.
        const ReleasedBy expected = b.origin == AllocOrigin::AllocRequest ? ReleasedBy::RequestEnd
                                    : b.origin == AllocOrigin::Noted && !b.leaked
                                        ? ReleasedBy::Free
                                        : ReleasedBy::SessionClose;
        EXPECT_EQ(b.released_by, expected) << "block " << b.id;
    }
    EXPECT_EQ(origins[AllocOrigin::AllocMem], 3);
    EXPECT_EQ(origins[AllocOrigin::AllocRequest], 3);
    EXPECT_EQ(origins[AllocOrigin::Noted], 4);
    // Stopping early is honoured.
    int seen = 0;
    reader.for_each_block(id, [&](const BlockRow&) { return ++seen < 2; });
    EXPECT_EQ(seen, 2);
}

TEST(Recorder, LiveBytesSeriesFollowsTheSession) {
    TempDir dir;
    const std::string path = dir.file("series.mltrace");
    std::uint64_t id = 0;
    {
        Recorder recorder(path);
        Runtime rt(Config{}, &recorder);
        Session* s = rt.open("peer");
        id = s->id();
        for (int r = 0; r < 200; ++r) {
            s->request_begin();
            s->alloc_mem(10);
            s->alloc_request(1000);
            s->request_end();
        }
        rt.close(s);
    }
    TraceReader reader(path);
    const auto full = reader.live_bytes_series(id);
    // open, then per request: +10, +1000, -1000; then close.
    ASSERT_EQ(full.size(), 1u + 200 * 3 + 1);
    EXPECT_EQ(full.front().live_bytes, 0u);
    EXPECT_EQ(full[full.size() - 2].live_bytes, 2000u);
    EXPECT_EQ(full.back().live_bytes, 0u);
    std::uint64_t peak = 0;
    for (std::size_t i = 1; i < full.size(); ++i) {
        EXPECT_GE(full[i].time_ns, full[i - 1].time_ns);
        peak = std::max(peak, full[i].live_bytes);
    }
    EXPECT_EQ(peak, 2000u + 1000);

    const auto reduced = reader.live_bytes_series(id, std::nullopt, 50);
    EXPECT_LE(reduced.size(), 50u);
    EXPECT_GE(reduced.size(), 10u);
    std::uint64_t reduced_peak = 0;
    for (const auto& p : reduced)
        reduced_peak = std::max(reduced_peak, p.live_bytes);
    EXPECT_EQ(reduced_peak, peak); // min/max buckets keep the peak
    EXPECT_EQ(reduced.back().live_bytes, 0u);

    // A window in the middle starts with the value holding at its beginning.
    const std::uint64_t begin = full[300].time_ns + 1, end = full[400].time_ns;
    const auto window = reader.live_bytes_series(id, TimeWindow{begin, end});
    ASSERT_FALSE(window.empty());
    EXPECT_EQ(window.front().time_ns, begin);
    EXPECT_EQ(window.front().live_bytes, full[300].live_bytes);
    EXPECT_EQ(window.back().time_ns, full[400].time_ns);
    for (const auto& p : window) {
        EXPECT_GE(p.time_ns, begin);
        EXPECT_LE(p.time_ns, end);
    }
    EXPECT_THROW(reader.live_bytes_series(id, TimeWindow{10, 5}), TraceError);
    EXPECT_THROW(reader.live_bytes_series(id + 100), TraceError);
}

TEST(Recorder, EightSessionsOnEightThreads) {
    TempDir dir;
    const std::string path = dir.file("threads.mltrace");
    constexpr int kThreads = 8;
    std::unique_ptr<Tee> tee;
    {
        // A small buffer limit so that back-pressure (block) is exercised too.
        RecorderOptions options;
        options.max_buffered_events = 4096 * 2;
        options.flush_interval_ms = 5;
        Recorder recorder(path, options);
        tee = std::make_unique<Tee>(recorder);
        Runtime rt(Config{}, tee.get());
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&rt, &recorder, t] {
                Session* s = rt.open("thread-" + std::to_string(t));
                for (int r = 0; r < 300 + 50 * t; ++r) {
                    s->request_begin();
                    s->set_notification(Notification::UrlMap);
                    for (int i = 0; i < 10; ++i)
                        s->alloc_mem(16 + i);
                    s->alloc_request(64);
                    s->request_end();
                    if (r % 100 == 0) recorder.flush();
                }
                rt.close(s);
            });
        }
        for (auto& th : threads)
            th.join();
        recorder.commit();
        EXPECT_EQ(recorder.dropped_events(), 0u);
    }
    TraceReader reader(path);
    const auto sessions = reader.sessions();
    ASSERT_EQ(sessions.size(), static_cast<std::size_t>(kThreads));
    const auto peers = tee->peers();
    std::uint64_t total = 0;
    for (const SessionRow& row : sessions) {
        const std::vector<Event> expected = tee->events_of(row.id);
        const std::vector<Event> read = read_events(reader, row.id);
        ASSERT_EQ(read.size(), expected.size()) << "session " << row.id;
        for (std::size_t i = 0; i < read.size(); ++i)
            ASSERT_TRUE(same_event(read[i], expected[i])) << "session " << row.id << " event " << i;
        EXPECT_EQ(row.peer, peers.at(row.id));
        EXPECT_EQ(row.events, expected.size());
        EXPECT_EQ(reader.requests(row.id).size(), row.requests);
        total += row.events;
    }
    EXPECT_EQ(reader.info().events, total);
    // The global stream holds every event once, each session's in order.
    std::map<std::uint64_t, std::uint64_t> last_time;
    std::uint64_t count = 0;
    reader.for_each_event([&](const Event& e) {
        ++count;
        EXPECT_GE(e.time_ns, last_time[e.session]);
        last_time[e.session] = e.time_ns;
        return true;
    });
    EXPECT_EQ(count, total);
    EXPECT_TRUE(reader.order_violations().empty());
}

TEST(Recorder, DropModeCountsWhatItDrops) {
    TempDir dir;
    const std::string path = dir.file("drop.mltrace");
    std::uint64_t dropped = 0;
    constexpr std::uint64_t kEvents = 2'000'000;
    {
        RecorderOptions options;
        options.back_pressure = BackPressure::Drop;
        options.max_buffered_events = 4096; // one chunk in flight at most
        Recorder recorder(path, options);
        Event e;
        e.session = 1;
        e.kind = EventKind::Notification;
        for (std::uint64_t i = 0; i < kEvents; ++i) {
            e.time_ns = i + 1;
            recorder.on_event(e);
        }
        recorder.commit();
        dropped = recorder.dropped_events();
    }
    TraceReader reader(path);
    const TraceInfo info = reader.info();
    EXPECT_EQ(info.dropped_events, dropped);
    std::uint64_t notifications = 0, drop_records = 0, drop_total = 0;
    reader.for_each_event([&](const Event& e) {
        if (e.kind == EventKind::Drop) {
            ++drop_records;
            drop_total += e.size;
        } else {
            ++notifications;
        }
        return true;
    });
    EXPECT_EQ(notifications + dropped, kEvents); // nothing lost silently
    EXPECT_LE(drop_total, dropped);              // the last gap may have no record yet
    EXPECT_EQ(drop_records > 0, drop_total > 0);
}

TEST(Recorder, AtomicModeOnlyAppearsOnCommit) {
    TempDir dir;
    const std::string path = dir.file("atomic.mltrace");
    RecorderOptions options;
    options.atomic = true;
    options.source = "jsonl";
    {
        Recorder recorder(path, options);
        Event e;
        e.session = 3;
        e.kind = EventKind::SessionOpen;
        recorder.on_session_open(e, "peer");
        recorder.flush();
        EXPECT_FALSE(std::filesystem::exists(path));
        recorder.abort();
    }
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_TRUE(std::filesystem::is_empty(path.substr(0, path.rfind('/'))));
    {
        Recorder recorder(path, options);
        Event e;
        e.session = 3;
        e.kind = EventKind::SessionOpen;
        e.time_ns = 5;
        recorder.on_session_open(e, "peer");
        recorder.set_skipped_lines(7);
        recorder.set_malformed_lines(2);
        recorder.commit();
    }
    TraceReader reader(path);
    EXPECT_EQ(reader.info().source, "jsonl");
    EXPECT_EQ(reader.info().skipped_lines, 7u);
    EXPECT_EQ(reader.info().malformed_lines, 2u);
    ASSERT_EQ(reader.sessions().size(), 1u);
    EXPECT_EQ(reader.sessions()[0].peer, "peer");
    EXPECT_FALSE(reader.sessions()[0].closed());
}

TEST(Recorder, FlushMakesEventsVisibleWhileRecording) {
    TempDir dir;
    const std::string path = dir.file("live.mltrace");
    Recorder recorder(path);
    Runtime rt(Config{}, &recorder);
    Session* s = rt.open("peer");
    s->request_begin();
    s->alloc_mem(100);
    s->request_end(); // the session hands its events over here...
    s->request_begin();
    for (std::size_t i = 0; i < kSessionBatch; ++i) // ...and whenever its batch is full
        s->alloc_mem(10);
    recorder.flush();
    {
        TraceReader reader(path); // read-only, while the recorder still writes
        const auto row = reader.session(s->id());
        ASSERT_TRUE(row.has_value());
        EXPECT_EQ(row->blocks, 1 + kSessionBatch - 1); // the RequestBegin took one place
        EXPECT_EQ(row->peak_bytes, 100 + 10 * (kSessionBatch - 1));
        EXPECT_FALSE(row->closed());
        const auto requests = reader.requests(s->id());
        ASSERT_EQ(requests.size(), 2u);
        EXPECT_NE(requests[0].end_ns, 0u);
        EXPECT_EQ(requests[1].end_ns, 0u); // still running
    }
    s->request_end();
    rt.close(s);
}

// A session's events reach the recorder in batches; one that hands them over while another
// session on the same thread is in the middle of a request keeps its own order.
TEST(Recorder, BatchesOfInterleavedSessionsKeepEachSessionsOrder) {
    TempDir dir;
    const std::string path = dir.file("interleaved.mltrace");
    {
        Recorder recorder(path);
        Runtime rt(Config{}, &recorder);
        Session* a = rt.open("a");
        Session* b = rt.open("b");
        for (int r = 0; r < 3; ++r) {
            a->request_begin();
            b->request_begin();
            for (int i = 0; i < 100; ++i) {
                a->alloc_mem(1 + i);
                b->alloc_mem(1000 + i);
            }
            b->request_end();
            a->request_end();
        }
        rt.close(b);
        rt.close(a);
        recorder.commit();
    }
    TraceReader reader(path);
    for (const SessionRow& row : reader.sessions()) {
        const std::vector<Event> events = read_events(reader, row.id);
        ASSERT_EQ(events.size(), 1 + 3 * (2 + 100) + 1u);
        EXPECT_EQ(events.front().kind, EventKind::SessionOpen);
        EXPECT_EQ(events.back().kind, EventKind::SessionClose);
        std::uint64_t block = 0, time = 0;
        for (const Event& e : events) {
            EXPECT_GE(e.time_ns, time);
            time = e.time_ns;
            if (e.kind != EventKind::Alloc) continue;
            EXPECT_EQ(e.block, ++block);
            EXPECT_EQ(e.size, (row.peer == "a" ? 1u : 1000u) + (block - 1) % 100);
        }
        EXPECT_EQ(block, 300u);
    }
}

// Batches handed over by a caller other than Session, with every way an event can fall
// out of the recorder's compact runs in its buffers (another session or request, a time
// step of seconds, an Alloc out of sequence, an address far away or below the last one, a
// size beyond 32 bits, a Release with its address) and enough batches to cross many of
// the buffers' chunks: every event reads back exactly, in order.
TEST(Recorder, HandedOverBatchesRoundTripExactly) {
    TempDir dir;
    const std::string path = dir.file("handover.mltrace");
    std::vector<Event> sent;
    std::mt19937_64 rng(7);
    {
        Recorder recorder(path);
        struct Stream {
            std::uint64_t session, time = 1'000'000, block = 0, end = 0x7f0000000000;
            std::uint32_t request = 0;
        } streams[2] = {{1}, {2}};
        for (Stream& st : streams) {
            Event open;
            open.session = st.session;
            open.time_ns = st.time;
            recorder.on_session_open(open, "peer");
            sent.push_back(open);
        }
        std::vector<Event> batch;
        for (int round = 0; round < 3000; ++round) {
            batch.clear();
            const std::size_t n = 1 + rng() % 64;
            for (std::size_t i = 0; i < n; ++i) {
                Stream& st = streams[rng() % 8 == 0 ? 1 : 0];
                Event e;
                e.session = st.session;
                const auto pick = rng() % 100;
                st.time += pick < 3         ? 5'000'000'000ull + rng() % 1000
                           : rng() % 3 == 0 ? rng() % 500
                                            : 0;
                e.time_ns = st.time;
                e.notification = static_cast<Notification>(rng() % kNotificationCount);
                if (st.request == 0 || pick < 6) {
                    if (st.request != 0) {
                        e.kind = EventKind::RequestEnd;
                        e.request = st.request;
                        e.scope = Scope::Request;
                        e.block = rng() % 5;
                        e.size = rng() % 100;
                        st.request = 0;
                    } else {
                        e.kind = EventKind::RequestBegin;
                        e.request = st.request = static_cast<std::uint32_t>(round + 1);
                        e.scope = Scope::Request;
                    }
                } else if (pick < 12) {
                    e.kind = EventKind::Notification;
                    e.request = st.request;
                    e.flags = static_cast<std::uint8_t>(rng() % 4);
                } else if (pick < 15) {
                    e.kind = EventKind::Release;
                    e.request = st.request;
                    e.block = 1 + rng() % (st.block + 1);
                    e.address = 0x600000000000 + rng() % 4096;
                    e.size = 1 + rng() % 64;
                } else {
                    e.kind = EventKind::Alloc;
                    e.request = st.request;
                    e.scope = rng() % 2 == 0 ? Scope::Session : Scope::Request;
                    e.flags = static_cast<std::uint8_t>(e.scope == Scope::Request
                                                            ? AllocOrigin::AllocRequest
                                                            : AllocOrigin::AllocMem);
                    e.block = st.block + (pick == 15 ? 2 : 1); // now and then one skipped
                    e.size = pick == 16 ? (1ull << 33) + rng() % 100 : 1 + rng() % 2000;
                    const std::uint64_t gap = pick == 17 ? (1ull << 40) : 16 + rng() % 16;
                    e.address = pick == 18 ? st.end - 4096 - rng() % 4096 : st.end + gap;
                    st.block = e.block;
                    st.end = e.address + e.size;
                }
                batch.push_back(e);
            }
            recorder.on_events(batch.data(), batch.size());
            sent.insert(sent.end(), batch.begin(), batch.end());
        }
        recorder.commit();
    }
    const std::vector<Event> read = read_events(TraceReader(path), std::nullopt);
    ASSERT_EQ(read.size(), sent.size());
    for (std::size_t i = 0; i < read.size(); ++i)
        ASSERT_TRUE(same_event(read[i], sent[i]))
            << "event " << i << " kind " << name(sent[i].kind) << " session " << sent[i].session;
}

// One long session: its Allocs span many page-sized batches (the writer's run path stops
// at each batch's byte limit); events and summaries read back exactly.
TEST(Recorder, LongSessionRoundTripsAcrossManyBatches) {
    TempDir dir;
    const std::string path = dir.file("long.mltrace");
    std::vector<Event> recorded;
    std::uint64_t id = 0;
    std::vector<std::uint64_t> live_at_end;
    std::uint64_t peak = 0;
    {
        Recorder recorder(path);
        Tee tee(recorder);
        Runtime rt(Config{}, &tee);
        Session* s = rt.open("long");
        id = s->id();
        std::uint64_t live = 0;
        for (int r = 0; r < 300; ++r) {
            s->request_begin();
            s->set_notification(Notification::UrlMap);
            for (int a = 0; a < 200; ++a) {
                const std::uint32_t size =
                    1 + static_cast<std::uint32_t>((r * 7919 + a * 31) % 3000);
                s->alloc_mem(size);
                live += size;
                if (a % 50 == 0) s->alloc_request(64); // a request-scope block in the run
            }
            peak = std::max(peak, live + 4 * 64);
            s->request_end();
            live_at_end.push_back(live);
        }
        rt.close(s);
        recorder.commit();
        recorded = tee.events();
    }
    TraceReader reader(path);
    const std::vector<Event> read = read_events(reader, id);
    ASSERT_EQ(read.size(), recorded.size());
    for (std::size_t i = 0; i < read.size(); ++i)
        ASSERT_TRUE(same_event(read[i], recorded[i])) << "event " << i;
    const auto row = reader.session(id);
    ASSERT_TRUE(row.has_value());
    EXPECT_EQ(row->blocks, 300u * 204u);
    EXPECT_EQ(row->peak_bytes, peak);
    const std::vector<RequestRow> requests = reader.requests(id);
    ASSERT_EQ(requests.size(), 300u);
    for (std::size_t r = 0; r < requests.size(); ++r) {
        EXPECT_EQ(requests[r].blocks, 204u) << r;
        EXPECT_EQ(requests[r].live_bytes_at_end, live_at_end[r]) << r;
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*), max(length(data)) FROM event_batches", -1,
                                 &q, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
    EXPECT_GT(sqlite3_column_int64(q, 0), 5);           // many batches
    EXPECT_LE(sqlite3_column_int64(q, 1), 32768 - 256); // each fits one page
    sqlite3_finalize(q);
    sqlite3_close(db);
}

// The writer commits at least every flush interval even while a producer keeps it busy
// all the time (it used to drain for as long as full chunks kept coming, and commit only
// when the producer paused). A reader sees the committed event count grow meanwhile.
TEST(Recorder, CommitsEveryIntervalWhileTheProducerNeverPauses) {
    TempDir dir;
    const std::string path = dir.file("busy.mltrace");
    RecorderOptions options;
    options.flush_interval_ms = 20;
    options.max_buffered_events = 1 << 16; // a short final drain
    Recorder recorder(path, options);
    std::atomic<bool> done{false};
    // The producer hands over ready-made batches (a memcpy each): far faster than the
    // writer can encode and store them, so full chunks are always waiting.
    std::thread producer([&] {
        Event open;
        open.session = 1;
        open.kind = EventKind::SessionOpen;
        open.time_ns = 1;
        recorder.on_session_open(open, "busy");
        std::vector<Event> batch(kSessionBatch);
        std::uint64_t block = 0, time = 1;
        while (!done.load(std::memory_order_relaxed)) {
            for (Event& e : batch) {
                e = Event{};
                e.session = 1;
                e.kind = EventKind::Alloc;
                e.time_ns = ++time;
                e.block = ++block;
                e.address = 0x10000 + block * 32;
                e.size = 16;
            }
            recorder.on_events(batch.data(), batch.size());
        }
    });
    std::vector<std::int64_t> seen;
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1000)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        sqlite3* db = nullptr;
        if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
            sqlite3_stmt* q = nullptr;
            if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'events'", -1, &q,
                                   nullptr) == SQLITE_OK &&
                sqlite3_step(q) == SQLITE_ROW) {
                const std::int64_t events = sqlite3_column_int64(q, 0);
                if (seen.empty() || events != seen.back()) seen.push_back(events);
            }
            sqlite3_finalize(q);
        }
        sqlite3_close(db);
    }
    done = true;
    producer.join();
    recorder.commit();
    // 20 reads over 1 s with a commit due every 20 ms: nearly every read sees a new count.
    EXPECT_GE(seen.size(), 10u);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

// A version-1 trace (no compact records; batches of up to 4096 events) still reads: the
// version only added a record kind. Made here by recording events that never qualify for
// the compact record (every Alloc skips a block id) and stamping the file as version 1.
TEST(Recorder, VersionOneTracesStillRead) {
    TempDir dir;
    const std::string path = dir.file("v1.mltrace");
    std::vector<Event> events;
    {
        Recorder recorder(path);
        Event e;
        e.session = 4;
        e.kind = EventKind::SessionOpen;
        e.time_ns = 100;
        recorder.on_session_open(e, "v1");
        events.push_back(e);
        for (std::uint64_t i = 1; i <= 5000; ++i) {
            Event a;
            a.session = 4;
            a.kind = EventKind::Alloc;
            a.time_ns = 100 + i;
            a.block = 2 * i; // not the previous id + 1: a full record
            a.address = 0x1000 + 64 * i;
            a.size = i % 50 + 1;
            recorder.on_event(a);
            events.push_back(a);
        }
        recorder.commit();
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 1", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    TraceReader reader(path);
    EXPECT_EQ(reader.info().schema_version, 1u);
    const std::vector<Event> read = read_events(reader, 4);
    ASSERT_EQ(read.size(), events.size());
    for (std::size_t i = 0; i < read.size(); ++i)
        EXPECT_TRUE(same_event(read[i], events[i])) << "event " << i;
    EXPECT_EQ(reader.session(4)->blocks, 5000u);
}

TEST(Recorder, CannotCreateInAMissingDirectory) {
    try {
        Recorder recorder("/nonexistent-dir/trace.mltrace");
        FAIL() << "no error";
    } catch (const TraceError& e) {
        EXPECT_EQ(e.kind(), TraceError::Kind::Io);
        EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/trace.mltrace: "),
                  std::string::npos);
    }
}
