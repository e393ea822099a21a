// The stream between the preload library (in each recorded process) and `memlife record`
// (the receiver, which owns the one Recorder of the trace). A Unix stream socket carries
// frames: a FrameHeader, then `size` bytes. Both ends come from the same build: the Hello
// frame's version must match exactly. Session ids in frames are the process's own (1, 2,
// ...); the receiver maps them to the trace's.
#pragma once

#include <cstdint>

#include "memlife/event.hpp"

namespace memlife::preload::wire {

inline constexpr std::uint32_t kVersion = 2;
// Larger frames are a protocol error (the library sends at most one connection's pending
// events, a peer label or a process description per frame).
inline constexpr std::uint32_t kMaxFrame = 1u << 20;
inline constexpr std::uint32_t kMaxPeer = 200;

enum class FrameType : std::uint32_t {
    Hello = 1,    // Hello, then the command line: argv joined by NUL bytes
    Events = 2,   // memlife::Event records (48 bytes each), one connection's, in order
    Peer = 3,     // Peer, then the label: precedes the Events frame with its SessionOpen
    Outlived = 4, // Outlived: a block still live when its connection's close window ended
    Stats = 5,    // Stats: sent when the process stops recording (exit, exec)
    // With call stacks (docs/record.md, "Call stacks"):
    Modules = 6,       // the loaded modules: Module records, each with its path and build id
    StackNodes = 7,    // StackNode records: the process's new stack-tree nodes, ids ascending
    StackedEvents = 8, // n Event records, then n 32-bit stack ids (an Alloc's; 0 otherwise)
};

struct FrameHeader {
    FrameType type;
    std::uint32_t size; // bytes after the header
};

struct Hello {
    std::uint32_t version = kVersion;
    std::int32_t pid = 0;
    std::int32_t ppid = 0;
    std::uint32_t reserved = 0;
};

struct Peer {
    std::uint64_t session = 0;
};

struct Outlived {
    std::uint64_t session = 0;
    std::uint64_t block = 0;
    std::uint64_t address = 0;
    std::uint64_t size = 0;
    std::uint32_t alloc_request = 0; // request running when it was allocated (0: none)
    std::uint32_t requests = 0;      // requests of the connection
    std::uint64_t close_ns = 0;      // when the connection was closed
    std::uint64_t detected_ns = 0;   // when its close window ended
    std::uint32_t stack = 0;         // its allocating stack (0: none)
    std::uint32_t reserved = 0;
};

// Followed by `path_size` bytes of path and `build_id_size` of build id (hex), no NULs.
struct Module {
    std::uint64_t load_address = 0;
    std::uint64_t start = 0;
    std::uint64_t size = 0;
    std::uint16_t path_size = 0;
    std::uint16_t build_id_size = 0;
    std::uint32_t reserved = 0;
};

// A node of the process's stack tree (memlife/stacks.hpp): ids are the process's own, a
// parent's lower than its child's. A forked child sends its inherited nodes again.
struct StackNode {
    std::uint32_t id = 0;
    std::uint32_t parent = 0;
    std::uint64_t address = 0;
};

struct Stats {
    std::uint64_t process_allocs = 0; // allocations while no connection was current
    std::uint64_t process_bytes = 0;
    std::uint64_t sessions = 0; // connections recorded by the process
};

static_assert(sizeof(Event) == 48);
static_assert(sizeof(FrameHeader) == 8 && sizeof(Hello) == 16 && sizeof(Outlived) == 64);
static_assert(sizeof(Module) == 32 && sizeof(StackNode) == 16);

} // namespace memlife::preload::wire
