// The AllocMem rules of the session-scoped allocator, through the C++ API.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "memlife/session.hpp"

using namespace memlife;

namespace {

// Records everything a session emits, for assertions.
struct CaptureSink : EventSink {
    std::vector<Event> events;
    std::vector<ml_report> reports;
    std::string peer;
    int flushes = 0;
    void on_event(const Event& e) noexcept override { events.push_back(e); }
    void on_session_open(const Event& e, std::string_view p) noexcept override {
        peer = p;
        events.push_back(e);
    }
    void on_report(const ml_report& r) noexcept override { reports.push_back(r); }
    void flush() noexcept override { ++flushes; }
    std::size_t count(EventKind k) const {
        std::size_t n = 0;
        for (const auto& e : events)
            n += e.kind == k;
        return n;
    }
};

struct AllocatorTest : ::testing::Test {
    CaptureSink sink;
    Runtime runtime{Config{}, &sink};
    Session* s = runtime.open("10.0.0.1:4242");
    void TearDown() override { runtime.close(s); }
};

} // namespace

TEST_F(AllocatorTest, SessionHasIdPeerTimestampsAndRequestNumber) {
    ASSERT_NE(s, nullptr);
    EXPECT_GT(s->id(), 0u);
    EXPECT_EQ(s->peer(), "10.0.0.1:4242");
    EXPECT_EQ(sink.peer, "10.0.0.1:4242");
    EXPECT_GT(s->open_ns(), 0u);
    EXPECT_EQ(s->current_request(), 0u);
    ASSERT_EQ(s->request_begin(), ML_OK);
    EXPECT_EQ(s->current_request(), 1u);
    ASSERT_EQ(s->request_end(), ML_OK);
    EXPECT_EQ(s->current_request(), 0u); // between requests
    EXPECT_EQ(s->requests_begun(), 1u);
    ASSERT_EQ(s->request_begin(), ML_OK);
    EXPECT_EQ(s->current_request(), 2u);
    EXPECT_EQ(s->requests_begun(), 2u);
    Session* other = runtime.open("peer");
    EXPECT_NE(other->id(), s->id());
    runtime.close(other);
    EXPECT_GE(other->close_ns(), other->open_ns());
}

TEST_F(AllocatorTest, AllocMemIsAlignedAndWritable) {
    for (std::uint32_t size : {1u, 3u, 15u, 16u, 17u, 100u, 4095u, 20000u, 100000u}) {
        auto* p = static_cast<unsigned char*>(s->alloc_mem(size));
        ASSERT_NE(p, nullptr) << size;
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t), 0u) << size;
        std::memset(p, 0x5A, size);
    }
    EXPECT_EQ(s->check(), 0u);
}

TEST_F(AllocatorTest, SessionMemorySurvivesRequestsUntilClose) {
    for (int r = 0; r < 5; ++r) {
        ASSERT_EQ(s->request_begin(), ML_OK);
        ASSERT_NE(s->alloc_mem(1000), nullptr);
        ASSERT_EQ(s->request_end(), ML_OK);
        EXPECT_EQ(s->live_bytes(), 1000u * (r + 1)) << "request end must not release AllocMem";
    }
    EXPECT_EQ(s->peak_bytes(), 5000u);
    runtime.close(s);
    ASSERT_FALSE(sink.events.empty());
    const Event& close = sink.events.back();
    EXPECT_EQ(close.kind, EventKind::SessionClose);
    EXPECT_EQ(close.size, 5000u) << "bytes released at end of net session";
    EXPECT_EQ(close.block, 5u);
    s = runtime.open("again");
}

TEST_F(AllocatorTest, RequestMemoryIsReleasedAtEndOfRequest) {
    EXPECT_EQ(s->alloc_request(10), nullptr);
    EXPECT_EQ(ml_last_error(), ML_ERR_NO_REQUEST);
    ASSERT_EQ(s->request_begin(), ML_OK);
    ASSERT_NE(s->alloc_request(300), nullptr);
    ASSERT_NE(s->alloc_request(200), nullptr);
    ASSERT_NE(s->alloc_mem(50), nullptr);
    EXPECT_EQ(s->live_bytes(), 550u);
    ASSERT_EQ(s->request_end(), ML_OK);
    EXPECT_EQ(s->live_bytes(), 50u);
    const Event& end = sink.events.back();
    EXPECT_EQ(end.kind, EventKind::RequestEnd);
    EXPECT_EQ(end.size, 500u);
    EXPECT_EQ(end.block, 2u);
}

