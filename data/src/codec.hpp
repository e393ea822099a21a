// The compact encodings stored in BLOB columns (see docs/trace-format.md, "Event batches"
// and "Request batches"): LEB128 varints, zigzag deltas. Hand-written because the
// recorder's writer thread encodes tens of millions of events per second.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "memlife/data/trace.hpp"
#include "memlife/event.hpp"
#include "memlife/stacks.hpp"

namespace memlife::data::codec {

inline std::uint64_t zigzag(std::int64_t v) noexcept {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t unzigzag(std::uint64_t v) noexcept {
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}
// Delta of two unsigned values as a wrapping signed difference.
inline std::uint64_t zigzag_delta(std::uint64_t value, std::uint64_t previous) noexcept {
    return zigzag(static_cast<std::int64_t>(value - previous));
}

// Appends to a byte buffer that the caller keeps large enough (reserve() before a record):
// a record never exceeds kMaxEventBytes.
class Writer {
public:
    explicit Writer(std::vector<std::uint8_t>& out) : out_(out) {}
    void reserve(std::size_t extra) {
        if (out_.capacity() - out_.size() < extra) out_.reserve((out_.size() + extra) * 2);
    }
    void byte(std::uint8_t b) { out_.push_back(b); }
    void varint(std::uint64_t v) {
        while (v >= 0x80) {
            out_.push_back(static_cast<std::uint8_t>(v | 0x80));
            v >>= 7;
        }
        out_.push_back(static_cast<std::uint8_t>(v));
    }

private:
    std::vector<std::uint8_t>& out_;
};

// Reads a BLOB; every read is bounds-checked (a hostile file must not crash the reader):
// ok() turns false on the first read past the end or an over-long varint.
class Reader {
public:
    Reader(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
    bool ok() const { return ok_; }
    bool at_end() const { return p_ >= end_; }
    std::uint8_t byte() {
        if (p_ >= end_) return ok_ = false, 0;
        return *p_++;
    }
    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p_ >= end_) return ok_ = false, 0;
            const std::uint8_t b = *p_++;
            v |= std::uint64_t{b & 0x7Fu} << shift;
            if ((b & 0x80) == 0) return v;
        }
        return ok_ = false, 0;
    }

private:
    const std::uint8_t* p_;
    const std::uint8_t* end_;
    bool ok_ = true;
};

// ---- event batches ------------------------------------------------------------------
// One record per event. The full record:
//   header byte: bits 0-3 kind, bit 4 scope (1 = request), bit 5 block present,
//                bit 6 address present, bit 7 size present
//   varint zigzag(time_ns - previous time_ns)
//   varint (seq - previous seq - 1) << 1 | context-follows
//   [context byte: bit 0 request, bit 1 notification, bit 2 flags; then in that order
//    varint zigzag(request - previous request), notification byte, flags byte]
//   [varint zigzag(block - previous block)] [varint zigzag(address - previous address)]
//   [varint size]
//   [varint zigzag(stack - previous stack)]    schema 3: context bit 3 (Alloc events only)
// The compact Alloc record (schema 2; most events of a recording, about 4 bytes): the next
// sequence number and block id, the same request and notification, default flags:
//   header byte: bits 0-3 kCompactAlloc, bit 4 scope, bit 5 time follows, bit 6 stack
//                follows (schema 3), bit 7 zero
//   varint size
//   varint zigzag(address - previous end)      previous end = previous address + size
//   [varint zigzag(time_ns - previous time_ns)]
//   [varint zigzag(stack - previous stack)]
// An Alloc's stack is the previous stack unless its record says otherwise (0 = none).
inline constexpr std::size_t kMaxEventBytes = 1 + 10 + 10 + 1 + 10 + 1 + 1 + 10 + 10 + 10 + 10;
inline constexpr std::uint8_t kCompactAlloc = 11; // a record kind, not an EventKind

// Flags an event has unless the record says otherwise: an Alloc's origin follows its scope.
inline std::uint8_t default_flags(EventKind kind, Scope scope) noexcept {
    return kind == EventKind::Alloc && scope == Scope::Request
               ? static_cast<std::uint8_t>(AllocOrigin::AllocRequest)
               : 0;
}

