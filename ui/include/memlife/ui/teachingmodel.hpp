// The teaching view's model: the "script" of one connection, step by step, with the live
// bytes split by scope after each step, the order violations in place, and the player that
// walks through it. Nothing here paints, so the tests drive it directly.
#pragma once

#include <QObject>
#include <QString>

#include <cstdint>
#include <memory>
#include <vector>

#include "memlife/event.hpp"
#include "memlife/notification.hpp"
#include "memlife/order_checker.hpp"

class QTimer;

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
};

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
};
inline constexpr int kDiagramSlotCount = 16;
DiagramSlot diagramSlot(const TeachingStep& step);

struct TeachingScript {
    QString title; // "Built-in example: …" or "Session 3 (10.0.0.7:51234)"
    QString note;  // e.g. that the capture has no notifications, or was cut short
    std::uint64_t session = 0;
    bool fromTrace = false;
    bool hasNotifications = false;
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

// ---- the built-in example --------------------------------------------------------------

// The demo filter copies the URL at each URL_MAP with the memory the what-if chooses, keeps
// the user name from AUTHENTICATION with AllocMem (right: it is valid for the connection)
// and takes a scratch buffer with request memory at SEND_RESPONSE.
enum class ExampleMemory : std::uint8_t { Session, Request };

struct Example {
    static constexpr std::uint32_t kRequests = 3;
    static constexpr std::uint32_t kWhatIfRequests = 10; // growth lines of the what-if
    static constexpr std::uint32_t kUserNameBytes = 128; // AllocMem at AUTHENTICATION
    static constexpr std::uint32_t kUrlCopyBytes = 256;  // at each URL_MAP
    static constexpr std::uint32_t kScratchBytes = 4096; // alloc_request at SEND_RESPONSE
    static RequestShape shape();                         // every request's shape
};

// Runs the example through a real Runtime and FilterHost; returns the connection's events.
std::vector<Event> exampleEvents(ExampleMemory memory, std::uint32_t requests = Example::kRequests);
TeachingScript exampleScript(ExampleMemory memory);

// Live bytes (both scopes) just after each request ended, request 1 first.
std::vector<std::uint64_t> liveBytesAtRequestEnds(const std::vector<Event>& events);

// The script of one session of a trace. Throws data::TraceError.
TeachingScript traceScript(const data::TraceReader& reader, std::uint64_t session,
                           const ScriptOptions& options = {});

// ---- the player ------------------------------------------------------------------------

class TeachingModel : public QObject {
    Q_OBJECT
public:
    static constexpr int kDefaultIntervalMs = 800;

    explicit TeachingModel(QObject* parent = nullptr);

    void setScript(TeachingScript script); // back to step 0, paused
    const TeachingScript& script() const { return script_; }
    int stepCount() const { return int(script_.steps.size()); }
    int step() const { return step_; }
    const TeachingStep* current() const;

    void setStep(int step); // clamped
    bool stepForward();     // false at the end
    bool stepBack();        // false at the start
    void reset();

    // Play advances one step per interval and pauses at the end.
    void play();
    void pause();
    void togglePlay();
    bool isPlaying() const;
    void setInterval(int ms);
    int interval() const;

    // What if the demo filter used request memory for its per-request copies? On: the
    // example runs with request memory; off: with AllocMem. Either way the growth lines of
    // both variants are available.
    void showExample();
    bool isExample() const { return !script_.fromTrace; }
    void setWhatIf(bool on);
    bool whatIf() const { return whatIf_; }
    // Live bytes at each request end of the example over kWhatIfRequests requests.
    const std::vector<std::uint64_t>& sessionMemoryGrowth() const;
    const std::vector<std::uint64_t>& requestMemoryGrowth() const;

Q_SIGNALS:
    void scriptChanged();
    void stepChanged(int step);
    void playingChanged(bool playing);
    void whatIfChanged(bool on);

private:
    TeachingScript script_;
    int step_ = 0;
    bool whatIf_ = false;
    QTimer* timer_;
    mutable std::vector<std::uint64_t> sessionGrowth_, requestGrowth_;
};

} // namespace memlife::ui
