#include "stacks_modules.hpp"

#include <algorithm>

namespace memlife::data {

std::uint32_t ModuleMap::find(std::uint64_t address) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto it = std::upper_bound(ranges_.begin(), ranges_.end(), address,
                                   [](std::uint64_t a, const Range& r) { return a < r.begin; });
        if (it != ranges_.begin() && address < std::prev(it)->end) return std::prev(it)->id;
        if (attempt == 0) refresh(); // a library loaded since the last look?
    }
    return 0;
}

void ModuleMap::refresh() {
    struct Walk {
        ModuleMap* map;
        std::vector<Range> ranges;
    } walk{this, {}};
    const bool changed = visit_loaded_modules(
        version_,
        [](const LoadedModule& loaded, void* data) {
            auto* w = static_cast<Walk*>(data);
            ModuleInfo m{loaded.path, loaded.build_id, loaded.load_address, loaded.start,
                         loaded.size};
            auto& known = w->map->modules_;
            auto same = std::find_if(known.begin(), known.end(), [&](const ModuleInfo& k) {
                return k.start == m.start && k.path == m.path && k.build_id == m.build_id;
            });
            if (same == known.end()) {
                known.push_back(std::move(m));
                same = known.end() - 1;
            }
            w->ranges.push_back({loaded.start, loaded.start + loaded.size,
                                 static_cast<std::uint32_t>(same - known.begin() + 1)});
        },
        &walk);
    if (!changed) return;
    std::sort(walk.ranges.begin(), walk.ranges.end(),
              [](const Range& a, const Range& b) { return a.begin < b.begin; });
    ranges_ = std::move(walk.ranges);
}

} // namespace memlife::data
