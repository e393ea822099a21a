// Call stacks: capture, the process-wide tree, stacks on allocation events and in reports,
// and a session without stacks delivering exactly as before.
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "memlife/session.hpp"
#include "memlife/stacks.hpp"

using namespace memlife;

namespace {

// True when `address` (a return address) lies within `function`'s code: the next
// function in the binary starts well after these small ones' first 4 KiB.
bool returns_into(std::uint64_t address, const void* function) {
    const auto begin = reinterpret_cast<std::uint64_t>(function);
    return address > begin && address < begin + 4096;
}

std::string module_of(std::uint64_t address) {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(address), &info) == 0 || info.dli_fname == nullptr)
        return "";
    return info.dli_fname;
}

// A loop bound the compiler cannot see: the loop is not unrolled, so its body is one call
// site however often it runs.
int opaque(int v) {
    asm volatile("" : "+r"(v));
    return v;
}
std::uint32_t opaque(std::uint32_t v) {
    asm volatile("" : "+r"(v));
    return v;
}

[[gnu::noinline]] StackId capture_here(std::uint32_t depth) {
    const StackId id = capture_stack(depth);
    asm volatile("" ::: "memory"); // no tail call: this frame stays on the stack
    return id;
}
[[gnu::noinline]] StackId capture_elsewhere(std::uint32_t depth) {
    const StackId id = capture_stack(depth + 0 * 7); // not identical: no code folding
    asm volatile("nop" ::: "memory");
    return id;
}
[[gnu::noinline]] StackId recurse(int levels, std::uint32_t depth) {
    const StackId id = levels == 0 ? capture_here(depth) : recurse(levels - 1, depth);
    asm volatile("" ::: "memory");
    return id;
}

// One call site (leaf's) reached through two callers with the same frame size: the same
// call site and stack pointer, different chains above.
[[gnu::noinline]] StackId leaf() {
    const StackId id = capture_stack(16);
    asm volatile("" ::: "memory");
    return id;
}
[[gnu::noinline]] StackId via_parser() {
    const StackId id = leaf();
    asm volatile("" ::: "memory");
    return id;
}
[[gnu::noinline]] StackId via_logger() {
    const StackId id = leaf();
    asm volatile("nop" ::: "memory");
    return id;
}

StackId g_in_handler = 0;
void on_signal(int) {
    g_in_handler = capture_here(16);
}

// Records what a session delivers, with the stacks.
struct StackSink : EventSink {
    bool batches = true;
    std::vector<Event> events;
    std::vector<StackId> stacks; // per event
    std::vector<ml_report> reports;
    int plain_batches = 0, stacked_batches = 0;
    void on_event(const Event& e) noexcept override {
        events.push_back(e);
        stacks.push_back(0);
    }
    void on_stacked_event(const Event& e, StackId stack) noexcept override {
        events.push_back(e);
        stacks.push_back(stack);
    }
    bool accepts_batches() const noexcept override { return batches; }
    void on_events(const Event* e, std::size_t n) noexcept override {
        ++plain_batches;
        for (std::size_t i = 0; i < n; ++i)
            on_event(e[i]);
    }
    void on_stacked_events(const Event* e, const StackId* s, std::size_t n) noexcept override {
        ++stacked_batches;
        for (std::size_t i = 0; i < n; ++i)
            on_stacked_event(e[i], s[i]);
    }
    void on_report(const ml_report& r) noexcept override { reports.push_back(r); }
    std::vector<StackId> alloc_stacks() const {
        std::vector<StackId> out;
        for (std::size_t i = 0; i < events.size(); ++i)
            if (events[i].kind == EventKind::Alloc) out.push_back(stacks[i]);
        return out;
    }
};

