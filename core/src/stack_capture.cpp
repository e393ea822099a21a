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
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "loader_walk.hpp"
#include "memlife/stacks.hpp"

namespace memlife {

pthread_rwlock_t g_loader_walk_lock = PTHREAD_RWLOCK_INITIALIZER;

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

public:
    // fork: a child must not inherit the lock held by a thread that no longer exists there
    // (a preloaded server that forks its workers captures stacks in both).
    void lock_for_fork() noexcept { mutex_.lock(); }
    void unlock_after_fork() noexcept { mutex_.unlock(); }

private:
    std::mutex mutex_;
    std::vector<StackId> index_; // open addressing over (parent, address); under mutex_
    std::atomic<std::uint32_t> count_{0};
    std::atomic<StackNode*> chunks_[kMaxChunks] = {};
};

StackTree& tree() {
    static StackTree* t = new StackTree; // never destroyed: threads may allocate after main
    return *t;
}

// ---- fork (loader_walk.hpp) ------------------------------------------------------------------

void register_fork_handlers() {
    pthread_atfork(
        [] {
            pthread_rwlock_wrlock(&g_loader_walk_lock);
            tree().lock_for_fork();
        },
        [] {
            tree().unlock_after_fork();
            pthread_rwlock_unlock(&g_loader_walk_lock);
        },
        [] {
            tree().unlock_after_fork();
            // Not unlocked: the child's thread has another id than the parent's, which
            // glibc's unlock compares with the writer's. Nobody else holds it here.
            pthread_rwlock_init(&g_loader_walk_lock, nullptr);
        });
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
    WalkingLoader walking;
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

// This library's code: the first ranges (init_once adds them before any other).
int g_core_ranges = 0;
bool in_core(std::uintptr_t ip) noexcept {
    for (int i = 0; i < g_core_ranges; ++i)
        if (ip >= g_skip[i].begin && ip < g_skip[i].end) return true;
    return false;
}

bool skipped(std::uintptr_t ip) noexcept {
    const int n = g_skip_count.load(std::memory_order_acquire);
    for (int i = 0; i < n; ++i)
        if (ip >= g_skip[i].begin && ip < g_skip[i].end) return true;
    return false;
}

void init_once() {
    // std::call_once sets two thread-locals on every call, even when done: a flag first.
    static std::atomic<bool> done{false};
    if (done.load(std::memory_order_acquire)) [[likely]]
        return;
    static std::once_flag once;
    std::call_once(once, [] {
        register_fork_handlers();
        unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
        unw_set_cache_size(unw_local_addr_space, 1024, 0);
        add_module_ranges(reinterpret_cast<std::uintptr_t>(&capture_stack));
        g_core_ranges = g_skip_count.load(std::memory_order_acquire);
        done.store(true, std::memory_order_release);
    });
}

// ---- the per-thread cache of recent stacks ------------------------------------------------
//
// An unwind reads every frame's call frame information, ~8 ns a frame even from libunwind's
// cache: a deep stack costs several times the allocation itself. But a server allocates
// from few places, at few stack depths, with the same callers above them. So the cache
// remembers, per (call site, stack pointer) of the caller, the whole chain it unwound: each
// frame's return address and the stack slot it was read from. A capture then finds the
// caller's call site and stack pointer through memlife's own frame pointers (this library
// is built with them), and checks that every remembered slot still holds its return
// address: one load per frame, no unwinding. Any difference (another caller, another
// depth) unwinds with libunwind and remembers the new chain.
//
// Sound because on x86-64 a frame's return address sits just below its caller's stack
// pointer, which the callee's own stack pointer and code address determine; the exception,
// a frame that allocates on the stack (alloca, VLAs) above an unchanged call site, could
// only be taken for an earlier chain if a stale copy of the same return address sat at the
// same slot. Chains through a signal frame are never remembered.

constexpr std::size_t kCacheEntries = 256; // direct-mapped

struct CachedFrame {
    std::uint64_t ip;   // return address
    std::uint64_t slot; // where it was read from (0: the first frame, known by the key)
};

struct CacheEntry {
    std::uint64_t ip0 = 0, sp0 = 0; // the caller's call site and stack pointer
    std::uint32_t depth = 0;        // what it was captured for
    std::uint32_t frames = 0;       // in chain
    StackId id = 0;
    CachedFrame* chain = nullptr; // `frames` of them (storage owned by ThreadCache)
};

// A line of its own: allocated by the instrumented thread next to whatever else it
// allocated, it must not share a cache line with data another thread writes.
struct alignas(64) ThreadCache {
    std::uint32_t chain_capacity = 0; // frames per entry
    std::unique_ptr<CacheEntry[]> entries;
    std::unique_ptr<CachedFrame[]> chains;
    std::uintptr_t stack_low = 0, stack_high = 0; // this thread's stack
    char padding[64 - 40];
};
static_assert(sizeof(ThreadCache) == 64);
// initial-exec: one TLS load, not a __tls_get_addr call (measured: 9% of a capture).
__attribute__((tls_model("initial-exec"))) thread_local ThreadCache* t_cache = nullptr;

// Most frames an unwind looks at: `depth` kept plus skipped ones of other modules.
constexpr std::uint32_t kMaxSkipped = 8;
constexpr std::uint32_t kMaxChain = kMaxStackDepth + kMaxSkipped;

// Frees a thread's cache when the thread ends (a server that starts a thread per
// connection would otherwise lose ~45 KiB per thread).
void free_thread_cache(void* cache) noexcept {
    delete static_cast<ThreadCache*>(cache);
    t_cache = nullptr;
}

pthread_key_t thread_cache_key() noexcept {
    static const pthread_key_t key = [] {
        pthread_key_t k{};
        return pthread_key_create(&k, free_thread_cache) == 0 ? k : pthread_key_t(-1);
    }();
    return key;
}

ThreadCache* thread_cache(std::uint32_t chain_frames) noexcept {
    ThreadCache* c = t_cache;
    if (c == nullptr) {
        const pthread_key_t key = thread_cache_key();
        if (key == pthread_key_t(-1)) return nullptr;
        c = new (std::nothrow) ThreadCache;
        if (c == nullptr) return nullptr;
        if (pthread_setspecific(key, c) != 0) {
            delete c;
            return nullptr;
        }
        pthread_attr_t attr;
        void* base = nullptr;
        std::size_t size = 0;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            if (pthread_attr_getstack(&attr, &base, &size) == 0) {
                c->stack_low = reinterpret_cast<std::uintptr_t>(base);
                c->stack_high = c->stack_low + size;
            }
            pthread_attr_destroy(&attr);
        }
        t_cache = c; // one per thread, freed when it ends
    }
    if (c->chain_capacity < chain_frames) { // a deeper capture than before: start over
        c->entries.reset(new (std::nothrow) CacheEntry[kCacheEntries]);
        c->chains.reset(new (std::nothrow) CachedFrame[kCacheEntries * chain_frames]);
        if (!c->entries || !c->chains) {
            c->entries.reset();
            c->chains.reset();
            c->chain_capacity = 0;
            return c;
        }
        c->chain_capacity = chain_frames;
        for (std::size_t i = 0; i < kCacheEntries; ++i)
            c->entries[i].chain = &c->chains[i * chain_frames];
    }
    return c;
}

