// Stack capture and the process-wide stack tree (memlife/stacks.hpp).
//
// The unwinder is libunwind's unw_backtrace with its per-thread cache (heaptrack's choice):
// it reads the DWARF call frame information every binary carries in .eh_frame, so it
// works on code built without frame pointers (what a server's author usually ships), and
// its cache of per-address frame descriptions makes a repeated unwind cost ~8 ns a frame
// here. Frame-pointer walking costs ~1 ns a frame but returns garbage for code built
// without -fno-omit-frame-pointer; glibc's backtrace() costs as much as libunwind but
// takes the loader's lock. docs/architecture.md ("Call stacks") has the measurements.
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "memlife/stacks.hpp"

namespace memlife {
namespace {

// ---- the tree --------------------------------------------------------------------------

constexpr std::uint32_t kChunkBits = 16;
constexpr std::uint32_t kChunkNodes = 1u << kChunkBits; // 64k nodes, 1 MiB per chunk
constexpr std::uint32_t kMaxChunks = 1u << 14;          // 1G nodes

// Nodes live in chunks that never move, published by `count`: a reader that got an id
// from a node's creator (through any release/acquire chain, e.g. the recorder's queue)
// reads the node without a lock. Creation and the (parent, address) index take the mutex.
class StackTree {
public:
    bool node(StackId id, StackNode& out) const noexcept {
        if (id == 0 || id > count_.load(std::memory_order_acquire)) return false;
        const StackNode* chunk = chunks_[(id - 1) >> kChunkBits].load(std::memory_order_acquire);
        out = chunk[(id - 1) & (kChunkNodes - 1)];
        return true;
    }
    std::uint32_t count() const noexcept { return count_.load(std::memory_order_acquire); }

    // The leaf of the path `addresses` (innermost first, `n` of them); 0 when out of memory.
    StackId insert(const std::uint64_t* addresses, std::size_t n) noexcept {
        std::lock_guard lock(mutex_);
        StackId parent = 0;
        for (std::size_t i = n; i-- > 0;) {
            parent = find_or_add(parent, addresses[i], static_cast<std::uint32_t>(n - i));
            if (parent == 0) return 0;
        }
        return parent;
    }

private:
    static std::uint64_t slot_hash(StackId parent, std::uint64_t address) noexcept {
        std::uint64_t h =
            (address ^ (std::uint64_t{parent} << 40 | parent)) * 0x9E3779B97F4A7C15ull;
        return h ^ (h >> 29);
    }

    StackId find_or_add(StackId parent, std::uint64_t address, std::uint32_t depth) noexcept {
        if (index_.size() < 2 * (std::size_t{count_.load(std::memory_order_relaxed)} + 1) &&
            !grow_index())
            return 0;
        const std::size_t mask = index_.size() - 1;
        for (std::size_t s = slot_hash(parent, address) & mask;; s = (s + 1) & mask) {
            const StackId id = index_[s];
            if (id == 0) {
                const StackId made = add(parent, address, depth);
                if (made != 0) index_[s] = made;
                return made;
            }
            StackNode n;
            node(id, n);
            if (n.parent == parent && n.address == address) return id;
        }
    }

    bool grow_index() noexcept {
        try {
            std::vector<StackId> bigger(std::max<std::size_t>(4096, index_.size() * 2), 0);
            const std::size_t mask = bigger.size() - 1;
            for (StackId id : index_) {
                if (id == 0) continue;
                StackNode n;
                node(id, n);
                std::size_t s = slot_hash(n.parent, n.address) & mask;
                while (bigger[s] != 0)
                    s = (s + 1) & mask;
                bigger[s] = id;
            }
            index_.swap(bigger);
            return true;
        } catch (const std::bad_alloc&) {
            return false;
        }
    }

    StackId add(StackId parent, std::uint64_t address, std::uint32_t depth) noexcept {
        const std::uint32_t index = count_.load(std::memory_order_relaxed);
        if (index >= kMaxChunks * kChunkNodes) return 0;
        auto& slot = chunks_[index >> kChunkBits];
        StackNode* chunk = slot.load(std::memory_order_relaxed);
        if (chunk == nullptr) {
            chunk = new (std::nothrow) StackNode[kChunkNodes];
            if (chunk == nullptr) return 0;
            slot.store(chunk, std::memory_order_release);
        }
        chunk[index & (kChunkNodes - 1)] = StackNode{parent, depth, address};
        count_.store(index + 1, std::memory_order_release);
        return index + 1;
    }