[[gnu::noinline]] void* alloc_in_parser(Session& s, std::uint32_t size) {
    void* p = s.alloc_mem(size);
    asm volatile("" ::: "memory");
    return p;
}
[[gnu::noinline]] void* alloc_in_logger(Session& s, std::uint32_t size) {
    void* p = s.alloc_request(size);
    asm volatile("" ::: "memory");
    return p;
}
[[gnu::noinline]] int note_in_pool(Session& s, const void* p, std::size_t size, Scope scope) {
    const int rc = s.note_alloc(p, size, scope);
    asm volatile("" ::: "memory");
    return rc;
}

} // namespace

TEST(Stacks, TheSameCallSiteGivesTheSameStackAnotherSiteAnother) {
    StackId twice[2] = {0, 0};
    for (int i = 0; i < opaque(2); ++i) // one call site, twice
        twice[i] = capture_here(16);
    const StackId a = twice[0], b = twice[1];
    const StackId c = capture_elsewhere(16);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    std::uint64_t frames[kMaxStackDepth];
    const std::size_t n = stack_addresses(a, frames, kMaxStackDepth);
    ASSERT_GE(n, 2u);
    // Innermost first: capture_here, then this test's body; memlife's own frames left out.
    EXPECT_TRUE(returns_into(frames[0], reinterpret_cast<const void*>(&capture_here)));
    EXPECT_EQ(module_of(frames[0]).find("libmemlife_core"), std::string::npos);
    StackNode leaf;
    ASSERT_TRUE(stack_node(a, leaf));
    EXPECT_EQ(leaf.address, frames[0]);
    EXPECT_EQ(leaf.depth, n);
    // c differs in its innermost frames (capture_elsewhere and the line calling it).
    StackNode other;
    ASSERT_TRUE(stack_node(c, other));
    EXPECT_NE(other.address, leaf.address);
}

TEST(Stacks, ARememberedChainIsCheckedFrameByFrame) {
    // Alternating callers under one call site and stack pointer: each capture must see its
    // own chain, not the one remembered for the site.
    std::vector<StackId> parser, logger;
    for (int i = 0; i < opaque(50); ++i) {
        parser.push_back(via_parser());
        logger.push_back(via_logger());
    }
    EXPECT_NE(parser[0], logger[0]);
    for (int i = 1; i < 50; ++i) {
        EXPECT_EQ(parser[static_cast<std::size_t>(i)], parser[0]);
        EXPECT_EQ(logger[static_cast<std::size_t>(i)], logger[0]);
    }
    std::uint64_t frames[kMaxStackDepth];
    ASSERT_GE(stack_addresses(parser[0], frames, kMaxStackDepth), 2u);
    EXPECT_TRUE(returns_into(frames[0], reinterpret_cast<const void*>(&leaf)));
    EXPECT_TRUE(returns_into(frames[1], reinterpret_cast<const void*>(&via_parser)));
    ASSERT_GE(stack_addresses(logger[0], frames, kMaxStackDepth), 2u);
    EXPECT_TRUE(returns_into(frames[1], reinterpret_cast<const void*>(&via_logger)));
    // The same site at another depth is another stack pointer: a chain of its own.
    const StackId deeper = recurse(3, 16);
    EXPECT_NE(deeper, recurse(2, 16));
}

TEST(Stacks, ACaptureInASignalHandlerUnwindsThroughTheSignalFrame) {
    std::signal(SIGUSR1, on_signal);
    std::vector<StackId> ids;
    for (int i = 0; i < opaque(3); ++i) {
        std::raise(SIGUSR1);
        ids.push_back(g_in_handler);
    }
    std::signal(SIGUSR1, SIG_DFL);
    ASSERT_NE(ids[0], 0u);
    EXPECT_EQ(ids[1], ids[0]);
    EXPECT_EQ(ids[2], ids[0]);
    std::uint64_t frames[kMaxStackDepth];
    const std::size_t n = stack_addresses(ids[0], frames, kMaxStackDepth);
    ASSERT_GE(n, 3u);
    EXPECT_TRUE(returns_into(frames[0], reinterpret_cast<const void*>(&capture_here)));
    EXPECT_TRUE(returns_into(frames[1], reinterpret_cast<const void*>(&on_signal)));
    // Past the signal frame: this test's body, which raised it.
    bool reached_test = false;
    for (std::size_t i = 2; i < n; ++i)
        reached_test =
            reached_test || module_of(frames[i]).find("core_test_stacks") != std::string::npos;
    EXPECT_TRUE(reached_test);
}

