// This process's stacks for the recorder: the nodes of its stack tree and, for each
// address, the module (executable or shared library) it is in, with the file, build id and
// load address symbolization needs, then or later on another machine
// (docs/trace-format.md, "modules").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memlife/data/stack_source.hpp"

namespace memlife::data {

class ModuleMap {
public:
    // The module of `address` in this process: its index in modules() + 1, or 0 when no
    // loaded module holds it. Looks at the loader's list again when libraries were loaded or
    // unloaded since the last look.
    std::uint32_t find(std::uint64_t address);
    const ModuleInfo& module(std::uint32_t id) const { return modules_[id - 1]; }

private:
    void refresh();

    struct Range {
        std::uint64_t begin, end;
        std::uint32_t id;
    };
    std::vector<ModuleInfo> modules_; // by id - 1; never removed (ids stay valid)
    std::vector<Range> ranges_;       // the loaded ones, sorted
    ModuleListVersion version_;       // the loader's counters at the last look
};

// The default StackSource: this process's stack tree and modules.
class LocalStacks final : public StackSource {
public:
    bool node(StackId id, StackNode& node, std::uint32_t& module) override {
        if (!stack_node(id, node)) return false;
        module = modules_.find(node.address);
        return true;
    }
    ModuleInfo module(std::uint32_t id) override { return modules_.module(id); }

private:
    ModuleMap modules_;
};

} // namespace memlife::data