struct EventState { // the "previous" values records are relative to
    std::uint64_t time_ns = 0;
    std::uint64_t seq = 0;
    std::uint64_t block = 0;
    std::uint64_t address = 0;
    std::uint64_t end = 0; // address + size of the last record that carried an address
    std::uint32_t request = 0;
    Notification notification = Notification::None;
    StackId stack = 0; // of the last Alloc
};

// The stacks of a session's Allocs as the recorder's buffers carry them: the stack of
// block `first_block + i` is ids[i] (0 = none).
struct StackFeed {
    std::uint64_t session = 0, first_block = 0;
    std::vector<StackId> ids;
    StackId stack_of(std::uint64_t event_session, std::uint64_t block) const noexcept {
        const std::uint64_t i = block - first_block;
        return event_session == session && i < ids.size() ? ids[i] : 0;
    }
};

// Encodes one session's events into a batch; start() takes the first event's time and
// sequence number (stored in the batch row: first_ns is the first event's time, last_ns
// the largest).
class EventEncoder {
public:
    void start(std::uint64_t first_ns, std::uint64_t first_seq) {
        size_ = 0;
        state_ = EventState{};
        state_.time_ns = first_ns;
        state_.seq = first_seq - 1;
        first_ns_ = last_ns_ = first_ns;
        first_seq_ = last_seq_ = first_seq;
        count_ = 0;
    }
    // A compact Alloc record when the event allows one (most of a recording's events), else
    // a full record. `stack`: an Alloc's stack (0 = none).
    void add(const Event& e, std::uint64_t seq, StackId stack = 0) {
        if (capacity_ - size_ < kMaxEventBytes) [[unlikely]]
            grow();
        if (e.kind != EventKind::Alloc) stack = 0;
        if (add_allocs(&e, 1, e.session, seq, capacity_, UINT32_MAX, nullptr, stack).count == 0)
            add_full(e, seq, stack);
    }

    // What add_allocs() encoded, for the writer's summaries.
    struct AllocRun {
        std::size_t count = 0;
        std::uint64_t bytes = 0;         // sum of the sizes
        std::uint64_t request_bytes = 0; // of those with request scope (runs with stacks)
        std::uint64_t peak_rise = 0;     // largest running sum of the sizes
        std::uint64_t min_ns = 0;        // smallest time
        StackId stack = 0;               // every one's
    };
    // The run of `events` that continue this batch as compact Alloc records of `session`,
    // numbered seq, seq + 1, ..., all of one stack (from `stacks`; without it, every one's
    // is `stack`); stops before the batch could outgrow `max_bytes` (or its buffer) or hold
    // `max_events`. The writer's hot loop: state in registers. A recording without stacks
    // takes a loop with nothing of them in it (their checks cost ~25 instructions an event).
    AllocRun add_allocs(const Event* events, std::size_t n, std::uint64_t session,
                        std::uint64_t seq, std::size_t max_bytes, std::uint32_t max_events,
                        const StackFeed* stacks = nullptr, StackId stack = 0) {
        if (stacks == nullptr && stack == state_.stack) [[likely]]
            return alloc_run<false>(events, n, session, seq, max_bytes, max_events, nullptr, stack);
        return alloc_run_with_stacks(events, n, session, seq, max_bytes, max_events, stacks, stack);
    }

private:
    [[gnu::noinline]] AllocRun alloc_run_with_stacks(const Event* events, std::size_t n,
                                                     std::uint64_t session, std::uint64_t seq,
                                                     std::size_t max_bytes,
                                                     std::uint32_t max_events,
                                                     const StackFeed* stacks, StackId stack) {
        return alloc_run<true>(events, n, session, seq, max_bytes, max_events, stacks, stack);
    }

