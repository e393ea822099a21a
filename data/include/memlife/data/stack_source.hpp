// Where a recorder's stack ids come from. By default from this process's stack tree
// (memlife/stacks.hpp) and the modules loaded here; `memlife record` records other
// processes, and gives the recorder the stacks they sent instead.
#pragma once

#include <cstdint>
#include <string>

#include "memlife/stacks.hpp"

namespace memlife::data {

struct ModuleInfo {
    std::string path;               // the file; the executable's from /proc/self/exe
    std::string build_id;           // lower-case hex of NT_GNU_BUILD_ID; "" when none
    std::uint64_t load_address = 0; // the load bias: address = file virtual address + this
    std::uint64_t start = 0;        // the lowest mapped address of its loadable segments
    std::uint64_t size = 0;         // up to the end of the highest one
};

class StackSource {
public:
    virtual ~StackSource() = default;
    // Node `id` and the id of its module (0: none known); false for an id never given out.
    // Called on the recorder's writer thread for the stacks of events handed to the
    // recorder: a node (and its parents) must be known before an event names it.
    virtual bool node(StackId id, StackNode& node, std::uint32_t& module) = 0;
    // Module `id` (> 0, as node() gave it). Writer thread.
    virtual ModuleInfo module(std::uint32_t id) = 0;
};

} // namespace memlife::data