TEST_F(AllocatorTest, RequestRules) {
    EXPECT_EQ(s->request_end(), ML_ERR_NO_REQUEST);
    ASSERT_EQ(s->request_begin(), ML_OK);
    EXPECT_EQ(s->request_begin(), ML_ERR_REQUEST_ACTIVE);
}

TEST_F(AllocatorTest, ErrorCodesAreDistinct) {
    EXPECT_EQ(s->alloc_mem(16, 1), nullptr);
    EXPECT_EQ(ml_last_error(), ML_ERR_INVALID_PARAMETER);
    EXPECT_EQ(s->alloc_mem(0), nullptr);
    EXPECT_EQ(ml_last_error(), ML_ERR_ZERO_SIZE);
    EXPECT_EQ(s->alloc_mem(UINT32_MAX - 4), nullptr);
    EXPECT_EQ(ml_last_error(), ML_ERR_SIZE_OVERFLOW);
    ASSERT_EQ(s->set_limit(1000), ML_OK);
    EXPECT_NE(s->alloc_mem(500), nullptr);
    EXPECT_EQ(s->alloc_mem(500), nullptr) << "500 + tails exceeds 1000";
    EXPECT_EQ(ml_last_error(), ML_ERR_LIMIT_EXCEEDED);
    runtime.close(s);
    EXPECT_EQ(s->alloc_mem(16), nullptr);
    EXPECT_EQ(ml_last_error(), ML_ERR_SESSION_CLOSED);
    s = runtime.open("again");
}

TEST_F(AllocatorTest, NotedRequestBlocksStillLiveAtEndOfRequestAreLeaks) {
    std::vector<char> a(64), b(128), c(32);
    ASSERT_EQ(s->request_begin(), ML_OK);
    s->set_notification(Notification::UrlMap);
    ASSERT_EQ(s->note_alloc(a.data(), a.size(), Scope::Request), ML_OK);
    ASSERT_EQ(s->note_alloc(b.data(), b.size(), Scope::Request), ML_OK);
    EXPECT_EQ(s->note_alloc(b.data(), b.size(), Scope::Request), ML_ERR_DUPLICATE_POINTER);
    ASSERT_EQ(s->note_alloc(c.data(), c.size(), Scope::Session), ML_OK);
    ASSERT_EQ(s->note_free(a.data()), ML_OK);
    EXPECT_EQ(s->note_free(a.data()), ML_ERR_UNKNOWN_POINTER);
    s->set_notification(Notification::EndOfRequest);
    ASSERT_EQ(s->request_end(), ML_OK);
    ASSERT_EQ(sink.reports.size(), 1u);
    const ml_report& leak = sink.reports[0];
    EXPECT_EQ(leak.kind, ML_REPORT_LEAK);
    EXPECT_EQ(leak.size, 128u);
    EXPECT_EQ(leak.address, reinterpret_cast<std::uint64_t>(b.data()));
    EXPECT_EQ(leak.alloc_notification, static_cast<std::uint32_t>(ML_NOTIFY_URL_MAP));
    EXPECT_EQ(leak.scope, ML_SCOPE_REQUEST);
    EXPECT_EQ(leak.alloc_request, 1u);
    EXPECT_EQ(s->leaks(), 1u);
    EXPECT_EQ(sink.count(EventKind::Leak), 1u);
    // A session-scoped noted block is fine at request end, a leak at session end.
    runtime.close(s);
    EXPECT_EQ(sink.reports.size(), 2u);
    EXPECT_EQ(sink.reports[1].size, 32u);
    s = runtime.open("again");
}

TEST_F(AllocatorTest, TailOverwriteIsReportedWithEveryField) {
    ASSERT_EQ(s->request_begin(), ML_OK);
    s->set_notification(Notification::SendResponse);
    auto* p = static_cast<unsigned char*>(s->alloc_mem(100));
    ASSERT_NE(p, nullptr);
    s->set_notification(Notification::Log);
    p[100 + 3] = 0;
    p[100 + 5] = 0;
    EXPECT_EQ(s->check(), 1u);
    EXPECT_EQ(s->check(), 1u) << "a block is reported once";
    ASSERT_EQ(sink.reports.size(), 1u);
    const ml_report& r = sink.reports[0];
    EXPECT_EQ(r.kind, ML_REPORT_CORRUPTION);
    EXPECT_EQ(r.session_id, s->id());
    EXPECT_EQ(r.block_id, 1u);
    EXPECT_EQ(r.address, reinterpret_cast<std::uint64_t>(p));
    EXPECT_EQ(r.size, 100u);
    EXPECT_EQ(r.first_offset, 3u);
    EXPECT_EQ(r.modified_count, 2u);
    EXPECT_EQ(r.tail_len, kDefaultTailBytes);
    EXPECT_EQ(r.found[3], 0);
    EXPECT_NE(r.expected[3], 0);
    EXPECT_EQ(r.request, 1u);
    EXPECT_EQ(r.alloc_notification, static_cast<std::uint32_t>(ML_NOTIFY_SEND_RESPONSE));
    EXPECT_EQ(r.last_notification, static_cast<std::uint32_t>(ML_NOTIFY_LOG));
    char expected[128];
    std::snprintf(expected, sizeof expected,
                  "Heap block at 0x%llx modified at 0x%llx past requested size of 100",
                  static_cast<unsigned long long>(r.address),
                  static_cast<unsigned long long>(r.address + 103));
    EXPECT_STREQ(r.message, expected);
    EXPECT_EQ(sink.count(EventKind::Corruption), 1u);
}