    // kStacks false: the run's stack is the previous one (no stack field, no request bytes).
    template <bool kStacks>
    [[gnu::always_inline]] AllocRun alloc_run(const Event* events, std::size_t n,
                                              std::uint64_t session, std::uint64_t seq,
                                              std::size_t max_bytes, std::uint32_t max_events,
                                              const StackFeed* stacks, StackId stack) {
        AllocRun run;
        const std::size_t room_bytes = std::min(capacity_, max_bytes);
        if (seq != state_.seq + 1 || room_bytes < kMaxEventBytes) return run;
        const std::size_t room_events = max_events > count_ ? max_events - count_ : 0;
        n = std::min(n, room_events);
        std::uint8_t* p = bytes_.get() + size_;
        // A record (at most kMaxEventBytes) written at p <= limit fits.
        const std::uint8_t* const limit = bytes_.get() + (room_bytes - kMaxEventBytes);
        std::uint64_t time = state_.time_ns, block = state_.block, end = state_.end,
                      address = state_.address, last_ns = last_ns_, min_ns = events[0].time_ns,
                      bytes = 0, request_bytes = 0, peak_rise = 0;
        const std::uint32_t request = state_.request;
        const Notification notification = state_.notification;
        if (kStacks && stacks != nullptr) stack = stacks->stack_of(session, events[0].block);
        const bool stack_changed = kStacks && stack != state_.stack;
        std::size_t i = 0;
        for (; i < n && p <= limit; ++i) {
            const Event& e = events[i];
            if (e.kind != EventKind::Alloc || e.session != session || e.block != block + 1 ||
                e.request != request || e.notification != notification ||
                e.flags != default_flags(e.kind, e.scope))
                break;
            const bool time_changed = e.time_ns != time;
            if constexpr (kStacks) {
                if (stacks != nullptr && i > 0 && stacks->stack_of(session, e.block) != stack)
                    break;
                const bool with_stack = i == 0 && stack_changed;
                *p++ = static_cast<std::uint8_t>(
                    kCompactAlloc | (e.scope == Scope::Request ? 0x10 : 0) |
                    (time_changed ? 0x20 : 0) | (with_stack ? 0x40 : 0));
                p = put_varint(p, e.size);
                p = put_varint(p, zigzag_delta(e.address, end));
                if (time_changed) p = put_varint(p, zigzag_delta(e.time_ns, time));
                if (with_stack) p = put_varint(p, zigzag_delta(stack, state_.stack));
                if (e.scope == Scope::Request) request_bytes += e.size;
            } else {
                *p++ = static_cast<std::uint8_t>(kCompactAlloc |
                                                 (e.scope == Scope::Request ? 0x10 : 0) |
                                                 (time_changed ? 0x20 : 0));
                p = put_varint(p, e.size);
                p = put_varint(p, zigzag_delta(e.address, end));
                if (time_changed) p = put_varint(p, zigzag_delta(e.time_ns, time));
            }
            time = e.time_ns;
            if (time > last_ns) last_ns = time;
            if (time < min_ns) min_ns = time;
            block = e.block;
            address = e.address;
            end = e.address + e.size;
            bytes += e.size;
            if (bytes > peak_rise) peak_rise = bytes;
        }
        if (i == 0) return run;
        size_ = static_cast<std::size_t>(p - bytes_.get());
        state_.time_ns = time;
        state_.seq = seq + i - 1;
        state_.block = block;
        state_.address = address;
        state_.end = end;
        state_.stack = stack;
        last_ns_ = last_ns;
        last_seq_ = state_.seq;
        count_ += static_cast<std::uint32_t>(i);
        run.count = i;
        run.bytes = bytes;
        run.request_bytes = request_bytes;
        run.peak_rise = peak_rise;
        run.min_ns = min_ns;
        run.stack = stack;
        return run;
    }

    static std::uint8_t* put_varint(std::uint8_t* p, std::uint64_t v) {
        while (v >= 0x80) {
            *p++ = static_cast<std::uint8_t>(v | 0x80);
            v >>= 7;
        }
        *p++ = static_cast<std::uint8_t>(v);
        return p;
    }

