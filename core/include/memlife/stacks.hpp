// Call stacks: which code allocated a block (Config::stack_depth > 0).
//
// A stack is captured as return addresses (innermost first, memlife's own frames skipped)
// and deduplicated into one process-wide tree of (parent node, return address): a stack
// is the id of its innermost node, so an allocation carries only a 32-bit id. Nodes are
// never removed or changed once made, so any thread may read them (a sink resolving the
// ids it receives, the recorder's writer thread) without a lock.
#pragma once

#include <cstddef>
#include <cstdint>

#include "memlife/memlife.h"

namespace memlife {

using StackId = std::uint32_t; // 0 = no stack
inline constexpr std::uint32_t kMaxStackDepth = ML_STACK_DEPTH_MAX;

struct StackNode {
    StackId parent = 0;        // the caller's node; 0 = the outermost frame kept
    std::uint32_t depth = 0;   // frames from the outermost kept one (1 = outermost)
    std::uint64_t address = 0; // a return address (the instruction after the call)
};

// The stack of the function that called into memlife: at most `depth` frames (1..64),
// innermost first, without the frames of memlife's own library (and of the modules given
// to skip_frames_of_module). Returns the node id, 0 when no frame was found. The per-thread
// cache of recent stacks makes a repeated stack cost the unwind and a hash; a new one takes
// the tree's lock once.
MEMLIFE_API StackId capture_stack(std::uint32_t depth) noexcept;

// Frames of the module containing `address_in_module` are skipped too when they are the
// innermost (an allocator hook or wrapper library: its frames say nothing about the caller).
MEMLIFE_API void skip_frames_of_module(const void* address_in_module) noexcept;

// The node `id` (false for 0 and ids never given out). Lock-free.
MEMLIFE_API bool stack_node(StackId id, StackNode& out) noexcept;
// The return addresses of stack `id`, innermost first; returns how many were written.
// Lock-free and async-signal-safe (the guard-page fault handler uses it).
MEMLIFE_API std::size_t stack_addresses(StackId id, std::uint64_t* out, std::size_t max) noexcept;
// Nodes made so far in this process (ids are 1..count). A node's parent has a lower id.
MEMLIFE_API std::uint32_t stack_node_count() noexcept;

// One loaded binary (the executable or a shared library) as the dynamic loader lists it:
// what symbolizing its addresses needs, then or later (docs/trace-format.md, "modules").
struct LoadedModule {
    const char* path = "";          // as loaded; the executable's from /proc/self/exe
    char build_id[65] = {};         // NT_GNU_BUILD_ID in lower-case hex; "" when none
    std::uint64_t load_address = 0; // the load bias: address = file virtual address + this
    std::uint64_t start = 0;        // the lowest address of its loadable segments
    std::uint64_t size = 0;         // up to the end of the highest one
};

// The loader's counts of loads and unloads when the module list was last visited.
struct ModuleListVersion {
    unsigned long long adds = ~0ull, subs = ~0ull;
};

// Calls `visit` for every loaded module, unless nothing was loaded or unloaded since the
// call that last updated `version` (a fresh ModuleListVersion always visits). Returns
// whether it visited. Allocates nothing: the preload library calls it from its hooks.
MEMLIFE_API bool visit_loaded_modules(ModuleListVersion& version,
                                      void (*visit)(const LoadedModule& module, void* context),
                                      void* context) noexcept;

} // namespace memlife
