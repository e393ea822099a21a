// Call stacks in the trace (schema version 3): recorded through the real recorder,
// symbolized when recording stops, summarized per (session, stack), read back by
// StackReader; traces without stacks say why.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstring>
#include <map>
#include <numeric>

#include "memlife/data/reader.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/data/stacks.hpp"
#include "memlife/data/symbolize.hpp"
#include "memlife/session.hpp"
#include "sql_exec.hpp"
#include "temp_dir.hpp"

using namespace memlife;
using namespace memlife::data;
using memlife::test::TempDir;

namespace {

// Three allocation sites, each its own function (noinline: its own frame), and the line of
// each one's allocating call.
constexpr int kParseLine = __LINE__ + 2;
[[gnu::noinline]] void* parse_request(Session& s, std::uint32_t n) {
    void* p = s.alloc_request(n); // request memory: released at every request end
    asm volatile("" ::: "memory");
    return p;
}
constexpr int kCacheLine = __LINE__ + 2;
[[gnu::noinline]] void* cache_header(Session& s, std::uint32_t n) {
    void* p = s.alloc_mem(n); // session memory: grows until the close
    asm volatile("" ::: "memory");
    return p;
}
constexpr int kPoolLine = __LINE__ + 2;
[[gnu::noinline]] int pool_note(Session& s, const void* p, std::size_t n) {
    const int rc = s.note_alloc(p, n, Scope::Request); // noted: freed by pool_free
    asm volatile("" ::: "memory");
    return rc;
}

struct Workload {
    int sessions = 3, requests = 50;
    std::uint32_t parse = 600, cache = 300, pool = 100;
    bool overrun = false, leak = false;
};

// Per request: parse (request scope), cache (session scope, grows), pool (noted, freed
// again unless `leak`).
void run(Runtime& rt, const Workload& w) {
    static char pool[4096];
    for (int k = 0; k < w.sessions; ++k) {
        Session* s = rt.open("10.0.0." + std::to_string(k + 1) + ":80");
        for (int r = 0; r < w.requests; ++r) {
            s->request_begin();
            s->set_notification(Notification::UrlMap);
            ASSERT_NE(parse_request(*s, w.parse), nullptr);
            auto* c = static_cast<char*>(cache_header(*s, w.cache));
            ASSERT_NE(c, nullptr);
            if (w.overrun && r == 3) c[w.cache] = '!'; // one byte past: found at the close
            ASSERT_EQ(pool_note(*s, pool + r, w.pool), ML_OK);
            if (!w.leak || r != 7) {
                ASSERT_EQ(s->note_free(pool + r), ML_OK);
            }
            s->request_end();
        }
        rt.close(s);
    }
}

std::string record(const TempDir& dir, const std::string& name, const Workload& w,
                   std::uint32_t depth = 16, bool symbolize = true) {
    const std::string path = dir.file(name);
    RecorderOptions options;
    options.symbolize = symbolize;
    Recorder recorder(path, options);
    Runtime rt(Config{.stack_depth = depth}, &recorder);
    run(rt, w);
    recorder.commit();
    return path;
}

// The stack whose innermost frame is in function `function`.
const StackCost* by_function(const StackReader& reader, const std::vector<StackCost>& stacks,
                             const std::string& function) {
    for (const StackCost& c : stacks)
        if (reader.frames(c.stack).at(0).function.find(function) != std::string::npos) return &c;
    return nullptr;
}

} // namespace

