// The session-scoped allocator (C++ API). The C API in memlife.h is a thin layer over it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "memlife/event.hpp"
#include "memlife/memlife.h"
#include "memlife/notification.hpp"
#include "memlife/stacks.hpp"

namespace memlife {

inline constexpr std::uint32_t kMinTailBytes = 4;
inline constexpr std::uint32_t kMaxTailBytes = ML_TAIL_MAX;
inline constexpr std::uint32_t kDefaultTailBytes = 16;
inline constexpr std::uint32_t kDefaultClockInterval = 16;
inline constexpr std::uint32_t kMaxClockInterval = 65536;

struct Config {
    std::uint32_t tail_bytes = kDefaultTailBytes; // signature bytes after every block, 4..64
    bool guard_pages = false;                     // pageheap mode for every block
    // Guard-page mode places the block so that its end abuts the inaccessible page, like
    // pageheap's unaligned mode: the very first byte past the end faults. A larger value
    // (a power of two up to alignof(max_align_t)) keeps that alignment instead; the slack
    // between the end and the guard page then holds signature bytes checked at release.
    std::uint32_t guard_align = 1;
    std::uint64_t session_limit = 0; // bytes (requested + tails) per session; 0 = none
    // How often an Alloc or Release event reads the clock: every `clock_interval`-th one of
    // its session; the others carry the session's latest reading. Every other event (open,
    // close, request begin/end, notification, corruption, leak) always reads it. 1 = every
    // event. A reading costs ~10 ns here (rdtsc on AMD), as much as an alloc_mem itself;
    // heaptrack, for the same reason, stamps allocations from a 10 ms timer.
    std::uint32_t clock_interval = kDefaultClockInterval; // 1..65536
    // Call stacks (memlife/stacks.hpp): every alloc_mem, alloc_request and note_alloc
    // records the caller's stack, at most this many frames; 0 = off (1..64). An unwind costs
    // ~8 ns a frame here: an allocation with stacks costs several times one without, and a
    // session without them pays nothing (its allocations never look at this).
    std::uint32_t stack_depth = 0;
};

// Sets the report's alloc_stack_id and alloc_backtrace from stack `stack` (0: none).
// Async-signal-safe.
MEMLIFE_API void set_alloc_stack(ml_report& report, StackId stack) noexcept;

// Validates a Config; returns ML_OK or ML_ERR_BAD_CONFIG.
MEMLIFE_API int validate(const Config& config) noexcept;

// Sets what ml_last_error() returns on this thread, for C APIs built on this library (the
// recording API, memlife/trace.h).
MEMLIFE_API void set_last_error(int code) noexcept;

// The tail signature: byte i of the tail of block `block` in session `session`. The
// pattern is derived from both ids, so a tail copied from another block does not match,
// and it never contains a zero byte, so an overrun by a string terminator is caught.
MEMLIFE_API void tail_pattern(std::uint64_t session, std::uint64_t block, std::uint8_t* out,
                              std::uint32_t length) noexcept;

class Session;
class Runtime;

// Owns configuration, the event sink, the report handler and the sessions. Sessions are
// pooled: a closed session's object is reused, and its C handle is invalidated by a
// generation count, so a stale handle is reported instead of touching freed memory.
class MEMLIFE_API Runtime {
public:
    explicit Runtime(Config config = {}, EventSink* sink = nullptr);
    ~Runtime(); // closes sessions that are still open
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    // The runtime behind the C API (never destroyed).
    static Runtime& global();

    Config config() const;
    int set_config(const Config& config); // applies to sessions opened afterwards
    void set_sink(EventSink* sink);       // applies to sessions opened afterwards
    EventSink* sink() const { return sink_.load(std::memory_order_acquire); }
    void set_report_handler(ml_report_fn fn, void* user);

    // Returns nullptr and sets the last error on failure.
    Session* open(std::string_view peer);
    // With a caller-chosen id (replays and simulations that must be reproducible across
    // threads): the caller guarantees it is unique and non-zero among this runtime's
    // sessions; automatic ids continue above the largest id given.
    Session* open(std::string_view peer, std::uint64_t id);
    void close(Session* session);
    std::size_t open_sessions() const;

    // C handle <-> session. lookup() sets the last error (invalid / closed) on failure.
    ml_session* handle(const Session* session) const;
    Session* lookup(const ml_session* handle) const;

