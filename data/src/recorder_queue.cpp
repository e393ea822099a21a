#include "recorder_queue.hpp"

#include <algorithm>
#include <cstddef>
#include <new>
#include <stdexcept>

#include "trace_writer.hpp"

namespace memlife::data {

namespace {

constexpr std::size_t kPoolChunks = 64; // recycled chunks kept for reuse

// Records that are not events: a header record (kind kSideRecord, flags = type, session,
// size = byte length) followed by the bytes, 48 per record.
constexpr auto kSideRecord = static_cast<EventKind>(0xF0);
enum SideType : std::uint8_t { kPeer = 1, kReport = 2, kStacks = 3 };
constexpr std::size_t kMaxPeer = 1024;

// A report travels as its ml_report up to the backtrace (which a trace does not keep),
// followed by the allocating stack's id and the message's bytes.
constexpr std::size_t kReportPrefix = offsetof(ml_report, backtrace_len);
constexpr std::size_t kReportHead = kReportPrefix + sizeof(StackId);

// The stacks of a batch's Allocs: the first Alloc's block id, then one StackId per block
// id up to the last Alloc's (a session numbers its blocks one by one, so these are the
// batch's Allocs; 0 for an id without one).
constexpr std::size_t kMaxStackSpan = 4 * kSessionBatch;

std::atomic<std::uint64_t> next_queue_id{1};

} // namespace

constinit thread_local EventQueue::TlsCache EventQueue::tls_;

// Owns this thread's buffers; at thread exit marks them abandoned so the consumer drains
// and drops them.
struct EventQueue::TlsOwner {
    std::vector<std::shared_ptr<ThreadBuffer>> buffers;
    ~TlsOwner() {
        for (auto& b : buffers)
            b->abandoned.store(true, std::memory_order_release);
        tls_ = {};
    }
};

EventQueue::ThreadBuffer::~ThreadBuffer() {
    for (Chunk* c = read_chunk; c != nullptr;) {
        Chunk* next = c->next.load(std::memory_order_relaxed);
        delete c;
        c = next;
    }
}

EventQueue::EventQueue(BackPressure back_pressure, std::size_t max_buffered_events,
                       std::function<void()> wake_consumer)
    : id_(next_queue_id.fetch_add(1)), back_pressure_(back_pressure),
      max_chunks_in_flight_(std::max<std::uint64_t>(1, max_buffered_events / kChunkEvents)),
      wake_consumer_(std::move(wake_consumer)) {}

EventQueue::~EventQueue() {
    for (auto& b : buffers_)
        b->queue_alive.store(false, std::memory_order_release);
    buffers_.clear();
    for (Chunk* c : pool_)
        delete c;
}

// ---- producer side ------------------------------------------------------------------

EventQueue::ThreadBuffer* EventQueue::buffer_for_this_thread() {
    static thread_local TlsOwner owner; // constructed at the thread's first append
    auto& owned = owner.buffers;
    std::erase_if(owned, [](const std::shared_ptr<ThreadBuffer>& b) {
        return !b->queue_alive.load(std::memory_order_acquire);
    });
    for (auto& b : owned)
        if (b->queue_id == id_) return tls_ = {id_, b.get()}, b.get();
    auto buffer = std::make_shared<ThreadBuffer>(id_, take_chunk());
    {
        std::lock_guard lock(registry_mutex_);
        buffers_.push_back(buffer);
    }
    owned.push_back(buffer);
    tls_ = {id_, buffer.get()};
    return buffer.get();
}

EventQueue::Chunk* EventQueue::take_chunk() {
    {
        std::lock_guard lock(pool_mutex_);
        if (!pool_.empty()) {
            Chunk* c = pool_.front();
            pool_.pop_front();
            return c;
        }
    }
    return new Chunk;
}

void EventQueue::recycle(Chunk* c) {
    c->count.store(0, std::memory_order_relaxed);
    c->next.store(nullptr, std::memory_order_relaxed);
    {
        std::lock_guard lock(pool_mutex_);
        if (pool_.size() < kPoolChunks) {
            pool_.push_back(c);
            c = nullptr;
        }
    }
    delete c;
    chunks_in_flight_.fetch_sub(1, std::memory_order_release);
    if (space_waiters_.load(std::memory_order_acquire) > 0) {
        std::lock_guard lock(space_mutex_);
        space_cv_.notify_all();
    }
}

// The current chunk is full: chain a new one, unless back-pressure says otherwise.
// `side` records (peer labels, reports) are never dropped.
//
// Waking the consumer: after publishing a chunk (a seq_cst store of `next`) the producer
// calls wake_consumer, which loads the consumer's "waiting" flag; the consumer stores that
// flag and then loads `next` (full_chunk_waiting), all four seq_cst, so either it sees the
// chunk or the producer sees it waiting (no fence: TSan does not model fences).
bool EventQueue::next_chunk(ThreadBuffer& b, bool side) {
    if (chunks_in_flight_.load(std::memory_order_acquire) >= max_chunks_in_flight_) {
        if (back_pressure_ == BackPressure::Drop && !side) return false;
        if (back_pressure_ == BackPressure::Block) {
            wake_consumer_();
            space_waiters_.fetch_add(1, std::memory_order_acq_rel);
            std::unique_lock lock(space_mutex_);
            while (chunks_in_flight_.load(std::memory_order_acquire) >= max_chunks_in_flight_ &&
                   !closed_.load(std::memory_order_acquire))
                space_cv_.wait_for(lock, std::chrono::milliseconds(10));
            space_waiters_.fetch_sub(1, std::memory_order_acq_rel);
        }
    }
    Chunk* c = take_chunk();
    chunks_in_flight_.fetch_add(1, std::memory_order_relaxed);
    b.write_chunk->next.store(c, std::memory_order_seq_cst); // see above
    b.write_chunk = c;
    b.write_index = 0;
    wake_consumer_();
    return true;
}

void EventQueue::put(ThreadBuffer& b, const void* record) {
    std::memcpy(b.write_chunk->records[b.write_index], record, sizeof(Event));
    b.write_chunk->count.store(++b.write_index, std::memory_order_release);
}

// Appends one record; false when dropped.
bool EventQueue::append(const void* record, bool side) noexcept {
    if (closed_.load(std::memory_order_acquire)) return false;
    ThreadBuffer* b = tls_.queue_id == id_ ? tls_.buffer : buffer_for_this_thread();
    if (b->write_index == kChunkEvents) {
        if (!next_chunk(*b, side)) {
            ++b->unreported_drops;
            b->dropped.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        if (b->unreported_drops != 0 && !side) {
            // Mark the gap in the stream where it happened (the count is in the metadata as
            // well).
            Event drop;
            drop.time_ns = now_ns();
            drop.kind = EventKind::Drop;
            drop.size = b->unreported_drops;
            b->unreported_drops = 0;
            put(*b, &drop);
        }
    }
    put(*b, record);
    return true;
}

void EventQueue::append_side(std::uint8_t type, std::uint64_t session, const void* bytes,
                             std::size_t size) noexcept {
    Event header;
    header.kind = kSideRecord;
    header.flags = type;
    header.session = session;
    header.size = size;
    if (!append(&header, true)) return;
    const auto* p = static_cast<const unsigned char*>(bytes);
    for (std::size_t off = 0; off < size; off += sizeof(Event)) {
        unsigned char record[sizeof(Event)] = {};
        std::memcpy(record, p + off, std::min(sizeof(Event), size - off));
        append(record, true);
    }
}

void EventQueue::push_peer(std::uint64_t session, std::string_view peer) noexcept {
    append_side(kPeer, session, peer.data(), std::min(peer.size(), kMaxPeer));
}

void EventQueue::push_report(const ml_report& report) noexcept {
    unsigned char bytes[kReportHead + ML_MESSAGE_MAX];
    std::memcpy(bytes, &report, kReportPrefix);
    std::memcpy(bytes + kReportPrefix, &report.alloc_stack_id, sizeof(StackId));
    const std::size_t len = strnlen(report.message, ML_MESSAGE_MAX);
    std::memcpy(bytes + kReportHead, report.message, len);
    append_side(kReport, report.session_id, bytes, kReportHead + len);
}

void EventQueue::push_stacked(const Event* events, const StackId* stacks,
                              std::size_t count) noexcept {
    // The payload: the first Alloc's block id, then the stack of each block id up to the
    // last Alloc's. A session's Allocs number their blocks one by one, so this is usually
    // just the Allocs' stacks in order.
    struct {
        std::uint64_t first_block;
        StackId ids[kMaxStackSpan];
    } payload;
    std::uint64_t session = 0, last = 0;
    std::size_t span = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const Event& e = events[i];
        if (e.kind != EventKind::Alloc || stacks[i] == 0) continue;
        if (span == 0) {
            session = e.session;
            payload.first_block = last = e.block;
        } else if (e.session != session || e.block <= last ||
                   e.block - payload.first_block >= kMaxStackSpan) {
            continue; // not this batch's numbering: no stack for it (never happens)
        }
        for (; last + 1 < e.block; ++last) // ids without an Alloc here
            payload.ids[span++] = 0;
        payload.ids[span++] = stacks[i];
        last = e.block;
    }
    if (span == 0) return push(events, count);
    const std::size_t bytes = sizeof payload.first_block + span * sizeof(StackId);
    const std::size_t side_records = 1 + (bytes + sizeof(Event) - 1) / sizeof(Event);
    if (tls_.queue_id == id_) [[likely]] {
        // The stacks and the events in this chunk, published with one store.
        ThreadBuffer& b = *tls_.buffer;
        const std::uint32_t n = b.write_index;
        if (side_records + count < kChunkEvents - n) { // pack() needs count + 1 records
            Event header;
            header.kind = kSideRecord;
            header.flags = kStacks;
            header.session = session;
            header.size = bytes;
            std::memcpy(b.write_chunk->records[n], &header, sizeof header);
            std::memcpy(b.write_chunk->records[n + 1], &payload, bytes);
            const auto at = static_cast<std::uint32_t>(n + side_records);
            b.write_index = at + static_cast<std::uint32_t>(
                                     slim::pack(events, count, b.write_chunk->records + at));
            b.write_chunk->count.store(b.write_index, std::memory_order_release);
            return;
        }
    }
    append_side(kStacks, session, &payload, bytes);
    push(events, count);
}

std::uint64_t EventQueue::dropped() {
    std::lock_guard lock(registry_mutex_);
    std::uint64_t n = dropped_at_stop_;
    for (auto& b : buffers_)
        n += b->dropped.load(std::memory_order_relaxed);
    return n;
}

void EventQueue::close() {
    closed_.store(true, std::memory_order_release);
    std::lock_guard lock(space_mutex_);
    space_cv_.notify_all();
}

// ---- consumer side ------------------------------------------------------------------

void EventQueue::process(ThreadBuffer& b, TraceWriter& writer, const unsigned char* record) {
    if (b.side_remaining > 0) {
        const std::size_t n = std::min(sizeof(Event), b.side_remaining);
        b.side_bytes.append(reinterpret_cast<const char*>(record), n);
        b.side_remaining -= n;
        if (b.side_remaining == 0) deliver_side(b, writer);
        return;
    }
    // Read in place, no copy: the producer memcpy'd an Event into these 16-byte aligned
    // bytes (which creates one there).
    const Event& e = *std::launder(reinterpret_cast<const Event*>(record));
    if (e.kind == kSideRecord) {
        b.side_type = e.flags;
        b.side_session = e.session;
        b.side_remaining = e.size;
        b.side_bytes.clear();
        if (e.size == 0) deliver_side(b, writer);
        return;
    }
    writer.add(e, b.stacks.stack_of(e.session, e.block));
}

void EventQueue::add_slim_run(TraceWriter& writer, const Event& header, const slim::Record* entries,
                              const codec::StackFeed* stacks) {
    if (expanded_.size() < header.size) expanded_.resize(header.size);
    slim::unpack(header, entries, expanded_.data());
    for (std::size_t done = 0; done < header.size;) // every kind is an EventKind
        done += std::max<std::size_t>(
            1, writer.add_events(expanded_.data() + done, header.size - done, stacks));
}

void EventQueue::deliver_side(ThreadBuffer& b, TraceWriter& writer) {
    if (b.side_type == kPeer) {
        writer.set_peer(b.side_session, b.side_bytes);
    } else if (b.side_type == kReport && b.side_bytes.size() >= kReportHead) {
        ml_report report{};
        std::memcpy(&report, b.side_bytes.data(), kReportPrefix);
        std::memcpy(&report.alloc_stack_id, b.side_bytes.data() + kReportPrefix, sizeof(StackId));
        report.tail_len = std::min<std::uint32_t>(report.tail_len, ML_TAIL_MAX);
        const std::size_t len =
            std::min<std::size_t>(b.side_bytes.size() - kReportHead, ML_MESSAGE_MAX - 1);
        std::memcpy(report.message, b.side_bytes.data() + kReportHead, len);
        writer.add_report(report);
    } else if (b.side_type == kStacks && b.side_bytes.size() > sizeof(std::uint64_t)) {
        codec::StackFeed& feed = b.stacks;
        feed.session = b.side_session;
        std::memcpy(&feed.first_block, b.side_bytes.data(), sizeof feed.first_block);
        feed.ids.resize((b.side_bytes.size() - sizeof feed.first_block) / sizeof(StackId));
        std::memcpy(feed.ids.data(), b.side_bytes.data() + sizeof feed.first_block,
                    feed.ids.size() * sizeof(StackId));
        b.side_bytes.clear(); // kept: a session with stacks sends one of these per batch
        return;
    }
    b.side_bytes.clear();
    b.side_bytes.shrink_to_fit();
}

// Processes what the buffer's producer has published; true if anything was there.
// Without `partial`, only full chunks: the chunk being filled is left alone (reading its
// count while the producer stores it would bounce the cache line on every append). Stops
// after a chunk once `deadline` has passed: a producer as fast as the consumer would
// otherwise keep it here, and no commit would happen while the producer runs. `complete`
// tells whether it reached the producer's position.
bool EventQueue::drain(ThreadBuffer& b, TraceWriter& writer, bool partial,
                       Clock::time_point deadline, bool& complete) {
    bool any = false;
    complete = true;
    for (;;) {
        Chunk* c = b.read_chunk;
        Chunk* next = c->next.load(std::memory_order_acquire);
        if (next == nullptr && !partial) return any;
        const std::uint32_t count = c->count.load(std::memory_order_acquire);
        any = any || b.read_index < count;
        while (b.read_index < count) {
            if (b.side_remaining == 0) { // a run of events, up to the next other record
                const auto* events =
                    std::launder(reinterpret_cast<const Event*>(c->records[b.read_index]));
                const codec::StackFeed* stacks = b.stacks.ids.empty() ? nullptr : &b.stacks;
                b.read_index += static_cast<std::uint32_t>(
                    writer.add_events(events, count - b.read_index, stacks));
                if (b.read_index == count) break;
                const Event& header =
                    *std::launder(reinterpret_cast<const Event*>(c->records[b.read_index]));
                if (header.kind == slim::kSlimRun) {
                    // Published at once by push(), so all of it is below count.
                    const std::uint64_t records = slim::run_records(header.size);
                    if (records > count - b.read_index)
                        throw std::logic_error("recorder buffer: a slim run is cut short");
                    add_slim_run(writer, header, c->records + b.read_index + 1,
                                 b.stacks.ids.empty() ? nullptr : &b.stacks);
                    b.read_index += static_cast<std::uint32_t>(records);
                    continue;
                }
            }
            process(b, writer, c->records[b.read_index++]);
        }
        if (b.read_index < kChunkEvents) return any;
        if (next == nullptr) next = c->next.load(std::memory_order_acquire);
        if (next == nullptr) return any;
        b.read_chunk = next;
        b.read_index = 0;
        recycle(c);
        if (Clock::now() >= deadline) return complete = false, any;
    }
}

bool EventQueue::drain_all(TraceWriter& writer, bool partial, Clock::time_point deadline) {
    std::vector<std::shared_ptr<ThreadBuffer>> snapshot;
    {
        std::lock_guard lock(registry_mutex_);
        snapshot = buffers_;
    }
    // Each call starts with the next buffer, so that with a deadline no thread's buffer
    // always comes last.
    if (!snapshot.empty())
        std::rotate(snapshot.begin(),
                    snapshot.begin() +
                        static_cast<std::ptrdiff_t>(drain_round_++ % snapshot.size()),
                    snapshot.end());
    bool any = false;
    for (auto& b : snapshot) {
        const bool gone = b->abandoned.load(std::memory_order_acquire);
        bool complete = false;
        any = drain(*b, writer, partial, deadline, complete) || any;
        if (gone && partial && complete) { // its thread has exited and all it appended is in
            std::lock_guard lock(registry_mutex_);
            dropped_at_stop_ += b->dropped.load(std::memory_order_relaxed);
            std::erase(buffers_, b);
        }
    }
    return any;
}

bool EventQueue::full_chunk_waiting() {
    std::lock_guard lock(registry_mutex_);
    for (auto& b : buffers_)
        if (b->read_chunk->next.load(std::memory_order_seq_cst) != nullptr) return true;
    return false;
}

void EventQueue::discard_all() {
    std::vector<std::shared_ptr<ThreadBuffer>> snapshot;
    {
        std::lock_guard lock(registry_mutex_);
        snapshot = buffers_;
    }
    for (auto& b : snapshot) {
        for (;;) {
            Chunk* c = b->read_chunk;
            b->read_index = c->count.load(std::memory_order_acquire);
            if (b->read_index < kChunkEvents) break;
            Chunk* next = c->next.load(std::memory_order_acquire);
            if (next == nullptr) break;
            b->read_chunk = next;
            b->read_index = 0;
            recycle(c);
        }
        b->side_remaining = 0;
    }
}

} // namespace memlife::data