TEST(StackTables, EachSiteIsNamedWithItsBytesAndTheGrowingOneGrows) {
    TempDir dir;
    const Workload w;
    const std::string path = record(dir, "sites.mltrace", w);
    StackReader reader(path);
    ASSERT_TRUE(reader.status().recorded);
    const std::vector<StackCost> stacks = reader.top_stacks({});
    ASSERT_EQ(stacks.size(), 3u);
    const std::uint64_t n = std::uint64_t(w.sessions) * w.requests;
    struct Expect {
        const char* function;
        int line;
        std::uint64_t bytes, live_at_end;
        double growth;
    };
    for (const Expect& x : {Expect{"parse_request", kParseLine, n * w.parse, 0, 0},
                            Expect{"cache_header", kCacheLine, n * w.cache, n * w.cache,
                                   double(w.sessions) * w.cache},
                            Expect{"pool_note", kPoolLine, n * w.pool, 0, 0}}) {
        const StackCost* c = by_function(reader, stacks, x.function);
        ASSERT_NE(c, nullptr) << x.function;
        EXPECT_EQ(c->bytes_allocated, x.bytes) << x.function;
        EXPECT_EQ(c->blocks, n) << x.function;
        EXPECT_EQ(c->bytes_live_at_end, x.live_at_end) << x.function;
        EXPECT_NEAR(c->growth_bytes_per_request, x.growth, 1e-6) << x.function;
        EXPECT_EQ(c->sessions, std::uint64_t(w.sessions));
        const StackFrame f = reader.frames(c->stack).at(0);
        EXPECT_NE(f.file.find("test_stack_tables.cpp"), std::string::npos) << f.file;
        EXPECT_EQ(f.line, std::uint32_t(x.line)) << x.function;
        EXPECT_NE(f.module.find("data_test_stack_tables"), std::string::npos) << f.module;
        EXPECT_EQ(frame_location(f), f.file + ":" + std::to_string(x.line));
    }
    // Sorted by bytes live at the end: the growing site first.
    EXPECT_NE(reader.frames(stacks[0].stack)[0].function.find("cache_header"), std::string::npos);
    // The frame below each site is this file's run(), the caller.
    EXPECT_NE(reader.frames(stacks[0].stack).at(1).function.find("run"), std::string::npos);
    // A session's growth is the sum of its stacks'.
    TraceReader trace(path);
    for (const SessionRow& s : trace.sessions()) {
        const std::vector<StackCost> mine = reader.top_stacks({.sessions = {s.id}});
        const double sum =
            std::accumulate(mine.begin(), mine.end(), 0.0, [](double a, const StackCost& c) {
                return a + c.growth_bytes_per_request;
            });
        EXPECT_NEAR(sum, s.growth_bytes_per_request, 1e-6);
        EXPECT_NEAR(s.growth_bytes_per_request, w.cache, 1e-6);
    }
}

TEST(StackTables, OrderLimitAndSessionsNarrowTheList) {
    TempDir dir;
    const std::string path = record(dir, "order.mltrace", Workload{});
    StackReader reader(path);
    const auto by_allocated = reader.top_stacks({.order = StackOrder::Allocated, .limit = 1});
    ASSERT_EQ(by_allocated.size(), 1u);
    EXPECT_NE(reader.frames(by_allocated[0].stack)[0].function.find("parse_request"),
              std::string::npos);
    const auto by_growth = reader.top_stacks({.order = StackOrder::Growth});
    EXPECT_NE(reader.frames(by_growth[0].stack)[0].function.find("cache_header"),
              std::string::npos);
    TraceReader trace(path);
    const std::uint64_t first = trace.sessions().at(0).id;
    const auto one = reader.top_stacks({.sessions = {first}});
    ASSERT_EQ(one.size(), 3u);
    for (const StackCost& c : one)
        EXPECT_EQ(c.sessions, 1u);
    EXPECT_EQ(one[0].bytes_live_at_end, 50u * 300u);
    int streamed = 0;
    reader.for_each_stack({}, [&](const StackCost&) { return ++streamed < 2; });
    EXPECT_EQ(streamed, 2);
}