TEST_F(AllocatorTest, CorruptionIsFoundAtReleaseWithoutExplicitCheck) {
    ASSERT_EQ(s->request_begin(), ML_OK);
    auto* p = static_cast<char*>(s->alloc_request(10));
    std::strcpy(p, "0123456789"); // the classic: the terminator lands in the tail
    ASSERT_EQ(s->request_end(), ML_OK);
    ASSERT_EQ(sink.reports.size(), 1u);
    EXPECT_EQ(sink.reports[0].first_offset, 0u);
    EXPECT_EQ(sink.reports[0].scope, ML_SCOPE_REQUEST);
}

TEST_F(AllocatorTest, CopyingAnotherBlocksTailIsCaught) {
    auto* a = static_cast<unsigned char*>(s->alloc_mem(32));
    auto* b = static_cast<unsigned char*>(s->alloc_mem(32));
    std::memcpy(b + 32, a + 32, kDefaultTailBytes);
    EXPECT_EQ(s->check(), 1u);
    EXPECT_EQ(sink.reports.at(0).block_id, 2u);
}

TEST(TailPattern, VariesPerBlockAndHasNoZeroByte) {
    std::uint8_t a[64], b[64], c[64];
    tail_pattern(1, 1, a, 64);
    tail_pattern(1, 2, b, 64);
    tail_pattern(2, 1, c, 64);
    EXPECT_NE(std::memcmp(a, b, 64), 0);
    EXPECT_NE(std::memcmp(a, c, 64), 0);
    for (int i = 0; i < 64; ++i)
        EXPECT_NE(a[i], 0);
}

TEST(Config, TailLengthIsConfigurableWithinBounds) {
    EXPECT_EQ(validate(Config{.tail_bytes = 3}), ML_ERR_BAD_CONFIG);
    EXPECT_EQ(validate(Config{.tail_bytes = 65}), ML_ERR_BAD_CONFIG);
    EXPECT_EQ(validate(Config{.tail_bytes = 4}), ML_OK);
    EXPECT_EQ(validate(Config{.guard_align = 3}), ML_ERR_BAD_CONFIG);
    for (std::uint32_t k : {4u, 7u, 16u, 33u, 64u}) {
        Runtime rt(Config{.tail_bytes = k});
        Session* s = rt.open("k");
        auto* p = static_cast<unsigned char*>(s->alloc_mem(8));
        p[8 + k - 1] ^= 0xFF; // the last tail byte
        EXPECT_EQ(s->check(), 1u) << k;
        p[8 + k] ^= 0xFF; // beyond the tail: not covered, not reported
        rt.close(s);
    }
}

TEST(Runtime, SessionsOnManyThreads) {
    CaptureSink unused; // not shared: a sink must be thread-safe, this one is not
    Runtime rt;
    std::vector<std::thread> threads;
    std::atomic<std::size_t> corruptions{0};
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int n = 0; n < 50; ++n) {
                Session* s = rt.open("thread");
                for (int r = 0; r < 10; ++r) {
                    s->request_begin();
                    auto* p = static_cast<unsigned char*>(s->alloc_mem(64 + t));
                    std::memset(p, t, 64 + t);
                    s->alloc_request(128);
                    s->request_end();
                }
                corruptions += s->check();
                rt.close(s);
            }
        });
    }
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(corruptions.load(), 0u);
    EXPECT_EQ(rt.open_sessions(), 0u);
}

TEST(Runtime, ExplicitSessionIdsAndAutomaticIdsDoNotCollide) {
    Runtime rt;
    Session* a = rt.open("replayed", 41);
    Session* b = rt.open("automatic");
    EXPECT_EQ(a->id(), 41u);
    EXPECT_GT(b->id(), 41u);
    rt.close(a);
    rt.close(b);
}