TEST(Stacks, DepthLimitsTheFramesKeptInnermostFirst) {
    const StackId deep = recurse(40, 8);
    std::uint64_t frames[kMaxStackDepth];
    ASSERT_EQ(stack_addresses(deep, frames, kMaxStackDepth), 8u);
    EXPECT_TRUE(returns_into(frames[0], reinterpret_cast<const void*>(&capture_here)));
    for (int i = 1; i < 8; ++i)
        EXPECT_TRUE(returns_into(frames[i], reinterpret_cast<const void*>(&recurse))) << i;
    StackNode outermost;
    ASSERT_TRUE(stack_node(deep, outermost));
    EXPECT_EQ(outermost.depth, 8u);
    const StackId full = recurse(80, kMaxStackDepth);
    EXPECT_EQ(stack_addresses(full, frames, kMaxStackDepth), kMaxStackDepth);
}

TEST(Stacks, UnknownIdsResolveToNothing) {
    StackNode n;
    EXPECT_FALSE(stack_node(0, n));
    EXPECT_FALSE(stack_node(stack_node_count() + 1, n));
    std::uint64_t frames[4];
    EXPECT_EQ(stack_addresses(0, frames, 4), 0u);
}

TEST(Stacks, ThreadsShareOneTree) {
    const StackId here = capture_here(4); // depth 4: the frames above differ per thread
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    std::vector<StackId> seen(4);
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 2000; ++i) {
                StackId ids[2] = {0, 0};
                for (int k = 0; k < opaque(2); ++k)
                    ids[k] = recurse(4, 3); // capture_here, recurse, recurse
                if (ids[0] != ids[1]) ++mismatches;
                if (i == 0) seen[static_cast<std::size_t>(t)] = ids[0];
            }
        });
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(mismatches.load(), 0);
    // The innermost three frames (capture_here, recurse, recurse) are the same everywhere.
    EXPECT_EQ(seen[0], seen[1]);
    EXPECT_EQ(seen[0], seen[3]);
    EXPECT_NE(here, 0u);
}

// A child forked while another thread unwinds (libunwind holds the loader's lock then)
// captures stacks of its own: fork waits for the unwinds in flight instead of leaving the
// child a lock nobody will release. Without that the child hangs at its first unwind.
TEST(Stacks, AChildForkedDuringUnwindsCapturesToo) {
#if defined(__SANITIZE_ADDRESS__)
    // GCC 12's AddressSanitizer does not hold its allocator's lock across fork: a child
    // forked while the unwinding thread grows the stack tree may find it held, and hang in
    // its first malloc (not memlife's lock; the plain build runs this test).
    GTEST_SKIP() << "AddressSanitizer's allocator is not fork-safe with allocating threads";
#endif
    std::atomic<bool> stop{false};
    std::thread unwinder([&] {
        // Ever other stack depths: cache misses, each a full unwind.
        for (int i = 0; !stop.load(std::memory_order_relaxed); ++i)
            recurse(opaque(i % 61), 32);
    });
    for (int round = 0; round < 40; ++round) {
        const pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            ::alarm(10); // a hang ends as SIGALRM
            const bool captured = recurse(opaque(70 + round), 16) != 0;
            ::_exit(captured ? 0 : 1);
        }
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFEXITED(status)) << "the child hung (signal " << WTERMSIG(status) << ")";
        EXPECT_EQ(WEXITSTATUS(status), 0);
    }
    stop = true;
    unwinder.join();
}

