// A teaching "script": one connection's events as steps, with the live bytes split by scope
// after each step and the order violations in place. Built from any event stream (a trace's
// session, the built-in example) one event at a time; nothing here paints or plays.
#pragma once

#include <QString>

#include <cstdint>
#include <memory>
#include <vector>

#include "memlife/event.hpp"
#include "memlife/notification.hpp"
#include "memlife/order_checker.hpp"

namespace memlife::data {
class TraceReader;
}

namespace memlife::ui {

enum class StepKind : std::uint8_t {
    SessionOpen,  // the connection opens (or the first event of a stream without SessionOpen)
    RequestBegin, // only in captures without notifications; merged into the next step otherwise
    Notification, // one Notification event
    RequestEnd,   // the request scope is released
    SessionClose, // the connection scope is released
    Skipped,      // requests past the lesson's limit, folded into one step (still counted)
    // Captures without notifications only: their events are cut where allocating turns into
    // freeing and back, so a request pool shows at its largest before it goes.
    Allocations, // a run of allocations (after some frees, in a request or between requests)
    Frees,       // a run of single blocks freed (a run that ends the request or the
                 // connection becomes that RequestEnd or SessionClose step)
};

// Whose words and rows the lesson uses: the ISAPI notifications of a filter host, nginx's
// own pools and phases (an nginx import), or a capture without either (begins, ends, frees).
enum class LessonServer : std::uint8_t { Isapi, Nginx, Plain };

struct StepAllocation {
    std::uint64_t block = 0;
    std::uint64_t size = 0;
    Scope scope = Scope::Session;
    AllocOrigin origin = AllocOrigin::AllocMem;
};

struct TeachingStep {
    StepKind kind = StepKind::SessionOpen;
    Notification notification = Notification::None; // kind == Notification
    bool bodyRead = false;     // a READ_RAW_DATA after the headers: the request body
    std::uint32_t request = 0; // 1-based; 0 outside a request
    std::uint32_t repeat = 0;  // 0 the first time this notification fires in the request
    std::uint8_t status = 0;   // the Notification event's status byte (why it fires now)

    // Live bytes after this step's allocations and releases.
    std::uint64_t sessionBytes = 0; // connection-scoped (AllocMem, noted session blocks)
    std::uint64_t requestBytes = 0; // request-scoped (request arena, noted request blocks)
    std::uint64_t releasedBytes = 0;
    // The highest live bytes of each scope during the step (a step of a capture without
    // notifications holds a whole request: its memory may come and go inside it).
    std::uint64_t peakSessionBytes = 0;
    std::uint64_t peakRequestBytes = 0;

    static constexpr std::size_t kListedAllocations = 32;
    std::vector<StepAllocation> allocations; // the first kListedAllocations of this step
    std::uint64_t allocationCount = 0;       // all of them
    std::uint64_t allocatedBytes = 0;
    std::uint64_t corruptions = 0;
    std::uint64_t leaks = 0;

    std::vector<OrderViolation> violations; // whose offending event lies in this step
    std::uint64_t firstEvent = 0;           // [firstEvent, endEvent): positions in the
    std::uint64_t endEvent = 0;             // connection's event stream
    std::uint32_t skippedFirst = 0;         // kind == Skipped: the requests folded in
    std::uint32_t skippedLast = 0;

    std::uint64_t liveBytes() const { return sessionBytes + requestBytes; }
};

// Rows of the order diagram, top to bottom (the canonical order, framed by the connection).
enum class DiagramSlot : std::uint8_t {
    ConnectionOpen,
    RequestBegin,
    ReadRawData,
    PreprocHeaders,
    UrlMap,
    Authentication,
    AuthComplete,
    AccessDenied,
    BodyRead,
    SendResponse,
    SendRawData,
    EndOfRequest,
    Log,
    RequestEnd,
    EndOfNetSession,
    SessionClose,
    // The rows of captures without notifications (with ConnectionOpen, RequestBegin,
    // RequestEnd and SessionClose).
    Processing,      // the request allocates (and frees) as it runs
    BetweenRequests, // the keep-alive connection waits for the next request
};
inline constexpr int kDiagramSlotCount = 18;
DiagramSlot diagramSlot(const TeachingStep& step);
// The diagram's rows for a lesson, top to bottom; those from RequestBegin to RequestEnd sit
// in the request's frame.
const std::vector<DiagramSlot>& diagramRows(LessonServer server);

struct TeachingScript {
    QString title; // "Built-in example: …" or "Session 3 (10.0.0.7:51234)"
    QString note;  // e.g. that the capture has no notifications, or was cut short
    std::uint64_t session = 0;
    bool fromTrace = false;
    bool hasNotifications = false;
    LessonServer server = LessonServer::Isapi;
    bool complete = false; // the connection's close is part of the script
    std::uint32_t requestsShown = 0;
    std::uint32_t requestsTotal = 0;
    std::uint64_t events = 0;
    std::uint64_t peakBytes = 0; // the largest liveBytes() of any step
    std::vector<TeachingStep> steps;
    std::vector<OrderViolation> violations; // positions in the connection's events

    // A step in the middle of the lesson where both scopes hold memory (for screenshots):
    // the last such step of the middle request shown, else the middle step.
    int showcaseStep() const;
    // The first step with a violation, or -1.
    int firstViolationStep() const;
};

struct ScriptOptions {
    std::uint32_t maxRequests = 3; // requests shown step by step; later ones are folded
    // A connection is read up to this many events (a lesson, not a full scan of a giant
    // connection); the script then says it was cut short.
    std::uint64_t maxEvents = 2'000'000;
};

// Builds a script from one connection's events, in stream order, one event at a time.
class ScriptBuilder {
public:
    explicit ScriptBuilder(ScriptOptions options = {});
    ~ScriptBuilder();
    ScriptBuilder(const ScriptBuilder&) = delete;
    ScriptBuilder& operator=(const ScriptBuilder&) = delete;
    // False once the event limit is reached (stop feeding).
    bool add(const Event& event);
    TeachingScript finish();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

TeachingScript buildScript(const std::vector<Event>& events, const ScriptOptions& options = {});

// The script of one session of a trace. Throws data::TraceError.
TeachingScript traceScript(const data::TraceReader& reader, std::uint64_t session,
                           const ScriptOptions& options = {});

} // namespace memlife::ui