TEST(StackTables, ATimeWindowCountsOnlyWhatHappenedInIt) {
    TempDir dir;
    const Workload w{.sessions = 1, .requests = 40};
    const std::string path = record(dir, "window.mltrace", w);
    TraceReader trace(path);
    const SessionRow s = trace.sessions().at(0);
    const std::vector<RequestRow> requests = trace.requests(s.id);
    // Requests 21..40.
    const TimeWindow window{requests[20].begin_ns, requests[39].end_ns};
    StackReader reader(path);
    const auto stacks = reader.top_stacks({.sessions = {s.id}, .window = window});
    ASSERT_EQ(stacks.size(), 3u);
    const StackCost* cache = by_function(reader, stacks, "cache_header");
    ASSERT_NE(cache, nullptr);
    EXPECT_EQ(cache->bytes_allocated, 20u * w.cache);
    EXPECT_EQ(cache->bytes_live_at_end, 20u * w.cache); // allocated in it, live at its end
    EXPECT_NEAR(cache->growth_bytes_per_request, w.cache, 1e-6);
    const StackCost* parse = by_function(reader, stacks, "parse_request");
    ASSERT_NE(parse, nullptr);
    EXPECT_EQ(parse->bytes_allocated, 20u * w.parse);
    EXPECT_EQ(parse->bytes_live_at_end, 0u);
    // All sessions, the same window: the same answer (one session).
    const auto all = reader.top_stacks({.window = window});
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].bytes_allocated, stacks[0].bytes_allocated);
    // A window before everything: nothing.
    EXPECT_TRUE(reader.top_stacks({.window = TimeWindow{0, 1}}).empty());
    EXPECT_THROW(reader.top_stacks({.window = TimeWindow{5, 4}}), TraceError);
}

TEST(StackTables, TreesTopDownAndBottomUp) {
    TempDir dir;
    const Workload w;
    const std::string path = record(dir, "tree.mltrace", w);
    StackReader reader(path);
    const StackTree up = reader.tree({.order = StackOrder::Allocated}, TreeDirection::BottomUp);
    EXPECT_EQ(up.stacks, 3u);
    EXPECT_EQ(up.stacks_left_out, 0u);
    const std::uint64_t n = std::uint64_t(w.sessions) * w.requests;
    EXPECT_EQ(up.nodes[0].cost.bytes_allocated, n * (w.parse + w.cache + w.pool));
    ASSERT_EQ(up.nodes[0].children.size(), 3u);
    const StackTreeNode& top = up.nodes[up.nodes[0].children[0]]; // the most bytes
    EXPECT_NE(top.frame.function.find("parse_request"), std::string::npos);
    EXPECT_EQ(top.cost.bytes_allocated, n * w.parse);
    // Every site is called from run(): each has one child (its caller), with its bytes.
    ASSERT_EQ(top.children.size(), 1u);
    EXPECT_NE(up.nodes[top.children[0]].frame.function.find("run"), std::string::npos);
    EXPECT_EQ(up.nodes[top.children[0]].cost.bytes_allocated, n * w.parse);

    const StackTree down = reader.tree({}, TreeDirection::TopDown);
    // Top-down the sites share their callers: one chain until run() splits into three.
    std::uint32_t at = 0;
    while (down.nodes[at].children.size() == 1)
        at = down.nodes[at].children[0];
    EXPECT_NE(down.nodes[at].frame.function.find("run"), std::string::npos);
    ASSERT_EQ(down.nodes[at].children.size(), 3u);
    EXPECT_EQ(down.nodes[at].cost.bytes_allocated, n * (w.parse + w.cache + w.pool));
    const StackTreeNode& leaf = down.nodes[down.nodes[at].children[0]]; // most live at end
    EXPECT_NE(leaf.frame.function.find("cache_header"), std::string::npos);
    EXPECT_TRUE(leaf.children.empty());

    const StackTree capped = reader.tree({}, TreeDirection::BottomUp, 1);
    EXPECT_EQ(capped.stacks, 1u);
    EXPECT_EQ(capped.stacks_left_out, 2u);
    EXPECT_EQ(capped.left_out.bytes_allocated, n * (w.parse + w.pool));
}

TEST(StackTables, BlocksCorruptionsAndLeaksCarryTheirStack) {
    TempDir dir;
    const std::string path =
        record(dir, "findings.mltrace",
               Workload{.sessions = 1, .requests = 10, .overrun = true, .leak = true});
    StackReader stacks(path);
    const auto all = stacks.top_stacks({});
    const StackCost* cache = by_function(stacks, all, "cache_header");
    const StackCost* pool = by_function(stacks, all, "pool_note");
    ASSERT_TRUE(cache != nullptr && pool != nullptr);
    EXPECT_EQ(cache->corruptions, 1u);
    EXPECT_EQ(pool->leaks, 1u);
    EXPECT_EQ(pool->leaked_bytes, 100u);
    TraceReader trace(path);
    const auto corruptions = trace.corruptions();
    ASSERT_EQ(corruptions.size(), 1u);
    EXPECT_EQ(corruptions[0].stack, cache->stack);
    const auto leaks = trace.leaks();
    ASSERT_EQ(leaks.size(), 1u);
    EXPECT_EQ(leaks[0].stack, pool->stack);
    std::map<std::uint64_t, int> blocks_by_stack;
    trace.for_each_block(trace.sessions()[0].id, [&](const BlockRow& b) {
        ++blocks_by_stack[b.stack];
        return true;
    });
    EXPECT_EQ(blocks_by_stack.size(), 3u);
    EXPECT_EQ(blocks_by_stack[cache->stack], 10);
    EXPECT_EQ(blocks_by_stack[0], 0);
}

