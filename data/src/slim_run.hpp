// Slim runs: how the recorder's buffers carry a session's batch of events.
//
// The hand-over copy was the instrumented thread's largest cost after the allocation
// itself: every byte of it is written to memory that the writer reads on the other core,
// and a batch of 48-byte events is mostly the same session, request and notification
// over and over. A run stores consecutive events of one session and request in 16 bytes
// each (three per 48-byte buffer record) behind one header record:
//
//   header (an Event-sized record):  kind kSlimRun, session, request,
//     time_ns = base time, block = base block, address = base end, size = event count
//   per event (SlimEvent):  time - previous time, size, aux, kind, scope, notification, flags
//     Alloc:   block = previous Alloc's block + 1, address = previous end + (int32) aux
//     others:  block = aux, address = 0
//
// An event that does not fit (another session or request, a time step of 4.3 s or more, an
// Alloc out of sequence, a Release with its address, ...) ends the run and travels as a
// full record. The buffers only: nothing of this reaches the trace file.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "memlife/event.hpp"

namespace memlife::data::slim {

using Record = unsigned char[sizeof(Event)];

inline constexpr auto kSlimRun = static_cast<EventKind>(0xF1); // not an EventKind

struct SlimEvent {
    std::uint32_t time_delta;
    std::uint32_t size;
    std::uint32_t aux;
    std::uint8_t kind, scope, notification, flags;
};
static_assert(sizeof(SlimEvent) == 16 && sizeof(Event) % sizeof(SlimEvent) == 0);
inline constexpr std::size_t kPerRecord = sizeof(Event) / sizeof(SlimEvent);

// Records a run of `count` events occupies, its header included (no overflow for any
// count, so a bad header's count is simply too large for its chunk).
inline std::uint64_t run_records(std::uint64_t count) {
    return 1 + count / kPerRecord + (count % kPerRecord != 0 ? 1 : 0);
}

struct RunState { // what the next event of a run is relative to
    std::uint64_t session, time, block, end;
    std::uint32_t request;
};

// Writes the slim form of `e` after `st` to `out` (16 bytes), updating `st`; false (and
// `st` unchanged) when it has none. Two word stores: the fields are gathered in registers
// (four narrow stores read back by a copy would stall store forwarding).
inline bool to_slim(const Event& e, RunState& st, unsigned char* out) {
    static_assert(offsetof(Event, request) == 40 && offsetof(Event, kind) == 44 &&
                  offsetof(Event, flags) == 47 && std::endian::native == std::endian::little);
    std::uint64_t tail; // request | kind, scope, notification, flags
    std::memcpy(&tail, reinterpret_cast<const unsigned char*>(&e) + offsetof(Event, request), 8);
    const auto kind = static_cast<unsigned>((tail >> 32) & 0xFF);
    if (e.session != st.session || static_cast<std::uint32_t>(tail) != st.request || kind < 1 ||
        kind > static_cast<unsigned>(kEventKindMax) || e.time_ns < st.time ||
        e.time_ns - st.time > UINT32_MAX || e.size > UINT32_MAX)
        return false;
    std::uint32_t aux;
    if (kind == static_cast<unsigned>(EventKind::Alloc)) {
        const auto gap = static_cast<std::int64_t>(e.address - st.end);
        if (e.block != st.block + 1 || gap < INT32_MIN || gap > INT32_MAX) return false;
        aux = static_cast<std::uint32_t>(static_cast<std::int32_t>(gap));
        st.block = e.block;
        st.end = e.address + e.size;
    } else {
        if (e.address != 0 || e.block > UINT32_MAX) return false;
        aux = static_cast<std::uint32_t>(e.block);
    }
    const std::uint64_t words[2] = {(e.time_ns - st.time) | e.size << 32, aux | (tail >> 32) << 32};
    static_assert(offsetof(SlimEvent, time_delta) == 0 && offsetof(SlimEvent, size) == 4 &&
                  offsetof(SlimEvent, aux) == 8 && offsetof(SlimEvent, kind) == 12 &&
                  offsetof(SlimEvent, flags) == 15);
    std::memcpy(out, words, sizeof words);
    st.time = e.time_ns;
    return true;
}

// Writes `events` into `out` as runs and full records; returns the records used, never
// more than `count` (a run of one event is written as a full record instead). `out` has
// room for count + 1 records: the scan for a run's end may write one past what it uses.
inline std::size_t pack(const Event* events, std::size_t count, Record* out) {
    std::size_t used = 0, i = 0;
    while (i < count) {
        const Event& first = events[i];
        const bool alloc = first.kind == EventKind::Alloc;
        RunState st{first.session, first.time_ns, alloc ? first.block - 1 : 0,
                    alloc ? first.address : 0, first.request};
        const RunState base = st;
        unsigned char* const entries = out[used] + sizeof(Event);
        std::size_t n = 0;
        while (i + n < count && to_slim(events[i + n], st, entries + n * sizeof(SlimEvent)))
            ++n;
        if (n <= 1) { // a full record is smaller
            std::memcpy(out[used++], &first, sizeof(Event));
            ++i;
            continue;
        }
        // The header in six word stores (an Event built on the stack and copied would be
        // read back in 16-byte loads that stall on the narrower stores that built it).
        const std::uint64_t words[6] = {
            base.time,
            base.session,
            base.block,
            base.end,
            n,
            std::uint64_t{base.request} | std::uint64_t{static_cast<std::uint8_t>(kSlimRun)} << 32};
        static_assert(offsetof(Event, time_ns) == 0 && offsetof(Event, session) == 8 &&
                      offsetof(Event, block) == 16 && offsetof(Event, address) == 24 &&
                      offsetof(Event, size) == 32 && offsetof(Event, request) == 40 &&
                      offsetof(Event, kind) == 44 && std::endian::native == std::endian::little);
        for (int w = 0; w < 6; ++w) {
            std::uint64_t word = words[w];
            asm volatile("" : "+r"(word)); // keep them word stores
            std::memcpy(out[used] + 8 * w, &word, 8);
        }
        used += run_records(n);
        i += n;
    }
    return used;
}

// Expands the run whose header is `header` (its entries follow it) into `out`, which has
// room for header.size events.
inline void unpack(const Event& header, const Record* entries_start, Event* out) {
    const auto* entries = reinterpret_cast<const unsigned char*>(entries_start);
    std::uint64_t time = header.time_ns, block = header.block, end = header.address;
    for (std::uint64_t i = 0; i < header.size; ++i) {
        SlimEvent s;
        std::memcpy(&s, entries + i * sizeof s, sizeof s);
        Event& e = out[i];
        time += s.time_delta;
        e.time_ns = time;
        e.session = header.session;
        e.request = header.request;
        e.kind = static_cast<EventKind>(s.kind);
        e.scope = static_cast<Scope>(s.scope);
        e.notification = static_cast<Notification>(s.notification);
        e.flags = s.flags;
        e.size = s.size;
        if (e.kind == EventKind::Alloc) {
            e.block = ++block;
            e.address = end + static_cast<std::uint64_t>(
                                  static_cast<std::int64_t>(static_cast<std::int32_t>(s.aux)));
            end = e.address + e.size;
        } else {
            e.block = s.aux;
            e.address = 0;
        }
    }
}

} // namespace memlife::data::slim