    // The full record (any event). Encoded in place with a bare pointer: a vector's
    // per-byte push_back costs measurably more here.
    [[gnu::noinline]] void add_full(const Event& e, std::uint64_t seq, StackId stack) {
        std::uint8_t* p = bytes_.get() + size_;
        auto varint = [&p](std::uint64_t v) { p = put_varint(p, v); };
        const bool context_request = e.request != state_.request;
        const bool context_notification = e.notification != state_.notification;
        const bool context_flags = e.flags != default_flags(e.kind, e.scope);
        const bool context_stack = e.kind == EventKind::Alloc && stack != state_.stack;
        const bool context =
            context_request || context_notification || context_flags || context_stack;
        std::uint8_t header = static_cast<std::uint8_t>(e.kind) & 0x0F;
        if (e.scope == Scope::Request) header |= 0x10;
        if (e.block != 0) header |= 0x20;
        if (e.address != 0) header |= 0x40;
        if (e.size != 0) header |= 0x80;
        *p++ = header;
        varint(zigzag_delta(e.time_ns, state_.time_ns));
        varint(((seq - state_.seq - 1) << 1) | (context ? 1u : 0u));
        if (context) [[unlikely]] {
            *p++ = static_cast<std::uint8_t>((context_request ? 1 : 0) |
                                             (context_notification ? 2 : 0) |
                                             (context_flags ? 4 : 0) | (context_stack ? 8 : 0));
            if (context_request) varint(zigzag_delta(e.request, state_.request));
            if (context_notification) *p++ = static_cast<std::uint8_t>(e.notification);
            if (context_flags) *p++ = e.flags;
            if (context_stack) varint(zigzag_delta(stack, state_.stack)), state_.stack = stack;
        }
        if (e.block != 0) varint(zigzag_delta(e.block, state_.block)), state_.block = e.block;
        if (e.address != 0) {
            varint(zigzag_delta(e.address, state_.address));
            state_.address = e.address;
            state_.end = e.address + e.size;
        }
        if (e.size != 0) varint(e.size);
        size_ = static_cast<std::size_t>(p - bytes_.get());
        state_.time_ns = e.time_ns;
        state_.seq = seq;
        state_.request = e.request;
        state_.notification = e.notification;
        if (e.time_ns > last_ns_) last_ns_ = e.time_ns;
        last_seq_ = seq;
        ++count_;
    }

public:
    const std::uint8_t* data() const { return bytes_.get(); }
    std::size_t size() const { return size_; }
    bool empty() const { return count_ == 0; }
    // True when one more record might not fit in `max_bytes`, or `max_events` are in.
    bool full(std::size_t max_bytes, std::uint32_t max_events) const {
        return size_ + kMaxEventBytes > max_bytes || count_ >= max_events;
    }
    std::uint32_t count() const { return count_; }
    std::uint64_t first_ns() const { return first_ns_; }
    std::uint64_t last_ns() const { return last_ns_; }
    std::uint64_t first_seq() const { return first_seq_; }
    std::uint64_t last_seq() const { return last_seq_; }

private:
    void grow() {
        const std::size_t capacity = std::max<std::size_t>(4096, capacity_ * 2);
        auto bigger = std::make_unique_for_overwrite<std::uint8_t[]>(capacity);
        if (size_ != 0) std::memcpy(bigger.get(), bytes_.get(), size_);
        bytes_ = std::move(bigger);
        capacity_ = capacity;
    }
    std::unique_ptr<std::uint8_t[]> bytes_;
    std::size_t size_ = 0, capacity_ = 0;
    EventState state_;
    std::uint64_t first_ns_ = 0, last_ns_ = 0, first_seq_ = 0, last_seq_ = 0;
    std::uint32_t count_ = 0;
};

