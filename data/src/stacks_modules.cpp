#include "stacks_modules.hpp"

#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstring>

namespace memlife::data {

namespace {

std::string executable_path() {
    char path[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : std::string();
}

// NT_GNU_BUILD_ID from the module's PT_NOTE segments, as they are mapped.
std::string build_id(const dl_phdr_info& info) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < info.dlpi_phnum; ++i) {
        const ElfW(Phdr)& ph = info.dlpi_phdr[i];
        if (ph.p_type != PT_NOTE) continue;
        const auto* p = reinterpret_cast<const unsigned char*>(info.dlpi_addr + ph.p_vaddr);
        const unsigned char* end = p + ph.p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            ElfW(Nhdr) note;
            std::memcpy(&note, p, sizeof note);
            const unsigned char* name = p + sizeof note;
            const unsigned char* desc = name + ((note.n_namesz + 3) & ~3u);
            const unsigned char* next = desc + ((note.n_descsz + 3) & ~3u);
            if (next > end) break;
            if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
                std::memcmp(name, "GNU", 4) == 0) {
                std::string id;
                for (std::uint32_t k = 0; k < note.n_descsz; ++k)
                    id += hex[desc[k] >> 4], id += hex[desc[k] & 15];
                return id;
            }
            p = next;
        }
    }
    return {};
}

} // namespace

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
        bool first = true, changed = true;
    } walk{this, {}};
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t size, void* data) -> int {
            auto* w = static_cast<Walk*>(data);
            if (w->first) { // the loader's counters are the same in every call
                w->first = false;
                if (size >= offsetof(dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs &&
                    info->dlpi_adds == w->map->adds_ && info->dlpi_subs == w->map->subs_)
                    return w->changed = false, 1; // nothing loaded or unloaded since
                w->map->adds_ = info->dlpi_adds;
                w->map->subs_ = info->dlpi_subs;
            }
            std::uint64_t lo = UINT64_MAX, hi = 0;
            for (int i = 0; i < info->dlpi_phnum; ++i) {
                const ElfW(Phdr)& ph = info->dlpi_phdr[i];
                if (ph.p_type != PT_LOAD) continue;
                lo = std::min<std::uint64_t>(lo, info->dlpi_addr + ph.p_vaddr);
                hi = std::max<std::uint64_t>(hi, info->dlpi_addr + ph.p_vaddr + ph.p_memsz);
            }
            if (lo >= hi) return 0;
            ModuleInfo m;
            m.path = info->dlpi_name != nullptr && info->dlpi_name[0] != '\0' ? info->dlpi_name
                                                                              : executable_path();
            m.build_id = build_id(*info);
            m.load_address = info->dlpi_addr;
            m.start = lo;
            m.size = hi - lo;
            auto& known = w->map->modules_;
            auto same = std::find_if(known.begin(), known.end(), [&](const ModuleInfo& k) {
                return k.start == m.start && k.path == m.path && k.build_id == m.build_id;
            });
            if (same == known.end()) {
                known.push_back(std::move(m));
                same = known.end() - 1;
            }
            w->ranges.push_back({lo, hi, static_cast<std::uint32_t>(same - known.begin() + 1)});
            return 0;
        },
        &walk);
    if (!walk.changed) return;
    std::sort(walk.ranges.begin(), walk.ranges.end(),
              [](const Range& a, const Range& b) { return a.begin < b.begin; });
    ranges_ = std::move(walk.ranges);
}

} // namespace memlife::data
