#include <ctime>

#include "memlife/event.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

namespace memlife {
namespace {

std::uint64_t monotonic_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

#if defined(__x86_64__)
bool has_invariant_tsc() noexcept {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007u) return false;
    __get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx);
    return (edx & (1u << 8)) != 0;
}

__extension__ typedef unsigned __int128 u128; // -Wpedantic: a GCC/Clang extension

// Anchors the TSC to CLOCK_MONOTONIC once, over a short calibration window; afterwards a
// timestamp is one rdtsc and a fixed-point multiply.
struct TscClock {
    bool usable = false;
    std::uint64_t tsc0 = 0;
    std::uint64_t ns0 = 0;
    std::uint64_t mult = 0; // ns per tick, fixed point 2^-32 (one 64x64 multiply per read)

    TscClock() noexcept {
        if (!has_invariant_tsc()) return;
        const std::uint64_t n0 = monotonic_ns();
        const std::uint64_t t0 = __rdtsc();
        std::uint64_t n1 = n0;
        while (n1 - n0 < 5'000'000)
            n1 = monotonic_ns(); // 5 ms window
        const std::uint64_t t1 = __rdtsc();
        if (t1 <= t0) return;
        mult = ((n1 - n0) << 32) / (t1 - t0); // n1 - n0 ~ 5e6: no overflow
        tsc0 = t0;
        ns0 = n0;
        usable = mult != 0;
    }
    std::uint64_t now() const noexcept {
        const std::uint64_t ticks = __rdtsc() - tsc0;
        return ns0 + static_cast<std::uint64_t>((u128{ticks} * mult) >> 32);
    }
};
#endif

} // namespace

std::uint64_t now_ns() noexcept {
#if defined(__x86_64__)
    static const TscClock clock;
    if (clock.usable) return clock.now();
#endif
    return monotonic_ns();
}

} // namespace memlife