TEST(StackTables, SymbolizeLaterFillsInWhatRecordingLeftOut) {
    TempDir dir;
    const std::string path =
        record(dir, "later.mltrace", Workload{.sessions = 1, .requests = 5}, 16, false);
    {
        StackReader reader(path);
        const auto stacks = reader.top_stacks({});
        ASSERT_EQ(stacks.size(), 3u);
        const StackFrame f = reader.frames(stacks[0].stack).at(0);
        EXPECT_TRUE(f.function.empty()); // addresses only
        EXPECT_NE(frame_name(f).find("data_test_stack_tables+0x"), std::string::npos)
            << frame_name(f);
    }
    const SymbolizeResult result = symbolize_trace(path);
    EXPECT_GE(result.modules, 1u);
    EXPECT_GE(result.modules_with_lines, 1u);
    EXPECT_GE(result.addresses_with_lines, 3u);
    StackReader reader(path);
    const auto stacks = reader.top_stacks({});
    EXPECT_NE(by_function(reader, stacks, "cache_header"), nullptr);
    // Again: nothing left to do for the modules done, and the trace is the same.
    const SymbolizeResult again = symbolize_trace(path);
    EXPECT_LT(again.modules, result.modules + 1);
    EXPECT_NE(by_function(StackReader(path), stacks, "cache_header"), nullptr);
}

TEST(StackTables, TracesWithoutStacksSayWhy) {
    TempDir dir;
    const std::string off = record(dir, "off.mltrace", Workload{.sessions = 1}, 0);
    StackReader reader(off);
    EXPECT_FALSE(reader.status().recorded);
    EXPECT_NE(reader.status().reason.find("recorded with stacks off"), std::string::npos);
    EXPECT_TRUE(reader.top_stacks({}).empty());
    EXPECT_EQ(reader.tree({}, TreeDirection::TopDown).nodes.size(), 1u);
    EXPECT_THROW(reader.frames(1), TraceError);
    EXPECT_EQ(symbolize_trace(off).modules, 0u);

    // A version-2 trace, as memlife wrote them before stacks: the tables and columns of
    // version 3 dropped.
    const std::string v2 = record(dir, "v2.mltrace", Workload{.sessions = 1, .leak = true}, 0);
    memlife::test::sql_exec(v2,
                            "DROP TABLE modules; DROP TABLE stack_nodes; DROP TABLE frames; "
                            "DROP TABLE session_stacks; ALTER TABLE corruptions DROP COLUMN stack; "
                            "ALTER TABLE leaks DROP COLUMN stack; PRAGMA user_version = 2");
    StackReader old(v2);
    EXPECT_FALSE(old.status().recorded);
    EXPECT_NE(old.status().reason.find("schema version 2"), std::string::npos);
    EXPECT_TRUE(old.top_stacks({}).empty());
    TraceReader trace(v2); // opens exactly as before
    EXPECT_EQ(trace.info().schema_version, 2u);
    ASSERT_EQ(trace.leaks().size(), 1u);
    EXPECT_EQ(trace.leaks()[0].stack, 0u);
    std::uint64_t blocks = 0;
    trace.for_each_block(trace.sessions()[0].id, [&](const BlockRow& b) {
        blocks += b.stack == 0;
        return true;
    });
    EXPECT_EQ(blocks, trace.sessions()[0].blocks);
    EXPECT_EQ(symbolize_trace(v2).modules, 0u);
}
