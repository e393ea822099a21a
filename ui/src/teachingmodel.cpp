#include "memlife/ui/teachingmodel.hpp"

#include <QCoreApplication>
#include <QTimer>

#include <algorithm>
#include <array>
#include <cstring>

#include "memlife/data/reader.hpp"
#include "memlife/filter_host.hpp"
#include "memlife/session.hpp"

namespace memlife::ui {

namespace {

QString tr(const char* text) {
    return QCoreApplication::translate("memlife::ui::Teaching", text);
}

QString noNotificationsNote(const QString& source) {
    const QString from = source.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(source);
    return tr("This capture%1 has no ISAPI notifications: the steps are the requests' begins "
              "and ends and the connection's close.")
        .arg(from);
}

std::uint64_t minus(std::uint64_t bytes, std::uint64_t released) {
    return bytes > released ? bytes - released : 0;
}

// Collects the example's events; the example runs on one thread, so no lock.
class CapturingSink : public EventSink {
public:
    void on_event(const Event& event) noexcept override {
        try {
            events.push_back(event);
        } catch (...) { // on_event must not throw; a lost event only shortens the lesson
        }
    }
    std::vector<Event> events;
};

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
            TeachingStep& step = current(at);
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
            current(at).releasedBytes += e.size;
            return;
        }
        case EventKind::RequestEnd: {
            TeachingStep& step = folding ? current(at) : open(StepKind::RequestEnd, at);
            requestBytes = minus(requestBytes, e.size);
            step.releasedBytes += e.size;
            request = 0;
            return;
        }
        case EventKind::SessionClose: {
            folding = false;
            request = 0;
            TeachingStep& step = open(StepKind::SessionClose, at);
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
    if (!script.hasNotifications && !script.steps.empty()) notes << noNotificationsNote({});
    if (script.requestsTotal > script.requestsShown && script.requestsShown > 0)
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

// ---------------------------------------------------------------- the example

RequestShape Example::shape() {
    RequestShape shape;
    shape.raw_reads = 1;
    shape.url_maps = 2;
    shape.authentication = true;
    shape.body_reads = 0;
    shape.raw_sends = 2;
    return shape;
}

std::vector<Event> exampleEvents(ExampleMemory memory, std::uint32_t requests) {
    CapturingSink sink;
    {
        Runtime runtime(Config{}, &sink);
        FilterHost host(runtime);
        const std::uint32_t wanted = ML_NOTIFY_AUTHENTICATION | ML_NOTIFY_URL_MAP |
                                     ML_NOTIFY_SEND_RESPONSE | ML_FILTER_ORDER_DEFAULT;
        host.add_filter("url-copy", wanted, [memory](FilterContext& ctx) {
            switch (ctx.notification) {
            case Notification::Authentication: // valid for the whole connection: AllocMem
                ctx.connection_context = ctx.session.alloc_mem(Example::kUserNameBytes);
                break;
            case Notification::UrlMap: {
                auto* copy =
                    static_cast<char*>(memory == ExampleMemory::Session
                                           ? ctx.session.alloc_mem(Example::kUrlCopyBytes)
                                           : ctx.session.alloc_request(Example::kUrlCopyBytes));
                if (copy && ctx.http) {
                    const std::size_t n =
                        std::min<std::size_t>(ctx.http->url.size(), Example::kUrlCopyBytes - 1);
                    std::memcpy(copy, ctx.http->url.data(), n);
                    copy[n] = '\0';
                }
                break;
            }
            case Notification::SendResponse:
                ctx.session.alloc_request(Example::kScratchBytes);
                break;
            default:
                break;
            }
            return FilterStatus::NextNotification;
        });
        host.set_handler([](const Request& request, Response& response) {
            response.body = "content of " + request.url + "\n";
        });
        Session* session = host.open_session("192.0.2.10:50000");
        if (session == nullptr) return {};
        const RequestShape shape = Example::shape();
        static const char* const urls[] = {"/index.html", "/style.css", "/logo.png"};
        for (std::uint32_t i = 0; i < requests; ++i) {
            Request request;
            request.url = urls[i % 3];
            request.raw = "GET " + request.url + " HTTP/1.1\r\nHost: example.test\r\n\r\n";
            request.raw_reads = shape.raw_reads;
            request.url_maps = shape.url_maps;
            request.body_reads = shape.body_reads;
            request.raw_sends = shape.raw_sends;
            host.run_request(*session, request);
        }
        host.end_session(*session);
    }
    return std::move(sink.events);
}

TeachingScript exampleScript(ExampleMemory memory) {
    TeachingScript script = buildScript(exampleEvents(memory));
    script.title =
        memory == ExampleMemory::Session
            ? tr("Built-in example: %1 keep-alive requests; the filter copies the URL with "
                 "AllocMem (connection memory)")
                  .arg(Example::kRequests)
            : tr("Built-in example, what if: the filter copies the URL with request memory");
    return script;
}

std::vector<std::uint64_t> liveBytesAtRequestEnds(const std::vector<Event>& events) {
    ScriptOptions everything;
    everything.maxRequests = UINT32_MAX;
    everything.maxEvents = UINT64_MAX;
    std::vector<std::uint64_t> ends;
    for (const TeachingStep& step : buildScript(events, everything).steps)
        if (step.kind == StepKind::RequestEnd) ends.push_back(step.liveBytes());
    return ends;
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
    if (!script.hasNotifications)
        script.note.replace(noNotificationsNote({}),
                            noNotificationsNote(QString::fromStdString(reader.info().source)));
    return script;
}

// ---------------------------------------------------------------- TeachingModel

TeachingModel::TeachingModel(QObject* parent) : QObject(parent), timer_(new QTimer(this)) {
    timer_->setInterval(kDefaultIntervalMs);
    connect(timer_, &QTimer::timeout, this, [this] {
        if (!stepForward()) pause();
    });
    script_ = exampleScript(ExampleMemory::Session);
}

void TeachingModel::setScript(TeachingScript script) {
    pause();
    script_ = std::move(script);
    step_ = 0;
    Q_EMIT scriptChanged();
    Q_EMIT stepChanged(step_);
}

const TeachingStep* TeachingModel::current() const {
    if (step_ < 0 || step_ >= stepCount()) return nullptr;
    return &script_.steps[std::size_t(step_)];
}

void TeachingModel::setStep(int step) {
    step = std::clamp(step, 0, std::max(0, stepCount() - 1));
    if (step == step_) return;
    step_ = step;
    Q_EMIT stepChanged(step_);
}

bool TeachingModel::stepForward() {
    if (step_ + 1 >= stepCount()) return false;
    setStep(step_ + 1);
    return true;
}

bool TeachingModel::stepBack() {
    if (step_ <= 0) return false;
    setStep(step_ - 1);
    return true;
}

void TeachingModel::reset() {
    pause();
    setStep(0);
}

void TeachingModel::play() {
    if (isPlaying()) return;
    if (step_ + 1 >= stepCount()) setStep(0); // play from the end starts over
    timer_->start();
    Q_EMIT playingChanged(true);
}

void TeachingModel::pause() {
    if (!isPlaying()) return;
    timer_->stop();
    Q_EMIT playingChanged(false);
}

void TeachingModel::togglePlay() {
    if (isPlaying())
        pause();
    else
        play();
}

bool TeachingModel::isPlaying() const {
    return timer_->isActive();
}

void TeachingModel::setInterval(int ms) {
    timer_->setInterval(std::max(10, ms));
}

int TeachingModel::interval() const {
    return timer_->interval();
}

void TeachingModel::showExample() {
    setScript(exampleScript(whatIf_ ? ExampleMemory::Request : ExampleMemory::Session));
}

void TeachingModel::setWhatIf(bool on) {
    const bool changed = on != whatIf_;
    whatIf_ = on;
    showExample();
    if (changed) Q_EMIT whatIfChanged(on);
}

const std::vector<std::uint64_t>& TeachingModel::sessionMemoryGrowth() const {
    if (sessionGrowth_.empty())
        sessionGrowth_ =
            liveBytesAtRequestEnds(exampleEvents(ExampleMemory::Session, Example::kWhatIfRequests));
    return sessionGrowth_;
}

const std::vector<std::uint64_t>& TeachingModel::requestMemoryGrowth() const {
    if (requestGrowth_.empty())
        requestGrowth_ =
            liveBytesAtRequestEnds(exampleEvents(ExampleMemory::Request, Example::kWhatIfRequests));
    return requestGrowth_;
}

} // namespace memlife::ui
