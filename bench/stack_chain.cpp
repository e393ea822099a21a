// A call chain for the unwinder benchmarks (bench_stacks.cpp), compiled with frame pointers
// so that a frame-pointer walk can be measured beside the unwinders that need none.
#include <cstdint>

// Calls `leaf` `levels` calls deep; returns what it returned.
[[gnu::noinline]] int stack_chain(int levels, int (*leaf)()) {
    const int r = levels == 0 ? leaf() : stack_chain(levels - 1, leaf);
    asm volatile("" ::: "memory"); // no tail call: every level keeps its frame
    return r + 1;
}

// Return addresses by frame pointers: at most `max`, while the chain looks like one.
[[gnu::noinline]] int frame_pointer_walk(void** out, int max) {
    auto fp = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    int n = 0;
    while (n < max && fp != 0 && (fp & 7) == 0) {
        const auto* frame = reinterpret_cast<const std::uintptr_t*>(fp);
        out[n++] = reinterpret_cast<void*>(frame[1]);
        if (frame[0] <= fp) break;
        fp = frame[0];
    }
    return n;
}
