// Property tests of tail checking: every overwrite of the tail is found with its exact
// first offset, and clean blocks never produce a report.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "memlife/session.hpp"

using namespace memlife;

namespace {
struct Reports : EventSink {
    std::vector<ml_report> reports;
    void on_event(const Event&) noexcept override {}
    void on_report(const ml_report& r) noexcept override { reports.push_back(r); }
};
} // namespace

TEST(TailProperty, EveryOverwriteIsDetectedAtItsFirstOffset) {
    constexpr std::uint32_t K = kDefaultTailBytes;
    constexpr int kCases = 100'000;
    std::mt19937_64 rng(20261125);
    Reports sink;
    Runtime rt(Config{}, &sink);
    int detected = 0;
    for (int batch = 0; batch < kCases / 100; ++batch) {
        Session* s = rt.open("property");
        struct Case {
            unsigned char* p;
            std::uint32_t size, offset, length;
        };
        std::vector<Case> cases;
        for (int i = 0; i < 100; ++i) {
            const auto size = static_cast<std::uint32_t>(rng() % 8192 + 1);
            const auto offset = static_cast<std::uint32_t>(rng() % K);
            const auto length = static_cast<std::uint32_t>(rng() % (K - offset) + 1);
            auto* p = static_cast<unsigned char*>(s->alloc_mem(size));
            ASSERT_NE(p, nullptr);
            for (std::uint32_t j = 0; j < length; ++j) {
                unsigned char v = static_cast<unsigned char>(rng());
                const unsigned char old = p[size + offset + j];
                if (v == old) v = static_cast<unsigned char>(~old); // an overwrite that changes
                p[size + offset + j] = v;
            }
            cases.push_back({p, size, offset, length});
        }
        sink.reports.clear();
        ASSERT_EQ(s->check(), 100u);
        ASSERT_EQ(sink.reports.size(), 100u);
        for (std::size_t i = 0; i < cases.size(); ++i) {
            const ml_report& r = sink.reports[i];
            ASSERT_EQ(r.address, reinterpret_cast<std::uint64_t>(cases[i].p));
            ASSERT_EQ(r.size, cases[i].size);
            ASSERT_EQ(r.first_offset, cases[i].offset);
            ASSERT_EQ(r.modified_count, cases[i].length);
            ++detected;
        }
        rt.close(s);
    }
    EXPECT_EQ(detected, kCases);
}

TEST(TailProperty, NoFalseReportsOverAMillionCleanBlocks) {
    std::mt19937_64 rng(7);
    Reports sink;
    Runtime rt(Config{}, &sink);
    std::size_t blocks = 0;
    while (blocks < 1'000'000) {
        Session* s = rt.open("clean");
        for (int r = 0; r < 10; ++r) {
            ASSERT_EQ(s->request_begin(), ML_OK);
            for (int i = 0; i < 50; ++i, blocks += 2) {
                const auto size = static_cast<std::uint32_t>(rng() % 8192 + 1);
                auto* p = static_cast<unsigned char*>(s->alloc_mem(size));
                auto* q = static_cast<unsigned char*>(s->alloc_request(size));
                ASSERT_TRUE(p && q);
                std::memset(p, 0xAB, size); // fill to the last byte, not one further
                std::memset(q, 0x00, size);
            }
            ASSERT_EQ(s->request_end(), ML_OK);
        }
        EXPECT_EQ(s->check(), 0u);
        rt.close(s);
    }
    EXPECT_TRUE(sink.reports.empty()) << sink.reports.front().message;
}