    // Internal: deliver a report to the handler and the session's sink.
    void deliver(const ml_report& report, EventSink* sink) const noexcept;

private:
    struct Slots;
    std::unique_ptr<Slots> slots_;
    std::atomic<EventSink*> sink_;
    std::atomic<ml_report_fn> report_fn_{nullptr};
    std::atomic<void*> report_user_{nullptr};
    std::atomic<std::uint64_t> next_session_id_{1};
};

// One client connection (the analog of HTTP_FILTER_CONTEXT). One thread at a time.
class MEMLIFE_API Session {
public:
    std::uint64_t id() const { return id_; }
    const std::string& peer() const { return peer_; }
    std::uint64_t open_ns() const { return open_ns_; }
    std::uint64_t close_ns() const { return close_ns_; }
    bool is_open() const { return open_; }
    // The number of the request running now (1-based), 0 between requests.
    std::uint32_t current_request() const { return current_request_; }
    std::uint32_t requests_begun() const { return requests_begun_; }
    bool in_request() const { return in_request_; }
    const Config& config() const { return config_; }

    int request_begin();
    int request_end();

    // The filter host tells the allocator which notification runs; emits a Notification
    // event (flags carry the filter status, if known).
    void set_notification(Notification notification, std::uint8_t status = 0);
    Notification notification() const { return notification_; }

    void* alloc_mem(std::uint32_t size, std::uint32_t reserved = 0);
    void* alloc_request(std::uint32_t size);
    std::size_t check(); // returns corruptions found so far

    int note_alloc(const void* ptr, std::size_t size, Scope scope);
    int note_free(const void* ptr);

    int set_limit(std::uint64_t max_bytes);
    int set_guard_pages(bool enabled);

    std::uint64_t live_bytes() const { return live_bytes_; }
    std::uint64_t peak_bytes() const {
        return live_bytes_ > peak_bytes_ ? live_bytes_ : peak_bytes_;
    }
    std::uint64_t live_blocks() const;
    std::size_t corruptions() const { return corruptions_; }
    std::size_t leaks() const { return leaks_; }
    // Noted blocks request_end() has looked at so far (each request end looks only at the
    // request-scoped blocks noted during that request, not at every noted block: a
    // keep-alive session noting memory would otherwise cost quadratic time). For tests.
    std::uint64_t noted_blocks_visited() const { return noted_visited_; }

    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    struct Block { // internal, public for the guard-page fault handler
        std::uint8_t* data = nullptr;
        std::uint64_t id = 0;      // unique within the session
        std::uint32_t size = 0;    // requested bytes
        std::uint32_t request = 0; // request number at allocation (0 = none)
        StackId stack = 0;         // the allocating stack (0 = none recorded)
        Notification notification = Notification::None;
        Scope scope = Scope::Session;
        AllocOrigin origin = AllocOrigin::AllocMem;
        std::uint8_t tail_len : 7 = 0; // signature bytes after data + size (at most 64)
        std::uint8_t reported : 1 = 0; // corruption or leak already reported
    };

    // Memory from another allocator, noted by ml_note_alloc.
    struct NotedBlock {
        std::uint64_t size = 0;
        std::uint64_t id = 0;
        std::uint32_t request = 0;
        Notification notification = Notification::None;
        Scope scope = Scope::Session;
        bool reported = false; // leak already reported
        StackId stack = 0;     // the allocating stack (0 = none recorded)
    };

    // Called by the guard-page fault handler: emits the Corruption event, delivers the
    // report and flushes the sink. Async-signal context: no allocation.
    void guard_fault(const ml_report& report) noexcept;

private:
    friend class Runtime;
    explicit Session(Runtime& runtime);
    void reset(std::uint64_t id, std::string_view peer, const Config& config, EventSink* sink);
    void close();

    // Bump-pointer memory for one scope; chunks come from a per-thread cache.
    struct Arena {
        std::vector<std::uint8_t*> chunks;
        std::vector<std::uint8_t*> large; // dedicated allocations for big blocks
        std::uint8_t* cursor = nullptr;
        std::uint8_t* end = nullptr;
        std::uint8_t* refill(std::size_t bytes); // slow path of allocate; nullptr on failure
        void release_all();
    };

