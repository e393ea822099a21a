#include "teaching/teachingscript.hpp"

#include <QCoreApplication>
#include <QStringList>

#include <algorithm>
#include <array>

#include "memlife/data/reader.hpp"

namespace memlife::ui {

namespace {

QString tr(const char* text) {
    return QCoreApplication::translate("memlife::ui::Teaching", text);
}

QString noNotificationsNote(LessonServer server) {
    if (server == LessonServer::Nginx)
        return tr("An nginx capture: nginx has no ISAPI notifications, so the steps are its "
                  "own: the connection pool (c->pool) at accept, each request's pool (r->pool) "
                  "as it fills and at \"http close request\", the keep-alive hand-off between "
                  "requests, and the close.");
    return tr("This capture has no ISAPI notifications: the steps are the requests' begins "
              "and ends, the points where allocating turns into freeing, and the connection's "
              "close.");
}

std::uint64_t minus(std::uint64_t bytes, std::uint64_t released) {
    return bytes > released ? bytes - released : 0;
}

} // namespace

DiagramSlot diagramSlot(const TeachingStep& step) {
    switch (step.kind) {
    case StepKind::SessionOpen:
        return DiagramSlot::ConnectionOpen;
    case StepKind::RequestBegin:
    case StepKind::Skipped:
        return DiagramSlot::RequestBegin;
    case StepKind::RequestEnd:
        return DiagramSlot::RequestEnd;
    case StepKind::SessionClose:
        return DiagramSlot::SessionClose;
    case StepKind::Allocations:
    case StepKind::Frees:
        return step.request != 0 ? DiagramSlot::Processing : DiagramSlot::BetweenRequests;
    case StepKind::Notification:
        break;
    }
    switch (step.notification) {
    case Notification::ReadRawData:
        return step.bodyRead ? DiagramSlot::BodyRead : DiagramSlot::ReadRawData;
    case Notification::PreprocHeaders:
        return DiagramSlot::PreprocHeaders;
    case Notification::UrlMap:
        return DiagramSlot::UrlMap;
    case Notification::Authentication:
        return DiagramSlot::Authentication;
    case Notification::AuthComplete:
        return DiagramSlot::AuthComplete;
    case Notification::AccessDenied:
        return DiagramSlot::AccessDenied;
    case Notification::SendResponse:
        return DiagramSlot::SendResponse;
    case Notification::SendRawData:
        return DiagramSlot::SendRawData;
    case Notification::EndOfRequest:
        return DiagramSlot::EndOfRequest;
    case Notification::Log:
        return DiagramSlot::Log;
    case Notification::EndOfNetSession:
        return DiagramSlot::EndOfNetSession;
    case Notification::None:
        break;
    }
    return DiagramSlot::RequestBegin;
}

const std::vector<DiagramSlot>& diagramRows(LessonServer server) {
    using S = DiagramSlot;
    static const std::vector<DiagramSlot> isapi = {
        S::ConnectionOpen, S::RequestBegin, S::ReadRawData,  S::PreprocHeaders, S::UrlMap,
        S::Authentication, S::AuthComplete, S::AccessDenied, S::BodyRead,       S::SendResponse,
        S::SendRawData,    S::EndOfRequest, S::Log,          S::RequestEnd,     S::EndOfNetSession,
        S::SessionClose};
    static const std::vector<DiagramSlot> plain = {S::ConnectionOpen,  S::RequestBegin,
                                                   S::Processing,      S::RequestEnd,
                                                   S::BetweenRequests, S::SessionClose};
    return server == LessonServer::Isapi ? isapi : plain;
}

int TeachingScript::showcaseStep() const {
    if (steps.empty()) return 0;
    const std::uint32_t middle = (requestsShown + 1) / 2;
    int any = -1;
    for (int i = int(steps.size()) - 1; i >= 0; --i) {
        const TeachingStep& s = steps[std::size_t(i)];
        if (s.sessionBytes == 0 || s.requestBytes == 0) continue;
        if (s.request == middle) return i;
        if (any < 0 || s.request >= middle) any = i;
    }
    return any >= 0 ? any : int(steps.size()) / 2;
}

int TeachingScript::firstViolationStep() const {
    for (std::size_t i = 0; i < steps.size(); ++i)
        if (!steps[i].violations.empty()) return int(i);
    return -1;
}

// ---------------------------------------------------------------- ScriptBuilder

struct ScriptBuilder::Impl {
    ScriptOptions options;
    TeachingScript script;
    OrderChecker checker;
    std::uint64_t position = 0;
    std::uint64_t sessionBytes = 0, requestBytes = 0;
    std::uint32_t request = 0;
    bool pastHeaders = false; // a notification other than READ_RAW_DATA ran in this request
    std::array<std::uint32_t, kNotificationCount> repeats{};
    bool folding = false; // inside requests past the lesson's limit
    bool stopped = false;

