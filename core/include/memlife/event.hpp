// The event model: every action of the allocator and the filter host, as a fixed-size
// record with a monotonic nanosecond timestamp, delivered to an EventSink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "memlife/memlife.h"
#include "memlife/notification.hpp"
#include "memlife/stacks.hpp"

namespace memlife {

enum class EventKind : std::uint8_t {
    SessionOpen = 1,  // address: 0; the peer label goes through EventSink::on_session_open
    SessionClose = 2, // size: bytes released at close; block: blocks released at close
    RequestBegin = 3, // request: the new request number
    RequestEnd = 4,   // size: bytes released by the request scope; block: blocks released
    Notification = 5, // notification: the one now running; flags: the filter status, if any
    Alloc = 6,        // block, address, size, scope; flags: AllocOrigin
    Release = 7,      // a single block released (noted blocks); block, address, size, scope
    Corruption = 8,   // block, address, size; details in the matching ml_report
    Leak = 9,         // block, address, size, scope; details in the matching ml_report
    Drop = 10,        // size: events the recorder had to drop (back-pressure = drop)
};
inline constexpr int kEventKindMax = 10;

enum class Scope : std::uint8_t { Session = ML_SCOPE_SESSION, Request = ML_SCOPE_REQUEST };

// Where an Alloc's memory came from (Event::flags for Alloc events).
enum class AllocOrigin : std::uint8_t {
    AllocMem = 0,     // ml_alloc_mem: session arena
    AllocRequest = 1, // ml_alloc_request: request arena
    Noted = 2,        // ml_note_alloc: another allocator's memory
    Guarded = 3,      // ml_alloc_mem in guard-page mode
};

struct Event {
    std::uint64_t time_ns = 0; // monotonic nanoseconds (memlife::now_ns)
    std::uint64_t session = 0;
    std::uint64_t block = 0; // block id within the session (or a count, see EventKind)
    std::uint64_t address = 0;
    std::uint64_t size = 0;
    std::uint32_t request = 0; // 1-based request number; 0 outside a request
    EventKind kind = EventKind::SessionOpen;
    Scope scope = Scope::Session;
    Notification notification = Notification::None; // running notification
    std::uint8_t flags = 0;
};
static_assert(sizeof(Event) == 48, "Event is a fixed 48-byte record");

MEMLIFE_API std::string_view name(EventKind kind) noexcept;

// Receives every event. Called on the thread doing the work, so on_event must be cheap
// and thread-safe across sessions. A Runtime without a sink emits nothing and pays
// nothing but a null check.
class MEMLIFE_API EventSink {
public:
    virtual ~EventSink();
    virtual void on_event(const Event& event) noexcept = 0;
    // SessionOpen carries a peer label; the default forwards the event alone.
    virtual void on_session_open(const Event& event, std::string_view peer) noexcept;
    // Corruption and leak details; the matching Corruption/Leak event is sent too.
    virtual void on_report(const ml_report& report) noexcept;
    // Make everything so far durable (called at close, and before a guard-page crash).
    virtual void flush() noexcept;

    // Batches. A sink that accepts them (the recorder) gets a session's events through
    // on_events() instead of one call each: the session gathers them in a buffer of its own
    // (kSessionBatch events; no call, no copy per event) and hands them over when it is
    // full, at the end of every request, before a report, at a guard-page fault and at
    // close. A session's events keep their order; events of sessions that share a thread
    // are interleaved batch by batch. Read once, when a session opens.
    virtual bool accepts_batches() const noexcept;
    // The default calls on_event for each.
    virtual void on_events(const Event* events, std::size_t count) noexcept;

    // Sessions that record stacks (Config::stack_depth > 0) deliver through these instead:
    // stacks[i] is the stack of events[i] when it is an Alloc, 0 for every other event.
    // The defaults drop the stacks and call on_events / on_event.
    virtual void on_stacked_events(const Event* events, const StackId* stacks,
                                   std::size_t count) noexcept;
    virtual void on_stacked_event(const Event& event, StackId stack) noexcept;
};
inline constexpr std::size_t kSessionBatch = 64;

// Monotonic nanoseconds. Uses the TSC, calibrated against CLOCK_MONOTONIC, where the CPU
// has an invariant TSC (clock_gettime costs ~23 ns here, rdtsc ~10 ns: the recorder's
// hot path cannot afford the former); falls back to CLOCK_MONOTONIC elsewhere.
MEMLIFE_API std::uint64_t now_ns() noexcept;

} // namespace memlife