    // A growable array of trivially copyable blocks (the hot path appends here; a
    // std::vector's push_back costs measurably more in this loop).
    class BlockList {
    public:
        BlockList() = default;
        BlockList(const BlockList&) = delete;
        BlockList& operator=(const BlockList&) = delete;
        ~BlockList();
        bool push(const Block& block) noexcept;
        Block* begin() const { return items_; }
        Block* end() const { return items_ + size_; }
        std::size_t size() const { return size_; }
        void clear() { size_ = 0; }

    private:
        bool grow() noexcept;
        Block* items_ = nullptr;
        std::size_t size_ = 0;
        std::size_t capacity_ = 0;
    };

    void* allocate(std::uint32_t size, std::uint32_t reserved, Scope scope);
    void* allocate_guarded(std::uint32_t size, Scope scope, StackId stack);
    void* allocate_slow(std::uint32_t size, std::uint32_t reserved, Scope scope);
    template <bool kWithStack> void* arena_allocate(std::uint32_t size, Scope scope, StackId stack);
    // The Alloc event of a block with its stack (sessions with stacks only).
    void emit_alloc(std::uint64_t block, std::uint64_t address, std::uint64_t size, Scope scope,
                    AllocOrigin origin, StackId stack) noexcept;
    void report_corruption(Block& block);
    void release_blocks(BlockList& blocks);
    void report_leak(NotedBlock& block, std::uint64_t address);
    void update_fast_path() noexcept;
    // Live bytes only rise between releases, so the peak is the value just before one.
    void note_peak() noexcept {
        if (live_bytes_ > peak_bytes_) peak_bytes_ = live_bytes_;
    }
    void emit(EventKind kind, std::uint64_t block, std::uint64_t address, std::uint64_t size,
              Scope scope, std::uint8_t flags) noexcept;
    std::uint64_t event_time(EventKind kind) noexcept;
    // Hands the gathered events to a sink that takes batches (EventSink::accepts_batches).
    void deliver_pending() noexcept {
        if (pending_count_ == 0) return;
        if (pending_stacks_ != nullptr) [[unlikely]]
            deliver_pending_with_stacks();
        else
            sink_->on_events(pending_, pending_count_);
        pending_count_ = 0;
    }
    void deliver_pending_with_stacks() noexcept;

    Runtime& runtime_;
    EventSink* sink_ = nullptr;
    Event* pending_ = nullptr; // kSessionBatch events, when the sink takes batches
    std::uint32_t pending_count_ = 0;
    std::unique_ptr<Event[]> pending_storage_;
    // With stacks: the stack of each pending Alloc event, at the same index.
    StackId* pending_stacks_ = nullptr;
    std::unique_ptr<StackId[]> pending_stacks_storage_;
    Config config_;
    std::uint64_t id_ = 0;
    std::uint64_t tail_salt_ = 0;
    std::string peer_;
    std::uint64_t open_ns_ = 0;
    std::uint64_t close_ns_ = 0;
    std::uint64_t clock_ns_ = 0;        // the latest clock reading (Config::clock_interval)
    std::uint32_t clock_countdown_ = 0; // Alloc/Release events until the next reading
    std::uint32_t requests_begun_ = 0;
    std::uint32_t current_request_ = 0; // requests_begun_ while one is active, else 0
    bool in_request_ = false;
    // The hot path's whole validity test is `size - 1 < size_cap_` and a limit compare:
    // size_cap_ is 0 when the session is closed or in guard-page mode (slow path).
    std::uint64_t size_cap_ = 0;
    std::uint64_t limit_ = UINT64_MAX;
    bool open_ = false;
    Notification notification_ = Notification::None;
    std::uint64_t next_block_ = 1;
    std::uint64_t used_bytes_ = 0; // counted against the limit: requested + tails
    std::uint64_t live_bytes_ = 0; // requested bytes of live blocks, all origins
    std::uint64_t peak_bytes_ = 0;
    std::size_t corruptions_ = 0;
    std::size_t leaks_ = 0;

    Arena session_arena_;
    Arena request_arena_;
    BlockList session_blocks_;
    BlockList request_blocks_;
    std::unordered_map<const void*, NotedBlock> noted_;
    // Request-scoped blocks noted during the current request: the only ones request_end()
    // must look at (the others were reported or freed at an earlier request's end).
    std::vector<const void*> noted_this_request_;
    std::uint64_t noted_visited_ = 0;

    std::uint32_t generation_ = 1; // guarded by the runtime's slot table
    std::uint32_t slot_ = 0;
};

} // namespace memlife
