#include "memlife/session.hpp"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include "guard.hpp"
#include "last_error.hpp"
#include "tail.hpp"

namespace memlife {

using detail::fail;
using detail::fail_null;

namespace {

// Session::emit writes the last 8 bytes of an Event in one store (little-endian layout).
static_assert(offsetof(Event, request) == 40 && offsetof(Event, kind) == 44 &&
              offsetof(Event, scope) == 45 && offsetof(Event, notification) == 46 &&
              offsetof(Event, flags) == 47 && sizeof(Event) == 48);
static_assert(std::endian::native == std::endian::little);
// The block list is appended to on the hot path: keep an entry at 32 bytes.
static_assert(sizeof(Session::Block) == 32);

constexpr std::size_t kAlign = alignof(std::max_align_t);
constexpr std::size_t kChunkSize = 64 * 1024;
constexpr std::size_t kLargeThreshold = kChunkSize / 4; // bigger blocks get their own memory
constexpr std::size_t kThreadCacheChunks = 64;          // 4 MiB per thread

// Chunks are recycled: a keep-alive server opens and closes sessions all the time, and
// handing a session's chunks back to malloc at every close makes the next session fault
// its pages in again (measured: 7-10x the cost of the allocations themselves). Each thread
// keeps a small cache; overflow goes to a process-wide pool (one lock per batch of
// chunks), which is bounded so an idle server keeps at most kPoolChunks * 64 KiB.
constexpr std::size_t kPoolChunks = 1024; // 64 MiB
constexpr std::size_t kBatch = kThreadCacheChunks / 2;

struct ChunkPool {
    std::mutex mutex;
    std::vector<std::uint8_t*> chunks;
};
ChunkPool& chunk_pool() {
    static ChunkPool* pool = new ChunkPool; // never destroyed: threads may exit after main
    return *pool;
}

struct ChunkCache {
    std::uint8_t* chunks[kThreadCacheChunks];
    std::size_t count = 0;
    ~ChunkCache() {
        spill(count);
        while (count > 0)
            std::free(chunks[--count]);
    }
    std::uint8_t* take() noexcept {
        if (count == 0) refill();
        if (count > 0) return chunks[--count];
        return static_cast<std::uint8_t*>(std::aligned_alloc(kAlign, kChunkSize));
    }
    void give(std::uint8_t* chunk) noexcept {
        if (count == kThreadCacheChunks) spill(kBatch);
        if (count < kThreadCacheChunks)
            chunks[count++] = chunk;
        else
            std::free(chunk);
    }
    void refill() noexcept {
        ChunkPool& pool = chunk_pool();
        std::lock_guard lock(pool.mutex);
        while (count < kBatch && !pool.chunks.empty()) {
            chunks[count++] = pool.chunks.back();
            pool.chunks.pop_back();
        }
    }
    void spill(std::size_t n) noexcept {
        ChunkPool& pool = chunk_pool();
        std::lock_guard lock(pool.mutex);
        try {
            while (n > 0 && count > 0 && pool.chunks.size() < kPoolChunks) {
                pool.chunks.push_back(chunks[--count]);
                --n;
            }
        } catch (const std::bad_alloc&) {
        }
        while (n > 0 && count > 0)
            std::free(chunks[--count]), --n;
    }
};
thread_local ChunkCache t_chunks;

} // namespace

void set_alloc_stack(ml_report& report, StackId stack) noexcept {
    report.alloc_stack_id = stack;
    std::uint64_t addresses[ML_STACK_DEPTH_MAX];
    const std::size_t n = stack_addresses(stack, addresses, ML_STACK_DEPTH_MAX);
    report.alloc_backtrace_len = static_cast<int>(n);
    for (std::size_t i = 0; i < n; ++i)
        report.alloc_backtrace[i] = reinterpret_cast<void*>(addresses[i]);
}

void tail_pattern(std::uint64_t session, std::uint64_t block, std::uint8_t* out,
                  std::uint32_t length) noexcept {
    detail::fill_tail(detail::tail_seed(detail::tail_salt(session), block), out, length);
}

int validate(const Config& c) noexcept {
    if (c.tail_bytes < kMinTailBytes || c.tail_bytes > kMaxTailBytes) return ML_ERR_BAD_CONFIG;
    if (c.guard_align == 0 || c.guard_align > kAlign || (c.guard_align & (c.guard_align - 1)) != 0)
        return ML_ERR_BAD_CONFIG;
    if (c.clock_interval == 0 || c.clock_interval > kMaxClockInterval) return ML_ERR_BAD_CONFIG;
    if (c.stack_depth > kMaxStackDepth) return ML_ERR_BAD_CONFIG;
    return ML_OK;
}

// ---- arena and block list ------------------------------------------------------------

std::uint8_t* Session::Arena::refill(std::size_t bytes) {
    if (bytes > kLargeThreshold) {
        auto* p = static_cast<std::uint8_t*>(std::aligned_alloc(kAlign, bytes));
        if (p == nullptr) return nullptr;
        try {
            large.push_back(p);
        } catch (const std::bad_alloc&) {
            std::free(p);
            return nullptr;
        }
        return p;
    }
    std::uint8_t* chunk = t_chunks.take();
    if (chunk == nullptr) return nullptr;
    try {
        chunks.push_back(chunk);
    } catch (const std::bad_alloc&) {
        t_chunks.give(chunk);
        return nullptr;
    }
    cursor = chunk + bytes;
    end = chunk + kChunkSize;
    return chunk;
}

void Session::Arena::release_all() {
    for (auto* c : chunks)
        t_chunks.give(c);
    for (auto* p : large)
        std::free(p);
    chunks.clear();
    large.clear();
    cursor = end = nullptr;
}

Session::BlockList::~BlockList() {
    std::free(items_);
}

bool Session::BlockList::grow() noexcept {
    const std::size_t capacity = capacity_ == 0 ? 256 : capacity_ * 2;
    auto* items = static_cast<Block*>(std::realloc(items_, capacity * sizeof(Block)));
    if (items == nullptr) return false;
    items_ = items;
    capacity_ = capacity;
    return true;
}

inline bool Session::BlockList::push(const Block& block) noexcept {
    if (size_ == capacity_ && !grow()) [[unlikely]]
        return false;
    items_[size_++] = block;
    return true;
}

// ---- session ---------------------------------------------------------------------------

Session::Session(Runtime& runtime) : runtime_(runtime) {}

Session::~Session() {
    if (open_) close();
}

void Session::reset(std::uint64_t id, std::string_view peer, const Config& config,
                    EventSink* sink) {
    id_ = id;
    tail_salt_ = detail::tail_salt(id);
    peer_.assign(peer);
    config_ = config;
    sink_ = sink;
    open_ns_ = clock_ns_ = now_ns();
    clock_countdown_ = 0;
    close_ns_ = 0;
    requests_begun_ = current_request_ = 0;
    in_request_ = false;
    open_ = true;
    notification_ = Notification::None;
    next_block_ = 1;
    used_bytes_ = live_bytes_ = peak_bytes_ = 0;
    corruptions_ = leaks_ = 0;
    update_fast_path();
    noted_this_request_.clear();
    noted_visited_ = 0;
    pending_ = nullptr;
    pending_stacks_ = nullptr;
    pending_count_ = 0;
    if (sink_ != nullptr && sink_->accepts_batches()) {
        if (!pending_storage_) pending_storage_ = std::make_unique<Event[]>(kSessionBatch);
        pending_ = pending_storage_.get();
        if (config_.stack_depth != 0) {
            if (!pending_stacks_storage_)
                pending_stacks_storage_ = std::make_unique<StackId[]>(kSessionBatch);
            pending_stacks_ = pending_stacks_storage_.get();
        }
    }
    if (sink_ != nullptr) {
        Event e;
        e.time_ns = open_ns_;
        e.session = id_;
        e.kind = EventKind::SessionOpen;
        sink_->on_session_open(e, peer_);
    }
}

void Session::update_fast_path() noexcept {
    // Guard pages and stacks take the slow path (allocate_slow): the fast one never looks
    // at either, so a session without them pays nothing for their existence.
    size_cap_ = open_ && !config_.guard_pages && config_.stack_depth == 0
                    ? UINT32_MAX - config_.tail_bytes
                    : 0;
    limit_ = config_.session_limit != 0 ? config_.session_limit : UINT64_MAX;
}

void Session::emit(EventKind kind, std::uint64_t block, std::uint64_t address, std::uint64_t size,
                   Scope scope, std::uint8_t flags) noexcept {
    // The last 8 bytes (request, kind, scope, notification, flags) in one store: a sink that
    // copies the event in words (the recorder) then reads them back from the store buffer
    // instead of stalling on five narrow stores (measured ~20 ns per event).
    const std::uint64_t tail =
        std::uint64_t{current_request()} | std::uint64_t{static_cast<std::uint8_t>(kind)} << 32 |
        std::uint64_t{static_cast<std::uint8_t>(scope)} << 40 |
        std::uint64_t{static_cast<std::uint8_t>(notification_)} << 48 | std::uint64_t{flags} << 56;
    auto fill = [&](Event& e) {
        e.time_ns = event_time(kind);
        e.session = id_;
        e.block = block;
        e.address = address;
        e.size = size;
        std::memcpy(reinterpret_cast<unsigned char*>(&e) + offsetof(Event, request), &tail,
                    sizeof tail);
    };
    if (pending_ != nullptr) [[likely]] { // written in place: no call, no copy
        fill(pending_[pending_count_]);
        if (++pending_count_ == kSessionBatch) deliver_pending();
        return;
    }
    Event e;
    fill(e);
    sink_->on_event(e);
}

void Session::emit_alloc(std::uint64_t block, std::uint64_t address, std::uint64_t size,
                         Scope scope, AllocOrigin origin, StackId stack) noexcept {
    const auto flags = static_cast<std::uint8_t>(origin);
    if (pending_ != nullptr) {
        if (pending_stacks_ != nullptr) pending_stacks_[pending_count_] = stack;
        emit(EventKind::Alloc, block, address, size, scope, flags);
        return;
    }
    Event e;
    e.time_ns = event_time(EventKind::Alloc);
    e.session = id_;
    e.block = block;
    e.address = address;
    e.size = size;
    e.request = current_request();
    e.kind = EventKind::Alloc;
    e.scope = scope;
    e.notification = notification_;
    e.flags = flags;
    if (config_.stack_depth != 0)
        sink_->on_stacked_event(e, stack);
    else
        sink_->on_event(e);
}

void Session::deliver_pending_with_stacks() noexcept {
    // Only Alloc events set their slot; the others read 0 (EventSink's contract).
    for (std::uint32_t i = 0; i < pending_count_; ++i)
        if (pending_[i].kind != EventKind::Alloc) pending_stacks_[i] = 0;
    sink_->on_stacked_events(pending_, pending_stacks_, pending_count_);
}

std::uint64_t Session::event_time(EventKind kind) noexcept {
    if ((kind == EventKind::Alloc || kind == EventKind::Release) && clock_countdown_ != 0) {
        --clock_countdown_;
        return clock_ns_;
    }
    clock_countdown_ = config_.clock_interval - 1;
    const std::uint64_t now = now_ns();
    if (now > clock_ns_) clock_ns_ = now; // never behind an earlier event of the session
    return clock_ns_;
}

int Session::request_begin() {
    if (!open_) return fail(ML_ERR_SESSION_CLOSED);
    if (in_request_) return fail(ML_ERR_REQUEST_ACTIVE);
    current_request_ = ++requests_begun_;
    in_request_ = true;
    if (sink_ != nullptr) emit(EventKind::RequestBegin, 0, 0, 0, Scope::Request, 0);
    return ML_OK;
}

int Session::request_end() {
    if (!open_) return fail(ML_ERR_SESSION_CLOSED);
    if (!in_request_) return fail(ML_ERR_NO_REQUEST);

    // Noted request-scoped blocks still live now are leaks: they stay in the accounting
    // (the memory is still allocated) until noted free or the end of the session. Only
    // this request's can be new ones.
    for (const void* ptr : noted_this_request_) {
        ++noted_visited_;
        const auto it = noted_.find(ptr);
        if (it == noted_.end()) continue; // freed (the pointer may even be noted again)
        NotedBlock& block = it->second;
        if (block.scope == Scope::Request && !block.reported) {
            block.reported = true;
            report_leak(block, reinterpret_cast<std::uint64_t>(ptr));
        }
    }
    noted_this_request_.clear();
    const std::uint64_t released_blocks = request_blocks_.size();
    const std::uint64_t before = live_bytes_;
    release_blocks(request_blocks_);
    request_arena_.release_all();
    if (sink_ != nullptr) {
        emit(EventKind::RequestEnd, released_blocks, 0, before - live_bytes_, Scope::Request, 0);
        deliver_pending(); // a keep-alive connection may now sit idle for a long time
    }
    in_request_ = false;
    current_request_ = 0;
    return ML_OK;
}

void Session::set_notification(Notification notification, std::uint8_t status) {
    notification_ = notification;
    if (sink_ != nullptr && open_) emit(EventKind::Notification, 0, 0, 0, Scope::Session, status);
}

// The hot path: two compares, a bump, an append and the tail signature. Inlined into its
// two callers: the call and its register saves were a measurable share of the cost.
[[gnu::always_inline]] inline void* Session::allocate(std::uint32_t size, std::uint32_t reserved,
                                                      Scope scope) {
    const std::uint64_t total = std::uint64_t{size} + config_.tail_bytes;
    if (std::uint64_t{size} - 1 >= size_cap_ || reserved != 0 || used_bytes_ + total > limit_)
        [[unlikely]]
        return allocate_slow(size, reserved, scope);
    return arena_allocate<false>(size, scope, 0);
}

// The arena allocation after the checks, shared by the hot path (kWithStack false: no
// trace of stacks in it) and the slow path of sessions with stacks.
template <bool kWithStack>
[[gnu::always_inline]] inline void* Session::arena_allocate(std::uint32_t size, Scope scope,
                                                            StackId stack) {
    const std::uint64_t total = std::uint64_t{size} + config_.tail_bytes;
    const bool session_scope = scope == Scope::Session;
    Arena& arena = session_scope ? session_arena_ : request_arena_;
    const std::size_t bytes = (total + kAlign - 1) & ~(kAlign - 1);
    std::uint8_t* data = arena.cursor;
    if (static_cast<std::size_t>(arena.end - data) >= bytes) [[likely]] {
        arena.cursor = data + bytes;
    } else if ((data = arena.refill(bytes)) == nullptr) {
        return fail_null(ML_ERR_NOT_ENOUGH_MEMORY);
    }

    const std::uint64_t id = next_block_;
    const auto tail_len = static_cast<std::uint8_t>(config_.tail_bytes);
    const AllocOrigin origin = session_scope ? AllocOrigin::AllocMem : AllocOrigin::AllocRequest;
    if (!(session_scope ? session_blocks_ : request_blocks_)
             .push(Block{data, id, size, current_request_, stack, notification_, scope, origin,
                         tail_len, false})) [[unlikely]]
        return fail_null(ML_ERR_NOT_ENOUGH_MEMORY); // the arena space is simply lost
    detail::fill_tail(detail::tail_seed(tail_salt_, id), data + size, tail_len);

    next_block_ = id + 1;
    used_bytes_ += total;
    live_bytes_ += size; // the peak is taken before live bytes drop (note_peak)
    if (sink_ != nullptr) {
        if constexpr (kWithStack)
            emit_alloc(id, reinterpret_cast<std::uint64_t>(data), size, scope, origin, stack);
        else
            emit(EventKind::Alloc, id, reinterpret_cast<std::uint64_t>(data), size, scope,
                 static_cast<std::uint8_t>(origin));
    }
    return data;
}

void* Session::alloc_mem(std::uint32_t size, std::uint32_t reserved) {
    return allocate(size, reserved, Scope::Session);
}

void* Session::alloc_request(std::uint32_t size) {
    if (open_ && !in_request_) return fail_null(ML_ERR_NO_REQUEST);
    return allocate(size, 0, Scope::Request);
}

void* Session::allocate_slow(std::uint32_t size, std::uint32_t reserved, Scope scope) {
    const std::uint64_t total = std::uint64_t{size} + config_.tail_bytes;
    if (!open_) return fail_null(ML_ERR_SESSION_CLOSED);
    if (reserved != 0) return fail_null(ML_ERR_INVALID_PARAMETER);
    if (size == 0) return fail_null(ML_ERR_ZERO_SIZE);
    if (total > UINT32_MAX) return fail_null(ML_ERR_SIZE_OVERFLOW);
    if (used_bytes_ + total > limit_) return fail_null(ML_ERR_LIMIT_EXCEEDED);
    // The valid reasons left for the slow path: stacks, guard pages.
    const StackId stack = config_.stack_depth != 0 ? capture_stack(config_.stack_depth) : 0;
    if (config_.guard_pages) return allocate_guarded(size, scope, stack);
    return arena_allocate<true>(size, scope, stack);
}

void* Session::allocate_guarded(std::uint32_t size, Scope scope, StackId stack) {
    detail::GuardAllocation g;
    if (!detail::guard_allocate(size, config_.guard_align, g))
        return fail_null(ML_ERR_NOT_ENOUGH_MEMORY);
    Block block;
    block.data = g.data;
    block.size = size;
    block.id = next_block_;
    block.request = current_request();
    block.notification = notification_;
    block.scope = scope;
    block.origin = AllocOrigin::Guarded;
    block.stack = stack;
    // The slack between the end and the guard page (alignment) carries the signature.
    const std::size_t a = config_.guard_align;
    block.tail_len = static_cast<std::uint8_t>((size + a - 1) / a * a - size);
    if (!(scope == Scope::Session ? session_blocks_ : request_blocks_).push(block)) {
        detail::guard_release(g.data, size, a);
        return fail_null(ML_ERR_NOT_ENOUGH_MEMORY);
    }
    detail::guard_register(g, this, block);
    detail::fill_tail(detail::tail_seed(tail_salt_, block.id), g.data + size, block.tail_len);
    ++next_block_;
    used_bytes_ += std::uint64_t{size} + config_.tail_bytes;
    live_bytes_ += size;
    if (sink_ != nullptr)
        emit_alloc(block.id, reinterpret_cast<std::uint64_t>(g.data), size, scope,
                   AllocOrigin::Guarded, stack);
    return g.data;
}

void Session::report_corruption(Block& block) {
    block.reported = true;
    ++corruptions_;
    const std::uint64_t seed = detail::tail_seed(tail_salt_, block.id);
    const std::uint8_t* tail = block.data + block.size;
    ml_report r{};
    r.kind = ML_REPORT_CORRUPTION;
    r.session_id = id_;
    r.request = current_request();
    r.alloc_request = block.request;
    r.block_id = block.id;
    r.address = reinterpret_cast<std::uint64_t>(block.data);
    r.size = block.size;
    r.scope = static_cast<int>(block.scope);
    r.alloc_notification = flag(block.notification);
    r.last_notification = flag(notification_);
    r.time_ns = now_ns();
    r.tail_len = block.tail_len;
    detail::fill_tail(seed, r.expected, block.tail_len);
    std::memcpy(r.found, tail, block.tail_len);
    bool first = true;
    for (std::uint32_t i = 0; i < block.tail_len; ++i) {
        if (r.expected[i] == r.found[i]) continue;
        if (first) r.first_offset = i, first = false;
        ++r.modified_count;
    }
    std::snprintf(r.message, sizeof r.message,
                  "Heap block at 0x%" PRIx64 " modified at 0x%" PRIx64
                  " past requested size of %" PRIu64,
                  r.address, r.address + r.size + r.first_offset, r.size);
    set_alloc_stack(r, block.stack);
    if (sink_ != nullptr) {
        emit(EventKind::Corruption, block.id, r.address, block.size, block.scope,
             static_cast<std::uint8_t>(r.first_offset));
        deliver_pending();
    }
    runtime_.deliver(r, sink_);
}

namespace {
// True when the block's tail is intact (or its corruption was already reported).
inline bool tail_ok(const Session::Block& b, std::uint64_t salt) noexcept {
    return b.reported ||
           detail::tail_intact(detail::tail_seed(salt, b.id), b.data + b.size, b.tail_len);
}
} // namespace

void Session::release_blocks(BlockList& blocks) {
    note_peak();
    std::uint64_t bytes = 0;
    for (Block& block : blocks) {
        if (!tail_ok(block, tail_salt_)) [[unlikely]]
            report_corruption(block);
        bytes += block.size;
        if (block.origin == AllocOrigin::Guarded) [[unlikely]]
            detail::guard_release(block.data, block.size, config_.guard_align);
    }
    live_bytes_ -= bytes;
    used_bytes_ -= bytes + std::uint64_t{config_.tail_bytes} * blocks.size();
    blocks.clear();
}

void Session::report_leak(NotedBlock& block, std::uint64_t address) {
    ++leaks_;
    ml_report r{};
    r.kind = ML_REPORT_LEAK;
    r.session_id = id_;
    r.request = current_request();
    r.alloc_request = block.request;
    r.block_id = block.id;
    r.address = address;
    r.size = block.size;
    r.scope = static_cast<int>(block.scope);
    r.alloc_notification = flag(block.notification);
    r.last_notification = flag(notification_);
    r.time_ns = now_ns();
    std::snprintf(r.message, sizeof r.message,
                  "Leak: %" PRIu64 " bytes at 0x%" PRIx64 " allocated in %s of request %" PRIu32
                  " still live at end of %s",
                  block.size, address, std::string(name(block.notification)).c_str(), block.request,
                  block.scope == Scope::Request ? "request" : "session");
    set_alloc_stack(r, block.stack);
    if (sink_ != nullptr) {
        emit(EventKind::Leak, block.id, address, block.size, block.scope,
             static_cast<std::uint8_t>(AllocOrigin::Noted));
        deliver_pending();
    }
    runtime_.deliver(r, sink_);
}

std::size_t Session::check() {
    if (!open_) {
        fail(ML_ERR_SESSION_CLOSED);
        return corruptions_;
    }
    for (Block& b : session_blocks_)
        if (!tail_ok(b, tail_salt_)) report_corruption(b);
    for (Block& b : request_blocks_)
        if (!tail_ok(b, tail_salt_)) report_corruption(b);
    return corruptions_;
}

int Session::note_alloc(const void* ptr, std::size_t size, Scope scope) {
    if (!open_) return fail(ML_ERR_SESSION_CLOSED);
    if (ptr == nullptr || (scope != Scope::Session && scope != Scope::Request))
        return fail(ML_ERR_INVALID_PARAMETER);
    if (scope == Scope::Request && !in_request_) return fail(ML_ERR_NO_REQUEST);
    NotedBlock block;
    block.id = next_block_;
    block.size = size;
    block.request = current_request();
    block.notification = notification_;
    block.scope = scope;
    try {
        const auto [it, added] = noted_.emplace(ptr, block);
        if (!added) return fail(ML_ERR_DUPLICATE_POINTER);
        if (scope == Scope::Request) {
            try {
                noted_this_request_.push_back(ptr);
            } catch (const std::bad_alloc&) {
                noted_.erase(it);
                throw;
            }
        }
        if (config_.stack_depth != 0)
            block.stack = it->second.stack = capture_stack(config_.stack_depth);
    } catch (const std::bad_alloc&) {
        return fail(ML_ERR_NOT_ENOUGH_MEMORY);
    }
    ++next_block_;
    live_bytes_ += size;
    if (sink_ != nullptr)
        emit_alloc(block.id, reinterpret_cast<std::uint64_t>(ptr), size, scope, AllocOrigin::Noted,
                   block.stack);
    return ML_OK;
}

int Session::note_free(const void* ptr) {
    if (!open_) return fail(ML_ERR_SESSION_CLOSED);
    const auto it = noted_.find(ptr);
    if (it == noted_.end()) return fail(ML_ERR_UNKNOWN_POINTER);
    const NotedBlock block = it->second;
    noted_.erase(it);
    note_peak();
    live_bytes_ -= block.size;
    if (sink_ != nullptr)
        emit(EventKind::Release, block.id, reinterpret_cast<std::uint64_t>(ptr), block.size,
             block.scope, static_cast<std::uint8_t>(AllocOrigin::Noted));
    return ML_OK;
}

int Session::set_limit(std::uint64_t max_bytes) {
    if (!open_) return fail(ML_ERR_SESSION_CLOSED);
    config_.session_limit = max_bytes;
    update_fast_path();
    return ML_OK;
}

int Session::set_guard_pages(bool enabled) {
    if (!open_) return fail(ML_ERR_SESSION_CLOSED);
    config_.guard_pages = enabled;
    update_fast_path();
    return ML_OK;
}

std::uint64_t Session::live_blocks() const {
    return session_blocks_.size() + request_blocks_.size() + noted_.size();
}

void Session::close() {
    if (!open_) return;
    if (in_request_) request_end();
    for (auto& [ptr, block] : noted_) {
        if (!block.reported) {
            block.reported = true;
            report_leak(block, reinterpret_cast<std::uint64_t>(ptr));
        }
    }
    const std::uint64_t released_blocks = session_blocks_.size() + noted_.size();
    const std::uint64_t released_bytes = live_bytes_;
    release_blocks(session_blocks_);
    session_arena_.release_all();
    noted_.clear();
    noted_this_request_.clear();
    live_bytes_ = used_bytes_ = 0;
    close_ns_ = event_time(EventKind::SessionClose);
    open_ = false;
    update_fast_path();
    if (sink_ != nullptr) {
        deliver_pending();
        Event e;
        e.time_ns = close_ns_;
        e.session = id_;
        e.block = released_blocks;
        e.size = released_bytes;
        e.kind = EventKind::SessionClose;
        e.notification = notification_;
        sink_->on_event(e);
    }
}

void Session::guard_fault(const ml_report& report) noexcept {
    if (sink_ != nullptr && open_) {
        deliver_pending();
        Event e;
        e.time_ns = report.time_ns;
        e.session = id_;
        e.block = report.block_id;
        e.address = report.address;
        e.size = report.size;
        e.request = current_request();
        e.kind = EventKind::Corruption;
        e.scope = static_cast<Scope>(report.scope);
        e.notification = notification_;
        e.flags = static_cast<std::uint8_t>(std::min<std::uint32_t>(report.first_offset, 255));
        sink_->on_event(e);
    }
    runtime_.deliver(report, sink_);
    if (sink_ != nullptr) sink_->flush();
}

} // namespace memlife
