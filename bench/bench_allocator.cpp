// alloc_mem against the glibc malloc+free pair it replaces, same sizes, same run.
#include <cstdlib>
#include <random>
#include <vector>

#include "figures.hpp"
#include "memlife/session.hpp"

namespace {

constexpr int kBlocksPerSession = 1000; // a keep-alive connection's worth of AllocMem calls

const std::vector<std::uint32_t>& sizes() {
    static const std::vector<std::uint32_t> s = [] {
        std::mt19937 rng(42);
        std::vector<std::uint32_t> v(4096);
        for (auto& x : v)
            x = 8 + rng() % 1017; // 8..1024 bytes: headers, URLs, small buffers
        return v;
    }();
    return s;
}

void BM_MallocFree(benchmark::State& state) {
    const auto& sz = sizes();
    std::size_t i = 0;
    for (auto _ : state) {
        void* p = std::malloc(sz[i++ & 4095]);
        benchmark::DoNotOptimize(p);
        std::free(p);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MallocFree);

// Includes the session's open and close: the release of every block (and its tail check)
// is part of the price of alloc_mem.
void alloc_mem_loop(benchmark::State& state, memlife::Config config) {
    const auto& sz = sizes();
    memlife::Runtime rt(config);
    memlife::Session* s = rt.open("bench");
    std::size_t i = 0;
    int in_session = 0;
    for (auto _ : state) {
        void* p = s->alloc_mem(sz[i++ & 4095]);
        benchmark::DoNotOptimize(p);
        if (++in_session == kBlocksPerSession) {
            rt.close(s);
            s = rt.open("bench");
            in_session = 0;
        }
    }
    rt.close(s);
    state.SetItemsProcessed(state.iterations());
}

void BM_AllocMem(benchmark::State& state) {
    alloc_mem_loop(state, memlife::Config{});
}
BENCHMARK(BM_AllocMem);

void BM_AllocMemGuardPages(benchmark::State& state) {
    alloc_mem_loop(state, memlife::Config{.guard_pages = true});
}
BENCHMARK(BM_AllocMemGuardPages);

} // namespace

int main(int argc, char** argv) {
    memlife::bench::figure("alloc_mem_vs_malloc", "BM_AllocMem", "BM_MallocFree");
    memlife::bench::figure("guard_page_vs_malloc", "BM_AllocMemGuardPages", "BM_MallocFree");
    return memlife::bench::run_figures(argc, argv);
}
