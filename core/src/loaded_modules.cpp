// The loaded modules (memlife/stacks.hpp): the loader's list, with each module's build id
// read from its PT_NOTE segments as they are mapped.
#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstring>

#include "loader_walk.hpp"
#include "memlife/stacks.hpp"

namespace memlife {
namespace {

// NT_GNU_BUILD_ID in hex into `out` (65 bytes); "" when there is none.
void read_build_id(const dl_phdr_info& info, char* out) noexcept {
    static const char hex[] = "0123456789abcdef";
    out[0] = '\0';
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
            if (next > end || next < p) break;
            if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
                std::memcmp(name, "GNU", 4) == 0) {
                const std::uint32_t n = std::min<std::uint32_t>(note.n_descsz, 32);
                for (std::uint32_t k = 0; k < n; ++k) {
                    out[2 * k] = hex[desc[k] >> 4];
                    out[2 * k + 1] = hex[desc[k] & 15];
                }
                out[2 * n] = '\0';
                return;
            }
            p = next;
        }
    }
}

struct Walk {
    ModuleListVersion* version;
    void (*visit)(const LoadedModule&, void*);
    void* context;
    bool first = true, visited = false;
    char executable[PATH_MAX] = {};
};

int visit_one(dl_phdr_info* info, std::size_t size, void* data) noexcept {
    auto* w = static_cast<Walk*>(data);
    if (w->first) { // the loader's counters are the same in every call
        w->first = false;
        const bool counted = size >= offsetof(dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs;
        if (counted && info->dlpi_adds == w->version->adds && info->dlpi_subs == w->version->subs)
            return 1; // nothing loaded or unloaded since
        w->version->adds = counted ? info->dlpi_adds : ~0ull;
        w->version->subs = counted ? info->dlpi_subs : ~0ull;
        w->visited = true;
    }
    std::uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_LOAD) continue;
        lo = std::min<std::uint64_t>(lo, info->dlpi_addr + ph.p_vaddr);
        hi = std::max<std::uint64_t>(hi, info->dlpi_addr + ph.p_vaddr + ph.p_memsz);
    }
    if (lo >= hi) return 0;
    LoadedModule m;
    if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0') {
        m.path = info->dlpi_name;
    } else { // the executable
        if (w->executable[0] == '\0') {
            const ssize_t n = ::readlink("/proc/self/exe", w->executable, sizeof w->executable - 1);
            w->executable[n > 0 ? n : 0] = '\0';
        }
        m.path = w->executable;
    }
    read_build_id(*info, m.build_id);
    m.load_address = info->dlpi_addr;
    m.start = lo;
    m.size = hi - lo;
    w->visit(m, w->context);
    return 0;
}

} // namespace

bool visit_loaded_modules(ModuleListVersion& version,
                          void (*visit)(const LoadedModule& module, void* context),
                          void* context) noexcept {
    Walk walk{&version, visit, context};
    WalkingLoader walking;
    dl_iterate_phdr(&visit_one, &walk);
    return walk.visited;
}

} // namespace memlife