TEST(Stacks, ConfigRejectsDepthsAbove64) {
    EXPECT_EQ(validate(Config{.stack_depth = 64}), ML_OK);
    EXPECT_EQ(validate(Config{.stack_depth = 65}), ML_ERR_BAD_CONFIG);
    EXPECT_EQ(ml_set_stack_depth(65), ML_ERR_BAD_CONFIG);
    EXPECT_EQ(ml_set_stack_depth(0), ML_OK);
}

TEST(Stacks, EveryAllocationOfASessionWithStacksCarriesItsCallSite) {
    for (bool batches : {true, false}) {
        StackSink sink;
        sink.batches = batches;
        Runtime rt(Config{.stack_depth = 16}, &sink);
        Session* s = rt.open("stacks");
        static char pool[64];
        ASSERT_EQ(s->request_begin(), ML_OK);
        for (std::uint32_t size = 100; size <= opaque(200u); size += 100) { // one site, twice
            ASSERT_NE(alloc_in_parser(*s, size), nullptr);
            if (size == 100) {
                ASSERT_NE(alloc_in_logger(*s, 50), nullptr);
                ASSERT_EQ(note_in_pool(*s, pool, sizeof pool, Scope::Session), ML_OK);
            }
        }
        ASSERT_EQ(s->request_end(), ML_OK);
        rt.close(s);
        const std::vector<StackId> stacks = sink.alloc_stacks();
        ASSERT_EQ(stacks.size(), 4u);
        for (StackId id : stacks)
            EXPECT_NE(id, 0u);
        EXPECT_EQ(stacks[0], stacks[3]); // the same call site twice
        EXPECT_EQ(std::set<StackId>(stacks.begin(), stacks.end()).size(), 3u);
        std::uint64_t frames[kMaxStackDepth];
        ASSERT_GT(stack_addresses(stacks[0], frames, kMaxStackDepth), 1u);
        EXPECT_TRUE(returns_into(frames[0], reinterpret_cast<const void*>(&alloc_in_parser)));
        ASSERT_GT(stack_addresses(stacks[1], frames, kMaxStackDepth), 1u);
        EXPECT_TRUE(returns_into(frames[0], reinterpret_cast<const void*>(&alloc_in_logger)));
        ASSERT_GT(stack_addresses(stacks[2], frames, kMaxStackDepth), 1u);
        EXPECT_TRUE(returns_into(frames[0], reinterpret_cast<const void*>(&note_in_pool)));
        for (std::size_t i = 0; i < sink.events.size(); ++i)
            if (sink.events[i].kind != EventKind::Alloc) {
                EXPECT_EQ(sink.stacks[i], 0u) << i;
            }
        if (batches) {
            EXPECT_GT(sink.stacked_batches, 0);
            EXPECT_EQ(sink.plain_batches, 0);
        }
    }
}

TEST(Stacks, GuardedAllocationsCarryTheirStackToo) {
    StackSink sink;
    Runtime rt(Config{.guard_pages = true, .stack_depth = 8}, &sink);
    Session* s = rt.open("guarded");
    ASSERT_NE(alloc_in_parser(*s, 64), nullptr);
    rt.close(s);
    ASSERT_EQ(sink.alloc_stacks().size(), 1u);
    std::uint64_t frames[8];
    ASSERT_GT(stack_addresses(sink.alloc_stacks()[0], frames, 8), 0u);
    EXPECT_TRUE(returns_into(frames[0], reinterpret_cast<const void*>(&alloc_in_parser)));
}

TEST(Stacks, ASessionWithoutStacksDeliversAsBefore) {
    StackSink sink;
    Runtime rt(Config{}, &sink);
    Session* s = rt.open("plain");
    ASSERT_NE(alloc_in_parser(*s, 100), nullptr);
    rt.close(s);
    EXPECT_GT(sink.plain_batches, 0);
    EXPECT_EQ(sink.stacked_batches, 0);
    EXPECT_EQ(sink.alloc_stacks(), std::vector<StackId>{0});
}