TEST(Clock, AllocationsReadTheClockEveryIntervalBoundariesAlways) {
    EXPECT_EQ(validate(Config{.clock_interval = 0}), ML_ERR_BAD_CONFIG);
    EXPECT_EQ(validate(Config{.clock_interval = kMaxClockInterval + 1}), ML_ERR_BAD_CONFIG);
    EXPECT_EQ(validate(Config{.clock_interval = kMaxClockInterval}), ML_OK);
    for (std::uint32_t interval : {1u, 4u, 16u}) {
        CaptureSink sink;
        Runtime rt(Config{.clock_interval = interval}, &sink);
        Session* s = rt.open("clock");
        s->request_begin();
        std::vector<std::uint64_t> alloc_times;
        for (int i = 0; i < 40; ++i) {
            const std::uint64_t before = now_ns();
            while (now_ns() == before) { // the next allocation's reading, if any, differs
            }
            s->alloc_mem(8);
        }
        const std::uint64_t before_end = now_ns();
        s->request_end();
        rt.close(s);
        std::uint64_t previous = 0, readings = 0;
        for (const Event& e : sink.events) {
            EXPECT_GE(e.time_ns, previous) << "a session's times never go backwards";
            if (e.kind == EventKind::Alloc) {
                if (e.time_ns != previous) ++readings;
                alloc_times.push_back(e.time_ns);
            }
            if (e.kind == EventKind::RequestEnd) {
                EXPECT_GE(e.time_ns, before_end);
            }
            previous = e.time_ns;
        }
        ASSERT_EQ(alloc_times.size(), 40u);
        // Every interval-th allocation reads the clock; RequestBegin read it and restarted
        // the count, so the first interval - 1 allocations carry its time.
        EXPECT_EQ(readings, 40 / interval) << interval;
    }
}

namespace {
// A sink that takes batches: what arrived, and in how many calls.
struct BatchSink : CaptureSink {
    std::vector<std::size_t> batches;
    bool accepts_batches() const noexcept override { return true; }
    void on_events(const Event* e, std::size_t n) noexcept override {
        batches.push_back(n);
        events.insert(events.end(), e, e + n);
    }
};
} // namespace

TEST(Batches, ASessionHandsOverAtRequestEndWhenFullAndAtClose) {
    BatchSink sink;
    Runtime rt(Config{}, &sink);
    Session* s = rt.open("batch");
    ASSERT_EQ(sink.events.size(), 1u); // SessionOpen goes at once, with the peer
    s->request_begin();
    s->alloc_mem(8);
    EXPECT_EQ(sink.events.size(), 1u); // gathered, not delivered
    s->request_end();
    ASSERT_EQ(sink.events.size(), 4u); // RequestBegin, Alloc, RequestEnd
    EXPECT_EQ(sink.events.back().kind, EventKind::RequestEnd);
    s->request_begin();
    for (std::size_t i = 0; i < 2 * kSessionBatch; ++i)
        s->alloc_mem(8);
    EXPECT_EQ(sink.events.size(), 4 + 2 * kSessionBatch); // two full batches
    s->set_notification(Notification::Log);
    rt.close(s); // delivers the rest (request end, notification), then SessionClose
    EXPECT_EQ(sink.events.back().kind, EventKind::SessionClose);
    ASSERT_EQ(sink.events.size(), 4 + 1 + 2 * kSessionBatch + 1 + 1 + 1);
    std::uint64_t block = 0;
    for (const Event& e : sink.events) {
        EXPECT_EQ(e.session, s->id());
        if (e.kind == EventKind::Alloc) {
            EXPECT_EQ(e.block, ++block);
        }
    }
    for (std::size_t n : sink.batches)
        EXPECT_LE(n, kSessionBatch);
}

TEST(Batches, AReportFollowsItsEventAndSinksWithoutBatchesGetEachEventAtOnce) {
    BatchSink batched;
    CaptureSink plain;
    for (CaptureSink* sink : {static_cast<CaptureSink*>(&batched), &plain}) {
        Runtime rt(Config{}, sink);
        Session* s = rt.open("report");
        s->request_begin();
        auto* p = static_cast<unsigned char*>(s->alloc_mem(8));
        if (sink == &plain) {
            EXPECT_EQ(sink->count(EventKind::Alloc), 1u);
        }
        p[8] ^= 0xFF;
        ASSERT_EQ(s->check(), 1u);
        ASSERT_EQ(sink->reports.size(), 1u);
        // The Corruption event was handed over before its report.
        EXPECT_EQ(sink->count(EventKind::Corruption), 1u);
        EXPECT_EQ(sink->events.back().kind, EventKind::Corruption);
        rt.close(s);
    }
    EXPECT_FALSE(batched.batches.empty());
}
