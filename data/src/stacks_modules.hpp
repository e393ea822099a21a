// The modules (executable and shared libraries) of the recording process, so that a trace
// can name, for each stack address, the file, build id and load address it came from: what
// symbolization needs, then or later on another machine (docs/trace-format.md, "modules").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace memlife::data {

struct ModuleInfo {
    std::string path;               // the file; the executable's from /proc/self/exe
    std::string build_id;           // lower-case hex of NT_GNU_BUILD_ID; "" when none
    std::uint64_t load_address = 0; // the load bias: address = file virtual address + this
    std::uint64_t start = 0;        // the lowest mapped address of its loadable segments
    std::uint64_t size = 0;         // up to the end of the highest one
};

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
    std::vector<ModuleInfo> modules_;                // by id - 1; never removed (ids stay valid)
    std::vector<Range> ranges_;                      // the loaded ones, sorted
    unsigned long long adds_ = ~0ull, subs_ = ~0ull; // dl_phdr_info's counters at the last look
};

} // namespace memlife::data