    std::mutex mutex_;
    std::vector<StackId> index_; // open addressing over (parent, address); under mutex_
    std::atomic<std::uint32_t> count_{0};
    std::atomic<StackNode*> chunks_[kMaxChunks] = {};
};

StackTree& tree() {
    static StackTree* t = new StackTree; // never destroyed: threads may allocate after main
    return *t;
}

// ---- frames to skip ----------------------------------------------------------------------

struct Range {
    std::uintptr_t begin = 0, end = 0;
};
constexpr int kMaxSkipRanges = 8;
std::atomic<int> g_skip_count{0};
Range g_skip[kMaxSkipRanges];
std::mutex g_skip_mutex;

// The executable segments of the module containing `address`.
void add_module_ranges(std::uintptr_t address) {
    struct Search {
        std::uintptr_t address;
        Range found[4];
        int count = 0;
    } search{address, {}, 0};
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* data) -> int {
            auto* s = static_cast<Search*>(data);
            Range ranges[4];
            int n = 0;
            bool contains = false;
            for (int i = 0; i < info->dlpi_phnum; ++i) {
                const ElfW(Phdr)& ph = info->dlpi_phdr[i];
                if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
                const std::uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
                const Range r{begin, begin + ph.p_memsz};
                if (s->address >= r.begin && s->address < r.end) contains = true;
                if (n < 4) ranges[n++] = r;
            }
            if (!contains) return 0;
            std::copy(ranges, ranges + n, s->found);
            s->count = n;
            return 1;
        },
        &search);
    std::lock_guard lock(g_skip_mutex);
    int count = g_skip_count.load(std::memory_order_relaxed);
    for (int i = 0; i < search.count && count < kMaxSkipRanges; ++i) {
        bool known = false;
        for (int k = 0; k < count; ++k)
            known = known || (g_skip[k].begin == search.found[i].begin);
        if (!known) g_skip[count++] = search.found[i];
    }
    g_skip_count.store(count, std::memory_order_release);
}

bool skipped(std::uintptr_t ip) noexcept {
    const int n = g_skip_count.load(std::memory_order_acquire);
    for (int i = 0; i < n; ++i)
        if (ip >= g_skip[i].begin && ip < g_skip[i].end) return true;
    return false;
}

void init_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
        unw_set_cache_size(unw_local_addr_space, 1024, 0);
        add_module_ranges(reinterpret_cast<std::uintptr_t>(&capture_stack));
    });
}

// ---- the per-thread cache of recent stacks ------------------------------------------------

constexpr std::size_t kCacheEntries = 64; // direct-mapped; ~34 KiB per thread that allocates

struct CacheEntry {
    std::uint64_t hash = 0;
    std::uint32_t length = 0;
    StackId id = 0;
    std::uint64_t addresses[kMaxStackDepth];
};

struct ThreadCache {
    std::unique_ptr<CacheEntry[]> entries;
};
thread_local ThreadCache t_cache;

std::uint64_t hash_of(const std::uint64_t* a, std::size_t n) noexcept {
    std::uint64_t h = 0x6A09E667F3BCC909ull ^ n;
    for (std::size_t i = 0; i < n; ++i)
        h = (h ^ a[i]) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 32);
}

} // namespace

void skip_frames_of_module(const void* address_in_module) noexcept {
    init_once();
    add_module_ranges(reinterpret_cast<std::uintptr_t>(address_in_module));
}

StackId capture_stack(std::uint32_t depth) noexcept {
    init_once();
    depth = std::min(std::max<std::uint32_t>(depth, 1), kMaxStackDepth);
    // memlife's own frames (this function, the allocation path, the C API) come first: ask
    // for a few more than `depth` and drop them.
    constexpr std::uint32_t kOwnFrames = 6;
    void* raw[kMaxStackDepth + kOwnFrames];
    const int got = unw_backtrace(raw, static_cast<int>(depth + kOwnFrames));
    int first = 0;
    while (first < got && skipped(reinterpret_cast<std::uintptr_t>(raw[first])))
        ++first;
    const std::size_t n = std::min<std::size_t>(depth, got > first ? got - first : 0);
    if (n == 0) return 0;
    std::uint64_t addresses[kMaxStackDepth];
    for (std::size_t i = 0; i < n; ++i)
        addresses[i] = reinterpret_cast<std::uintptr_t>(raw[first + i]);

    const std::uint64_t h = hash_of(addresses, n);
    if (!t_cache.entries) t_cache.entries.reset(new (std::nothrow) CacheEntry[kCacheEntries]);
    CacheEntry* entry = t_cache.entries ? &t_cache.entries[h % kCacheEntries] : nullptr;
    if (entry != nullptr && entry->hash == h && entry->length == n &&
        std::memcmp(entry->addresses, addresses, n * sizeof addresses[0]) == 0)
        return entry->id;
    const StackId id = tree().insert(addresses, n);
    if (entry != nullptr && id != 0) {
        entry->hash = h;
        entry->length = static_cast<std::uint32_t>(n);
        entry->id = id;
        std::memcpy(entry->addresses, addresses, n * sizeof addresses[0]);
    }
    return id;
}

bool stack_node(StackId id, StackNode& out) noexcept {
    return tree().node(id, out);
}

std::size_t stack_addresses(StackId id, std::uint64_t* out, std::size_t max) noexcept {
    if (id == 0) return 0; // no tree needed (a fault handler must not construct it)
    std::size_t n = 0;
    StackNode node;
    while (n < max && tree().node(id, node)) {
        out[n++] = node.address;
        id = node.parent;
    }
    return n;
}

std::uint32_t stack_node_count() noexcept {
    return tree().count();
}

} // namespace memlife