    TeachingStep& open(StepKind kind, std::uint64_t at) {
        if (!script.steps.empty()) script.steps.back().endEvent = at;
        TeachingStep& step = script.steps.emplace_back();
        step.kind = kind;
        step.request = request;
        step.firstEvent = at;
        return step;
    }
    TeachingStep& current(std::uint64_t at) {
        return script.steps.empty() ? open(StepKind::SessionOpen, at) : script.steps.back();
    }
    // Without notifications a step ends where allocating turns into freeing or back: a run
    // of allocations or of frees (Allocations, Frees) continues the current step when it is
    // of the same kind (or the request's or connection's first allocations), else opens one.
    // With notifications the steps are the notifications: the current one.
    TeachingStep& runStep(StepKind run, std::uint64_t at) {
        if (script.hasNotifications || folding || script.steps.empty()) return current(at);
        const StepKind now = script.steps.back().kind;
        const bool same =
            now == run || (run == StepKind::Allocations &&
                           (now == StepKind::SessionOpen || now == StepKind::RequestBegin));
        return same ? script.steps.back() : open(run, at);
    }
    // A request's end or the connection's close: the frees just before it are the scope's
    // release (nginx destroys a pool with one free per block), so a run of frees becomes it.
    TeachingStep& closingStep(StepKind kind, std::uint64_t at) {
        if (!script.hasNotifications && !script.steps.empty() &&
            script.steps.back().kind == StepKind::Frees) {
            TeachingStep& step = script.steps.back();
            step.kind = kind;
            step.request = request;
            return step;
        }
        return open(kind, at);
    }

