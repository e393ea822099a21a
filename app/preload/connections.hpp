// Connections (sessions), the descriptor table that finds them, and what the hooks do:
// accept opens a session, the first read after a write begins a request, close starts the
// close window, allocations belong to the thread's current connection. See docs/record.md.
#pragma once

#include <cstddef>
#include <cstdint>

#include "address_map.hpp"
#include "memlife/event.hpp"
#include "preload.hpp"
#include "wire.hpp"

namespace memlife::preload {

inline constexpr std::uint32_t kPendingEvents = 32;
// Allocations and releases read the clock every 16th time per connection and otherwise
// carry the connection's latest reading, as the core allocator does (a reading costs about
// as much as the rest of the hook; docs/trace-format.md).
inline constexpr std::uint32_t kClockInterval = 16;

struct Connection {
    enum class State : std::uint8_t {
        Free,      // in the pool
        Open,      // accepted, not closed
        Closing,   // closed; frees of its blocks count as released at close
        Finishing, // its close window is ending (outlived blocks being reported)
    };
    enum class Turn : std::uint8_t { Accepted, Read, Wrote };

    // Back to the pool's state, keeping the lock (held by the caller) and bumping the
    // generation, so that entries and threads still pointing here see it is another one.
    void recycle() noexcept;

    SpinLock lock;
    std::uint32_t generation = 1; // bumped when it returns to the pool
    State state = State::Free;
    Turn turn = Turn::Accepted;
    bool shut = false; // shutdown(): no new requests (lingering-close reads)
    bool in_request = false;
    bool peer_sent = false;
    std::uint8_t peer_size = 0;
    int fd = -1;
    std::uint64_t session = 0; // 0: inherited through fork, opened at its first use
    std::uint32_t request = 0; // requests so far (the current one while in_request)
    std::uint32_t next_block = 0;
    std::uint64_t live_blocks = 0;
    std::uint64_t close_ns = 0;
    std::uint64_t released_bytes = 0, released_blocks = 0; // during the close window
    std::uint32_t pending = 0;                             // events not yet handed to the stream
    std::uint32_t clock_count = 0;
    std::uint64_t last_ns = 0; // the latest clock reading of its events
    char peer[wire::kMaxPeer] = {};
    Event events[kPendingEvents];
    StackId stacks[kPendingEvents]; // of the pending events (an Alloc's), when stacks are on
};

// Descriptor -> connection, for descriptors below 2^20: pages of 4096 atomic pointers,
// allocated on first use. A read or write on a descriptor that is not a connection costs
// two loads.
class FdTable {
public:
    Connection* get(int fd) const noexcept {
        if (static_cast<unsigned>(fd) >= kLimit) return nullptr;
        const auto* page = pages_[fd >> kPageBits].load(std::memory_order_acquire);
        return page == nullptr ? nullptr : page[fd & kPageMask].load(std::memory_order_acquire);
    }
    bool set(int fd, Connection* c) noexcept;
    Connection* take(int fd) noexcept;
    // Calls fn(fd) for every connection descriptor in [first, last].
    template <class F> void for_each_in(unsigned first, unsigned last, F fn) const noexcept {
        for (unsigned p = first >> kPageBits; p < kPages && p <= (last >> kPageBits); ++p)
            if (const auto* page = pages_[p].load(std::memory_order_acquire))
                for (unsigned i = 0; i <= kPageMask; ++i) {
                    const unsigned fd = (p << kPageBits) | i;
                    if (fd >= first && fd <= last &&
                        page[i].load(std::memory_order_relaxed) != nullptr)
                        fn(static_cast<int>(fd));
                }
    }
    void lock() noexcept { pthread_mutex_lock(&mutex_); }
    void unlock() noexcept { pthread_mutex_unlock(&mutex_); }
    // In a forked child: every connection gets a fresh object from make(fd).
    template <class F> void replace_all(F make) noexcept {
        pthread_mutex_init(&mutex_, nullptr);
        for (unsigned p = 0; p < kPages; ++p)
            if (auto* page = pages_[p].load(std::memory_order_relaxed))
                for (unsigned i = 0; i <= kPageMask; ++i)
                    if (page[i].load(std::memory_order_relaxed) != nullptr)
                        page[i].store(make(static_cast<int>((p << kPageBits) | i)),
                                      std::memory_order_relaxed);
    }

private:
    static constexpr unsigned kPageBits = 12, kPages = 256, kPageMask = (1u << kPageBits) - 1;
    static constexpr unsigned kLimit = unsigned{kPages} << kPageBits;
    std::atomic<std::atomic<Connection*>*> pages_[kPages] = {};
    pthread_mutex_t mutex_ = PTHREAD_MUTEX_INITIALIZER;
};

extern FdTable g_fds;
extern AddressMap g_blocks;
extern std::atomic<bool> g_accepted; // any connection so far: frees need a lookup

// ---- what the hooks call (with a Guard and KeepErrno held) ----------------------------
void on_accept(int fd) noexcept;
void on_io(Connection* c, bool is_read, bool transferred) noexcept;
void on_close(int fd) noexcept;
// close_range / closefrom: the connections in [first, last] are closed.
void on_close_range(unsigned first, unsigned last) noexcept;
void on_shutdown(Connection* c) noexcept;
// `stack`: the allocation's (capture_allocation_stack), 0 for none.
void on_alloc(void* p, std::size_t size, StackId stack) noexcept;
// The block at `p` is being freed; false when no connection owned it.
bool on_free(void* p) noexcept;
// realloc: the entry is taken out before the real call (so that the address, once freed,
// cannot be given to another thread and recorded before this one is done) and put back if
// the call fails.
bool take_block(void* p, BlockEntry& entry) noexcept;
void put_back(const BlockEntry& entry) noexcept;
void release_block(const BlockEntry& entry) noexcept;

// An allocation while no connection is current: counted for the process, shown apart.
// Per thread, folded into the process totals every 256 and when the thread exits.
void fold_process_counts() noexcept;
inline void count_process(std::size_t size) noexcept {
    tls.process_bytes += size;
    if (++tls.process_allocs >= 256 || !tls.exit_hook) fold_process_counts();
}

// Ends the calling thread's close window (the thread exits, or serves another connection).
void end_close_window() noexcept;
// Process exit or exec: ends every close window, hands over every pending event and the
// process counters, writes the stream out. `exiting`: the stream is closed afterwards.
void finish_process(bool exiting) noexcept;
// The sender's periodic pass: hands over events that wait in idle connections and ends
// close windows older than one second.
void sweep_connections() noexcept;

void prepare_fork() noexcept;
void parent_after_fork() noexcept;
void child_after_fork() noexcept;
void init_connections() noexcept;

} // namespace memlife::preload
