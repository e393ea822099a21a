// Workloads shared by the benchmark programs, so their baselines are the same loop.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

namespace memlife::bench {

// 4096 sizes of 8..1024 bytes (headers, URLs, small buffers), the same in every program.
inline const std::vector<std::uint32_t>& allocation_sizes() {
    static const std::vector<std::uint32_t> sizes = [] {
        std::mt19937 rng(42);
        std::vector<std::uint32_t> v(4096);
        for (auto& x : v)
            x = 8 + rng() % 1017;
        return v;
    }();
    return sizes;
}

// The baseline: a glibc malloc+free pair of those sizes.
inline void BM_MallocFree(benchmark::State& state) {
    const auto& sz = allocation_sizes();
    std::size_t i = 0;
    for (auto _ : state) {
        void* p = std::malloc(sz[i++ & 4095]);
        benchmark::DoNotOptimize(p);
        std::free(p);
    }
    state.SetItemsProcessed(state.iterations());
}

} // namespace memlife::bench
