// alloc_mem against the glibc malloc+free pair it replaces, same sizes, same run.
#include <cstdlib>
#include <random>
#include <vector>

#include "figures.hpp"
#include "memlife/session.hpp"
#include "workloads.hpp"

namespace {

constexpr int kBlocksPerSession = 1000; // a keep-alive connection's worth of AllocMem calls

using memlife::bench::BM_MallocFree;
BENCHMARK(BM_MallocFree);

// Includes the session's open and close: the release of every block (and its tail check)
// is part of the price of alloc_mem.
void alloc_mem_loop(benchmark::State& state, memlife::Config config) {
    const auto& sz = memlife::bench::allocation_sizes();
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