// The caller's call site and stack pointer, from memlife's own frame pointers: the first
// return address outside this library, and the frame address above it. False when the
// chain does not look like one (a corrupted stack, a build without frame pointers).
bool find_caller(const ThreadCache& c, std::uint64_t& ip0, std::uint64_t& sp0) noexcept {
    auto fp = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    for (int hops = 0; hops < 16; ++hops) {
        if (fp < c.stack_low || fp + 16 > c.stack_high || (fp & 7) != 0) return false;
        const auto* frame = reinterpret_cast<const std::uint64_t*>(fp);
        if (!in_core(frame[1])) {
            ip0 = frame[1];
            sp0 = fp + 16;
            return true;
        }
        if (frame[0] <= fp) return false; // frames go up the stack
        fp = frame[0];
    }
    return false;
}

bool still_valid(const CacheEntry& e, std::uint64_t ip0, std::uint64_t sp0, std::uint32_t depth,
                 const ThreadCache& c) noexcept {
    if (e.ip0 != ip0 || e.sp0 != sp0 || e.depth != depth || e.id == 0) return false;
    for (std::uint32_t j = 1; j < e.frames; ++j) {
        const std::uint64_t slot = e.chain[j].slot;
        if (slot < sp0 || slot + 8 > c.stack_high) return false;
        if (*reinterpret_cast<const std::uint64_t*>(slot) != e.chain[j].ip) return false;
    }
    return true;
}

