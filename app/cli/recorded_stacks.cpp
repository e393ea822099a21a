#include "recorded_stacks.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "wire.hpp"

namespace memlife::cli {

namespace wire = preload::wire;

std::uint32_t RecordedStacks::add_module(const data::ModuleInfo& m) {
    std::lock_guard lock(mutex_);
    auto [it, added] = module_ids_.try_emplace({m.path, m.build_id, m.load_address, m.start},
                                               static_cast<std::uint32_t>(modules_.size() + 1));
    if (added) modules_.push_back(m);
    return it->second;
}

StackId RecordedStacks::add_node(StackId parent, std::uint64_t address, std::uint32_t module) {
    std::lock_guard lock(mutex_);
    if (nodes_.size() >= 0xFFFFFFFEu) return 0;
    auto [it, added] = node_ids_.try_emplace(NodeKey{parent, module, address},
                                             static_cast<StackId>(nodes_.size() + 1));
    if (added) {
        const std::uint32_t depth = parent == 0 ? 1 : nodes_[parent - 1].depth + 1;
        nodes_.push_back({parent, depth, module, address});
    }
    return it->second;
}

bool RecordedStacks::node(StackId id, StackNode& node, std::uint32_t& module) {
    std::lock_guard lock(mutex_);
    if (id == 0 || id > nodes_.size()) return false;
    const Node& n = nodes_[id - 1];
    node = StackNode{n.parent, n.depth, n.address};
    module = n.module;
    return true;
}

data::ModuleInfo RecordedStacks::module(std::uint32_t id) {
    std::lock_guard lock(mutex_);
    return id != 0 && id <= modules_.size() ? modules_[id - 1] : data::ModuleInfo{};
}

void ProcessStacks::modules(const unsigned char* payload, std::size_t size) {
    std::vector<Range> ranges;
    for (std::size_t at = 0; at < size;) {
        wire::Module m;
        if (size - at < sizeof m) throw std::runtime_error("bad modules frame");
        std::memcpy(&m, payload + at, sizeof m);
        at += sizeof m;
        if (size - at < std::size_t{m.path_size} + m.build_id_size || m.size == 0 ||
            m.start + m.size < m.start)
            throw std::runtime_error("bad module");
        data::ModuleInfo info;
        info.path.assign(reinterpret_cast<const char*>(payload + at), m.path_size);
        at += m.path_size;
        info.build_id.assign(reinterpret_cast<const char*>(payload + at), m.build_id_size);
        at += m.build_id_size;
        info.load_address = m.load_address;
        info.start = m.start;
        info.size = m.size;
        ranges.push_back({m.start, m.start + m.size, trace_.add_module(info)});
    }
    std::sort(ranges.begin(), ranges.end(),
              [](const Range& a, const Range& b) { return a.begin < b.begin; });
    ranges_ = std::move(ranges);
}

std::uint32_t ProcessStacks::module_of(std::uint64_t address) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), address,
                               [](std::uint64_t a, const Range& r) { return a < r.begin; });
    return it != ranges_.begin() && address < std::prev(it)->end ? std::prev(it)->module : 0;
}

void ProcessStacks::nodes(const unsigned char* payload, std::size_t size) {
    if (size % sizeof(wire::StackNode) != 0) throw std::runtime_error("bad stack nodes frame");
    for (std::size_t at = 0; at < size; at += sizeof(wire::StackNode)) {
        wire::StackNode n;
        std::memcpy(&n, payload + at, sizeof n);
        // Ids come in order, each once; a parent before its children.
        if (n.id != ids_.size() + 1 || n.parent >= n.id) throw std::runtime_error("bad stack node");
        const StackId parent = trace_id(n.parent);
        const bool lost = n.parent != 0 && parent == 0; // the trace's tree was full
        ids_.push_back(lost ? 0 : trace_.add_node(parent, n.address, module_of(n.address)));
    }
}

} // namespace memlife::cli