    void apply(const Event& e, std::uint64_t at) {
        switch (e.kind) {
        case EventKind::SessionOpen:
            open(StepKind::SessionOpen, at);
            return;
        case EventKind::RequestBegin:
            request = e.request;
            pastHeaders = false;
            repeats = {};
            script.requestsTotal = std::max(script.requestsTotal, e.request);
            if (e.request > options.maxRequests) {
                if (!folding) open(StepKind::Skipped, at).skippedFirst = e.request;
                folding = true;
                current(at).skippedLast = e.request;
                current(at).request = e.request;
            } else {
                folding = false;
                open(StepKind::RequestBegin, at);
                ++script.requestsShown;
            }
            return;
        case EventKind::Notification: {
            const Notification n = e.notification;
            if (n == Notification::None) return;
            script.hasNotifications = true;
            if (n == Notification::EndOfNetSession) {
                folding = false;
                request = 0;
            }
            const auto index = static_cast<std::size_t>(n);
            const std::uint32_t repeat = index < repeats.size() ? repeats[index]++ : 0;
            const bool bodyRead = n == Notification::ReadRawData && pastHeaders;
            if (n != Notification::ReadRawData) pastHeaders = true;
            if (folding) return;
            TeachingStep& step = open(StepKind::Notification, at);
            step.notification = n;
            step.bodyRead = bodyRead;
            step.repeat = repeat;
            step.status = e.flags;
            return;
        }
        case EventKind::Alloc: {
            (e.scope == Scope::Request ? requestBytes : sessionBytes) += e.size;
            TeachingStep& step = runStep(StepKind::Allocations, at);
            ++step.allocationCount;
            step.allocatedBytes += e.size;
            if (step.allocations.size() < TeachingStep::kListedAllocations)
                step.allocations.push_back(
                    {e.block, e.size, e.scope, static_cast<AllocOrigin>(e.flags)});
            return;
        }
        case EventKind::Release: {
            std::uint64_t& bytes = e.scope == Scope::Request ? requestBytes : sessionBytes;
            bytes = minus(bytes, e.size);
            runStep(StepKind::Frees, at).releasedBytes += e.size;
            return;
        }
        case EventKind::RequestEnd: {
            TeachingStep& step = folding ? current(at) : closingStep(StepKind::RequestEnd, at);
            requestBytes = minus(requestBytes, e.size);
            step.releasedBytes += e.size;
            request = 0;
            return;
        }
        case EventKind::SessionClose: {
            folding = false;
            request = 0;
            TeachingStep& step = closingStep(StepKind::SessionClose, at);
            step.releasedBytes += sessionBytes + requestBytes;
            sessionBytes = requestBytes = 0;
            script.complete = true;
            return;
        }
        case EventKind::Corruption:
            ++current(at).corruptions;
            return;
        case EventKind::Leak:
            ++current(at).leaks;
            return;
        case EventKind::Drop:
            return;
        }
    }
};

ScriptBuilder::ScriptBuilder(ScriptOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = options;
}

ScriptBuilder::~ScriptBuilder() = default;

bool ScriptBuilder::add(const Event& event) {
    Impl& d = *impl_;
    if (d.stopped) return false;
    if (d.script.session == 0) d.script.session = event.session;
    const std::size_t violationsBefore = d.checker.violations().size();
    d.checker.check(event);
    const std::uint64_t at = d.position++;
    d.apply(event, at);
    TeachingStep& step = d.current(at);
    step.sessionBytes = d.sessionBytes;
    step.requestBytes = d.requestBytes;
    step.peakSessionBytes = std::max(step.peakSessionBytes, d.sessionBytes);
    step.peakRequestBytes = std::max(step.peakRequestBytes, d.requestBytes);
    d.script.peakBytes = std::max(d.script.peakBytes, d.sessionBytes + d.requestBytes);
    const auto& violations = d.checker.violations();
    for (std::size_t i = violationsBefore; i < violations.size(); ++i)
        step.violations.push_back(violations[i]);
    if (d.position >= d.options.maxEvents) d.stopped = true;
    return !d.stopped;
}

TeachingScript ScriptBuilder::finish() {
    Impl& d = *impl_;
    TeachingScript script = std::move(d.script);
    if (!script.steps.empty()) script.steps.back().endEvent = d.position;
    script.events = d.position;
    script.violations = d.checker.violations();
    script.server = script.hasNotifications ? LessonServer::Isapi : LessonServer::Plain;
    // With notifications, READ_RAW_DATA follows RequestBegin at once: one step says it all.
    if (script.hasNotifications) {
        std::vector<TeachingStep> merged;
        merged.reserve(script.steps.size());
        for (std::size_t i = 0; i < script.steps.size(); ++i) {
            TeachingStep& step = script.steps[i];
            if (step.kind != StepKind::RequestBegin || i + 1 == script.steps.size() ||
                script.steps[i + 1].kind != StepKind::Notification) {
                merged.push_back(std::move(step));
                continue;
            }
            TeachingStep& next = script.steps[i + 1];
            next.firstEvent = step.firstEvent;
            next.allocations.insert(next.allocations.begin(), step.allocations.begin(),
                                    step.allocations.end());
            if (next.allocations.size() > TeachingStep::kListedAllocations)
                next.allocations.resize(TeachingStep::kListedAllocations);
            next.allocationCount += step.allocationCount;
            next.allocatedBytes += step.allocatedBytes;
            next.releasedBytes += step.releasedBytes;
            next.peakSessionBytes = std::max(next.peakSessionBytes, step.peakSessionBytes);
            next.peakRequestBytes = std::max(next.peakRequestBytes, step.peakRequestBytes);
            next.corruptions += step.corruptions;
            next.leaks += step.leaks;
            next.violations.insert(next.violations.begin(), step.violations.begin(),
                                   step.violations.end());
        }
        script.steps = std::move(merged);
    }
    QStringList notes;
    if (!script.hasNotifications && !script.steps.empty())
        notes << noNotificationsNote(LessonServer::Plain);
    if (script.requestsTotal == script.requestsShown + 1 && script.requestsShown > 0)
        notes << tr("Request %1 is folded into one step (its memory is still counted).")
                     .arg(script.requestsTotal);
    else if (script.requestsTotal > script.requestsShown && script.requestsShown > 0)
        notes << tr("Requests %1–%2 are folded into one step (their memory is still counted).")
                     .arg(script.requestsShown + 1)
                     .arg(script.requestsTotal);
    if (d.stopped)
        notes << tr("The connection was read up to %1 events; its end is not shown.")
                     .arg(d.options.maxEvents);
    script.note = notes.join(QLatin1Char(' '));
    return script;
}

TeachingScript buildScript(const std::vector<Event>& events, const ScriptOptions& options) {
    ScriptBuilder builder(options);
    for (const Event& e : events)
        if (!builder.add(e)) break;
    return builder.finish();
}

TeachingScript traceScript(const data::TraceReader& reader, std::uint64_t session,
                           const ScriptOptions& options) {
    const std::optional<data::SessionRow> row = reader.session(session);
    if (!row)
        throw data::TraceError(data::TraceError::Kind::Usage, reader.path(),
                               "no session " + std::to_string(session));
    ScriptBuilder builder(options);
    reader.for_each_event([&](const Event& e) { return builder.add(e); }, session);
    TeachingScript script = builder.finish();
    script.fromTrace = true;
    script.session = session;
    script.requestsTotal = std::max(script.requestsTotal, row->requests);
    script.title = tr("Session %1 (%2) of the loaded trace: %3 request(s)")
                       .arg(session)
                       .arg(QString::fromStdString(row->peer))
                       .arg(row->requests);
    if (!script.hasNotifications && reader.info().source == "nginx") {
        script.server = LessonServer::Nginx;
        script.note.replace(noNotificationsNote(LessonServer::Plain),
                            noNotificationsNote(LessonServer::Nginx));
    }
    return script;
}

} // namespace memlife::ui