TEST(Stacks, CorruptionAndLeakReportsCarryTheAllocatingStack) {
    StackSink sink;
    Runtime rt(Config{.stack_depth = 16}, &sink);
    Session* s = rt.open("reports");
    auto* p = static_cast<char*>(alloc_in_parser(*s, 8));
    std::memcpy(p, "overflow", 9); // one byte too many
    ASSERT_EQ(s->check(), 1u);
    static char pool[32];
    ASSERT_EQ(s->request_begin(), ML_OK);
    ASSERT_EQ(note_in_pool(*s, pool, sizeof pool, Scope::Request), ML_OK);
    ASSERT_EQ(s->request_end(), ML_OK); // never freed: a leak
    rt.close(s);
    ASSERT_EQ(sink.reports.size(), 2u);
    const ml_report& corruption = sink.reports[0];
    EXPECT_EQ(corruption.kind, ML_REPORT_CORRUPTION);
    EXPECT_EQ(corruption.alloc_stack_id, sink.alloc_stacks()[0]);
    ASSERT_GT(corruption.alloc_backtrace_len, 1);
    EXPECT_TRUE(returns_into(reinterpret_cast<std::uint64_t>(corruption.alloc_backtrace[0]),
                             reinterpret_cast<const void*>(&alloc_in_parser)));
    const ml_report& leak = sink.reports[1];
    EXPECT_EQ(leak.kind, ML_REPORT_LEAK);
    EXPECT_EQ(leak.alloc_stack_id, sink.alloc_stacks()[1]);
    ASSERT_GT(leak.alloc_backtrace_len, 1);
    EXPECT_TRUE(returns_into(reinterpret_cast<std::uint64_t>(leak.alloc_backtrace[0]),
                             reinterpret_cast<const void*>(&note_in_pool)));
}

TEST(Stacks, ReportsWithoutStacksSayNone) {
    StackSink sink;
    Runtime rt(Config{}, &sink);
    Session* s = rt.open("reports");
    auto* p = static_cast<char*>(alloc_in_parser(*s, 8));
    std::memcpy(p, "overflow", 9);
    ASSERT_EQ(s->check(), 1u);
    rt.close(s);
    ASSERT_EQ(sink.reports.size(), 1u);
    EXPECT_EQ(sink.reports[0].alloc_stack_id, 0u);
    EXPECT_EQ(sink.reports[0].alloc_backtrace_len, 0);
}

// The performance bug: request_end used to walk every noted block of the session, so a
// keep-alive session noting memory on every request cost quadratic time. It now looks only
// at the request-scoped blocks noted during the request that ends.
TEST(NotedBlocks, RequestEndLooksOnlyAtTheRequestsOwnNotes) {
    Runtime rt(Config{});
    Session* s = rt.open("keep-alive");
    constexpr int kRequests = 20000;
    std::vector<char> memory(2 * kRequests);
    std::size_t reports = 0;
    for (int r = 0; r < kRequests; ++r) {
        ASSERT_EQ(s->request_begin(), ML_OK);
        // One block kept for the session (never freed until close) ...
        ASSERT_EQ(s->note_alloc(&memory[2 * r], 1, Scope::Session), ML_OK);
        // ... and one request block, freed every other request (else a leak).
        ASSERT_EQ(s->note_alloc(&memory[2 * r + 1], 1, Scope::Request), ML_OK);
        if (r % 2 == 0) {
            ASSERT_EQ(s->note_free(&memory[2 * r + 1]), ML_OK);
        }
        ASSERT_EQ(s->request_end(), ML_OK);
        reports = s->leaks();
    }
    EXPECT_EQ(reports, std::size_t{kRequests / 2});
    // One visit per request-scoped note; the old walk made ~kRequests^2 = 4e8.
    EXPECT_EQ(s->noted_blocks_visited(), std::uint64_t{kRequests});
    EXPECT_EQ(s->live_blocks(), std::uint64_t{kRequests + kRequests / 2});
    rt.close(s);
    EXPECT_EQ(s->leaks(), std::size_t{kRequests / 2 + kRequests}); // session blocks at close
}