// The full unwind (libunwind): from the caller's frame on, each frame's return address and
// its slot; false when a signal frame is on the way (such a chain is not remembered).
std::uint32_t unwind(std::uint64_t ip0, std::uint64_t sp0, std::uint32_t max, CachedFrame* out,
                     bool& cacheable) noexcept {
    cacheable = ip0 != 0;
    unw_context_t context;
    unw_cursor_t cursor;
    if (unw_getcontext(&context) != 0 || unw_init_local(&cursor, &context) != 0) return 0;
    std::uint32_t n = 0;
    bool started = false;
    for (int guard = 0; guard < 256 && n < max; ++guard) {
        unw_word_t ip = 0, sp = 0;
        unw_get_reg(&cursor, UNW_REG_IP, &ip);
        unw_get_reg(&cursor, UNW_REG_SP, &sp);
        if (!started) {
            // memlife's frames first (this function's too): up to the caller's.
            started = !in_core(ip);
            if (started && ip0 != 0 && (ip != ip0 || sp != sp0)) cacheable = false;
        }
        if (started) {
            if (unw_is_signal_frame(&cursor) > 0) cacheable = false;
            out[n] = {ip, n == 0 ? 0 : sp - 8};
            if (++n == max) break; // no step past the last frame kept
        }
        if (unw_step(&cursor) <= 0) break;
    }
    return n;
}

} // namespace

void skip_frames_of_module(const void* address_in_module) noexcept {
    init_once();
    add_module_ranges(reinterpret_cast<std::uintptr_t>(address_in_module));
}

StackId capture_stack(std::uint32_t depth) noexcept {
    init_once();
    depth = std::min(std::max<std::uint32_t>(depth, 1), kMaxStackDepth);
    const std::uint32_t max_frames = depth + kMaxSkipped;
    ThreadCache* c = thread_cache(max_frames);
    if (c == nullptr) return 0;
    std::uint64_t ip0 = 0, sp0 = 0;
    CacheEntry* entry = nullptr;
    if (c->chain_capacity >= max_frames && find_caller(*c, ip0, sp0)) {
        const std::uint64_t h = (ip0 * 0x9E3779B97F4A7C15ull) ^ (sp0 >> 4);
        entry = &c->entries[(h ^ (h >> 29)) % kCacheEntries];
        if (still_valid(*entry, ip0, sp0, depth, *c)) return entry->id;
    }
    CachedFrame local[kMaxChain];
    CachedFrame* chain = entry != nullptr ? entry->chain : local;
    bool cacheable = false;
    std::uint32_t n = 0;
    {
        WalkingLoader walking;
        n = unwind(ip0, sp0, max_frames, chain, cacheable);
    }
    // The frames of other modules to skip (a wrapper library) come first; then `depth`.
    std::uint32_t first = 0;
    while (first < n && skipped(chain[first].ip))
        ++first;
    const std::uint32_t kept = std::min(depth, n - first);
    std::uint64_t addresses[kMaxStackDepth];
    for (std::uint32_t i = 0; i < kept; ++i)
        addresses[i] = chain[first + i].ip;
    const StackId id = kept != 0 ? tree().insert(addresses, kept) : 0;
    if (entry != nullptr) {
        *entry = CacheEntry{ip0,         sp0, depth, std::min(n, first + kept), cacheable ? id : 0,
                            entry->chain};
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