// Decodes a batch. first_ns and first_seq are the row's columns: the first record's time
// and sequence number, which its deltas are relative to.
class EventDecoder {
public:
    EventDecoder(const std::uint8_t* data, std::size_t size, std::uint64_t session,
                 std::uint64_t base_ns, std::uint64_t first_seq)
        : in_(data, size), session_(session) {
        state_.time_ns = base_ns;
        state_.seq = first_seq - 1;
    }
    // False at the end or on a malformed record (then error() is true).
    bool next(Event& e, std::uint64_t& seq) {
        if (in_.at_end() || !in_.ok()) return false;
        const std::uint8_t header = in_.byte();
        const auto kind = header & 0x0F;
        if (kind == kCompactAlloc) return next_compact_alloc(header, e, seq);
        if (kind < 1 || kind > kEventKindMax) return error_ = true, false;
        e = Event{};
        e.session = session_;
        e.kind = static_cast<EventKind>(kind);
        e.scope = (header & 0x10) != 0 ? Scope::Request : Scope::Session;
        state_.time_ns += static_cast<std::uint64_t>(unzigzag(in_.varint()));
        const std::uint64_t q = in_.varint();
        state_.seq += (q >> 1) + 1;
        e.flags = default_flags(e.kind, e.scope);
        if ((q & 1) != 0) {
            const std::uint8_t context = in_.byte();
            if ((context & ~15u) != 0) return error_ = true, false;
            if ((context & 1) != 0)
                state_.request += static_cast<std::uint32_t>(unzigzag(in_.varint()));
            if ((context & 2) != 0) {
                const std::uint8_t n = in_.byte();
                if (n >= kNotificationCount) return error_ = true, false;
                state_.notification = static_cast<Notification>(n);
            }
            if ((context & 4) != 0) e.flags = in_.byte();
            if ((context & 8) != 0) {
                if (e.kind != EventKind::Alloc) return error_ = true, false;
                state_.stack += static_cast<StackId>(unzigzag(in_.varint()));
            }
        }
        if ((header & 0x20) != 0) e.block = state_.block += unzigzag(in_.varint());
        if ((header & 0x40) != 0) e.address = state_.address += unzigzag(in_.varint());
        if ((header & 0x80) != 0) e.size = in_.varint();
        if ((header & 0x40) != 0) state_.end = e.address + e.size;
        if (!in_.ok()) return error_ = true, false;
        e.time_ns = state_.time_ns;
        e.request = state_.request;
        e.notification = state_.notification;
        seq = state_.seq;
        stack_ = e.kind == EventKind::Alloc ? state_.stack : 0;
        return true;
    }
    bool error() const { return error_ || !in_.ok(); }
    // The stack of the event next() returned last (0: none, or not an Alloc).
    StackId stack() const { return stack_; }

private:
    bool next_compact_alloc(std::uint8_t header, Event& e, std::uint64_t& seq) {
        if ((header & 0x80) != 0) return error_ = true, false;
        e = Event{};
        e.session = session_;
        e.kind = EventKind::Alloc;
        e.scope = (header & 0x10) != 0 ? Scope::Request : Scope::Session;
        e.flags = default_flags(e.kind, e.scope);
        e.size = in_.varint();
        e.address = state_.end + static_cast<std::uint64_t>(unzigzag(in_.varint()));
        if ((header & 0x20) != 0)
            state_.time_ns += static_cast<std::uint64_t>(unzigzag(in_.varint()));
        if ((header & 0x40) != 0) state_.stack += static_cast<StackId>(unzigzag(in_.varint()));
        if (!in_.ok()) return error_ = true, false;
        e.block = ++state_.block;
        state_.address = e.address;
        state_.end = e.address + e.size;
        e.time_ns = state_.time_ns;
        e.request = state_.request;
        e.notification = state_.notification;
        seq = ++state_.seq;
        stack_ = state_.stack;
        return true;
    }

    Reader in_;
    std::uint64_t session_;
    EventState state_;
    StackId stack_ = 0;
    bool error_ = false;
};

// ---- request batches ------------------------------------------------------------------
// One record per request, relative to the previous record (initially all zero):
//   varint number - previous number - 1
//   varint zigzag(begin_ns - previous begin_ns)
//   varint end_ns == 0 ? 0 : end_ns - begin_ns + 1
//   varint zigzag(live_bytes_at_end - previous live_bytes_at_end)
//   varint zigzag(peak_bytes - live_bytes_at_end)
//   varint blocks, varint released_bytes, varint corruptions, varint leaks
void encode_requests(const std::vector<RequestRow>& rows, std::vector<std::uint8_t>& out);
// Appends the decoded rows; false on a malformed BLOB.
bool decode_requests(const std::uint8_t* data, std::size_t size, std::uint64_t session,
                     std::vector<RequestRow>& out);

} // namespace memlife::data::codec
