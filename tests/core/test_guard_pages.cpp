// Guard-page mode: the first byte written past a block faults at once; the handler reports
// the block and the process dies by SIGSEGV, as under pageheap. Run in a child process.
#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>

#include "memlife/memlife.h"
#include "memlife/session.hpp"

using namespace memlife;

namespace {
struct FlushCounter : EventSink {
    int corruption_events = 0;
    void on_event(const Event& e) noexcept override {
        corruption_events += e.kind == EventKind::Corruption;
    }
    void flush() noexcept override {
        // Proof that the sink was flushed before the process died.
        const char text[] = "sink flushed after corruption\n";
        if (corruption_events > 0) (void)!write(STDERR_FILENO, text, sizeof text - 1);
    }
};
} // namespace

TEST(GuardPages, WritesInsideTheBlockAreFine) {
    Runtime rt(Config{.guard_pages = true});
    Session* s = rt.open("guard");
    for (std::uint32_t size : {1u, 7u, 16u, 4096u, 5000u}) {
        auto* p = static_cast<unsigned char*>(s->alloc_mem(size));
        ASSERT_NE(p, nullptr);
        std::memset(p, 1, size);
    }
    EXPECT_EQ(s->check(), 0u);
    rt.close(s);
}

TEST(GuardPages, AlignedModeChecksTheSlackBytes) {
    Runtime rt(Config{.guard_pages = true, .guard_align = 16});
    Session* s = rt.open("guard");
    auto* p = static_cast<unsigned char*>(s->alloc_mem(10));
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u);
    p[12] = 0; // inside the 6 slack bytes before the guard page: caught at check
    EXPECT_EQ(s->check(), 1u);
    rt.close(s);
}

TEST(GuardPagesDeathTest, FirstByteWrittenPastTheEndFaultsWithAReport) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    auto overrun = [] {
        FlushCounter sink;
        Runtime::global().set_sink(&sink);
        ml_set_guard_pages(1);
        ml_session* s = ml_session_open("guarded peer");
        ml_request_begin(s);
        ml_set_notification(s, ML_NOTIFY_SEND_RAW_DATA);
        auto* volatile p = static_cast<char*>(ml_alloc_mem(s, 100, 0));
        std::memset(p, 'x', 100);
        p[100] = 'y'; // faults here
        std::_Exit(0);
    };
    EXPECT_EXIT(overrun(), ::testing::KilledBySignal(SIGSEGV),
                "Heap block at 0x[0-9a-f]+ modified at 0x[0-9a-f]+ past requested size of "
                "100 \\(guard page fault\\)(.|\n)*sink flushed after corruption");
}

TEST(GuardPagesDeathTest, TheFaultReportNamesTheAllocatingStack) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    auto overrun = [] {
        ml_set_guard_pages(1);
        ml_set_stack_depth(16);
        ml_session* s = ml_session_open("guarded peer");
        auto* volatile p = static_cast<char*>(ml_alloc_mem(s, 10, 0));
        p[10] = 'y'; // faults here
        std::_Exit(0);
    };
    // The fault's own backtrace, then the block's allocating stack (pageheap's !heap -p -a).
    EXPECT_EXIT(overrun(), ::testing::KilledBySignal(SIGSEGV),
                "past requested size of 10 \\(guard page fault\\)(.|\n)*the block was "
                "allocated at:\n.*core_test_guard_pages");
}

TEST(GuardPagesDeathTest, ForeignSegfaultsStillKillTheProcess) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    auto crash = [] {
        ml_set_guard_pages(1);
        ml_session* s = ml_session_open("guarded");
        (void)ml_alloc_mem(s, 8, 0); // installs the handler
        volatile int* bad = nullptr;
        *bad = 1;
        std::_Exit(0);
    };
    // Whoever handled SIGSEGV before us decides: the default kills by signal, a sanitizer's
    // handler reports and exits non-zero. Either way it is not reported as a heap block.
    auto died_abnormally = [](int status) {
        return WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
    };
    EXPECT_EXIT(crash(), died_abnormally, "");
}
