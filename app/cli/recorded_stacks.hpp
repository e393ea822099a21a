// The call stacks of the processes `memlife record` records, as one tree for the trace.
// Each process sends its own stack-tree nodes and its loaded modules (app/preload/wire.hpp);
// a ProcessStacks maps them to the trace's nodes and modules. Nodes are shared by the
// processes where they are the same frame (parent, address and module): nginx's workers,
// forked from one master, fill one tree.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "memlife/data/stack_source.hpp"

namespace memlife::cli {

class RecordedStacks final : public data::StackSource {
public:
    // The trace's module for `m`, added if new (same path, build id and place: same module).
    std::uint32_t add_module(const data::ModuleInfo& m);
    // The trace's node for (parent, address, module), added if new; 0 when the tree is
    // full (2^32 - 1 nodes).
    StackId add_node(StackId parent, std::uint64_t address, std::uint32_t module);

    bool node(StackId id, StackNode& node, std::uint32_t& module) override;
    data::ModuleInfo module(std::uint32_t id) override;

private:
    struct Node {
        StackId parent;
        std::uint32_t depth, module;
        std::uint64_t address;
    };
    struct NodeKey {
        StackId parent;
        std::uint32_t module;
        std::uint64_t address;
        bool operator==(const NodeKey&) const = default;
    };
    struct NodeKeyHash {
        std::size_t operator()(const NodeKey& k) const noexcept {
            const std::uint64_t h =
                (k.address ^ (std::uint64_t{k.parent} << 32 | k.module)) * 0x9E3779B97F4A7C15ull;
            return static_cast<std::size_t>(h ^ (h >> 29));
        }
    };

    std::mutex mutex_;        // the receiver's threads add, the recorder's writer reads
    std::vector<Node> nodes_; // by id - 1
    std::unordered_map<NodeKey, StackId, NodeKeyHash> node_ids_;
    std::vector<data::ModuleInfo> modules_; // by id - 1
    std::map<std::tuple<std::string, std::string, std::uint64_t, std::uint64_t>, std::uint32_t>
        module_ids_;
};

// One process's view: its node ids and module list, mapped to the trace's. Used by the
// receiver's thread for that process only. Throws std::runtime_error on a frame that does
// not make sense (the stream is then cut off).
class ProcessStacks {
public:
    explicit ProcessStacks(RecordedStacks& trace) : trace_(trace) {}

    // A Modules frame: the process's loaded modules now (replacing the earlier list).
    void modules(const unsigned char* payload, std::size_t size);
    // A StackNodes frame.
    void nodes(const unsigned char* payload, std::size_t size);
    // The trace's id of the process's stack `id`; 0 for 0 and for ids never sent.
    StackId trace_id(std::uint32_t id) const {
        return id != 0 && id <= ids_.size() ? ids_[id - 1] : 0;
    }

private:
    std::uint32_t module_of(std::uint64_t address) const;

    struct Range {
        std::uint64_t begin, end;
        std::uint32_t module; // the trace's
    };
    RecordedStacks& trace_;
    std::vector<StackId> ids_;  // the process's id - 1 -> the trace's
    std::vector<Range> ranges_; // sorted by begin
};

} // namespace memlife::cli
