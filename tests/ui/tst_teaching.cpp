// The teaching view: the built-in example steps through the canonical notification order;
// the live bytes by scope at each step match the trace the same example records; a trace
// with an order violation shows it at the right step, in the model and in the view; the
// what-if gives a rising and a flat growth line; captures without notifications and long
// connections still make a lesson; --view teaching --screenshot needs no trace.
#include <QCheckBox>
#include <QImage>
#include <QLabel>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTextDocument>
#include <QtTest>

#include <QBarSet>
#include <QLineSeries>

#include "memlife/data/import.hpp"
#include "memlife/data/reader.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "style/format.hpp"
#include "style/style.hpp"
#include "teaching/teachingdiagram.hpp"
#include "teaching/teachinggrowthchart.hpp"
#include "teaching/teachingmodel.hpp"
#include "teaching/teachingpage.hpp"
#include "teaching/teachingscopechart.hpp"
#include "teaching/teachingtexts.hpp"
#include "trace_fixture.hpp"
#include "window/mainwindow.hpp"
#include "window/tracedocument.hpp"

using namespace memlife;
using namespace memlife::ui;

namespace {

// Writes events to a trace through the real Recorder (SessionOpen with its peer).
void record(const std::string& path, const std::vector<Event>& events) {
    data::Recorder recorder(path);
    for (const Event& e : events) {
        if (e.kind == EventKind::SessionOpen)
            recorder.on_session_open(e, "192.0.2.10:50000");
        else
            recorder.on_event(e);
    }
    recorder.commit();
}

std::vector<Notification> notificationsOf(const TeachingScript& script) {
    std::vector<Notification> out;
    for (const TeachingStep& s : script.steps)
        if (s.kind == StepKind::Notification) out.push_back(s.notification);
    return out;
}

// One request whose SEND_RESPONSE comes after END_OF_REQUEST (rule
// send-response-after-end-of-request), then END_OF_NET_SESSION.
std::vector<Event> eventsWithViolation() {
    std::vector<Event> events;
    std::uint64_t t = 1000;
    auto add = [&](EventKind kind, Notification n = Notification::None, std::uint32_t request = 1,
                   std::uint64_t size = 0, Scope scope = Scope::Session) {
        Event e;
        e.time_ns = t += 1000;
        e.session = 7;
        e.kind = kind;
        e.notification = n;
        e.request = request;
        e.size = size;
        e.scope = scope;
        if (kind == EventKind::Alloc) {
            e.block = events.size();
            e.flags = std::uint8_t(scope == Scope::Request ? AllocOrigin::AllocRequest
                                                           : AllocOrigin::AllocMem);
        }
        events.push_back(e);
    };
    add(EventKind::SessionOpen, Notification::None, 0);
    add(EventKind::RequestBegin);
    for (Notification n :
         {Notification::ReadRawData, Notification::PreprocHeaders, Notification::UrlMap})
        add(EventKind::Notification, n);
    add(EventKind::Alloc, Notification::UrlMap, 1, 300, Scope::Session);
    add(EventKind::Notification, Notification::AuthComplete);
    add(EventKind::Alloc, Notification::AuthComplete, 1, 2000, Scope::Request);
    // The handler's SEND_RESPONSE comes too late: after END_OF_REQUEST.
    for (Notification n : {Notification::SendRawData, Notification::EndOfRequest,
                           Notification::SendResponse, Notification::Log})
        add(EventKind::Notification, n);
    add(EventKind::RequestEnd, Notification::Log, 1, 2000, Scope::Request);
    add(EventKind::Notification, Notification::EndOfNetSession, 0);
    add(EventKind::SessionClose, Notification::EndOfNetSession, 0, 300);
    return events;
}

} // namespace

class TestTeaching : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void exampleVisitsTheCanonicalOrder();
    void scopeTotalsFollowTheLesson();
    void scopeTotalsMatchTheRecordedTrace();
    void violationInTheModel();
    void violationInTheView();
    void whatIfGrowthLines();
    void whatIfInTheView();
    void captureWithoutNotifications();
    void nginxCaptureInItsOwnWords();
    void foldedStepDoesNotSquashTheLesson();
    void iconsFollowThePalette();
    void longConnectionIsFolded();
    void playAndKeyboard();
    void screenshotWithoutTrace_data();
    void screenshotWithoutTrace();
    void screenshotBadStep();

private:
    QTemporaryDir dir_;
};

void TestTeaching::initTestCase() {
    QVERIFY(dir_.isValid());
}

void TestTeaching::exampleVisitsTheCanonicalOrder() {
    const std::vector<Notification> expected =
        canonical_connection_order(Example::kRequests, /*keep_alive=*/true, Example::shape());

    // Stepping with the player, as the Step button does.
    TeachingModel model;
    QVERIFY(!model.script().fromTrace);
    model.reset();
    std::vector<Notification> visited;
    std::vector<StepKind> kinds;
    do {
        const TeachingStep* step = model.current();
        QVERIFY(step);
        kinds.push_back(step->kind);
        if (step->kind == StepKind::Notification) visited.push_back(step->notification);
    } while (model.stepForward());
    QCOMPARE(model.step(), model.stepCount() - 1);
    QVERIFY(visited == expected);
    // The what-if variant runs the same notifications; only its allocator differs.
    QVERIFY(notificationsOf(exampleScript(ExampleMemory::Request)) == expected);

    // The connection frames the requests: open first, close last, each request's memory
    // released right after its LOG, and END_OF_NET_SESSION before the close.
    QCOMPARE(kinds.front(), StepKind::SessionOpen);
    QCOMPARE(kinds.back(), StepKind::SessionClose);
    const auto& steps = model.script().steps;
    int requestEnds = 0;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        if (steps[i].kind != StepKind::RequestEnd) continue;
        ++requestEnds;
        QCOMPARE(steps[i - 1].notification, Notification::Log);
        QCOMPARE(steps[i].request, std::uint32_t(requestEnds));
    }
    QCOMPARE(requestEnds, int(Example::kRequests));
    QCOMPARE(steps[steps.size() - 2].notification, Notification::EndOfNetSession);
    QVERIFY(model.script().violations.empty());

    // And back again.
    while (model.stepBack()) {
    }
    QCOMPARE(model.step(), 0);
}

// Expected totals from the demo filter's rules, not from the events: AllocMem 128 at
// AUTHENTICATION (1st request), 256 per URL_MAP (AllocMem), 4096 request memory at
// SEND_RESPONSE, released at each request end; all of it gone at the close.
void TestTeaching::scopeTotalsFollowTheLesson() {
    const TeachingScript script = exampleScript(ExampleMemory::Session);
    std::uint64_t session = 0, request = 0, previousSession = 0;
    bool endOfNetSession = false;
    for (const TeachingStep& step : script.steps) {
        if (step.kind == StepKind::Notification) {
            switch (step.notification) {
            case Notification::Authentication:
                session += Example::kUserNameBytes;
                break;
            case Notification::UrlMap:
                session += Example::kUrlCopyBytes;
                break;
            case Notification::SendResponse:
                request += Example::kScratchBytes;
                break;
            case Notification::EndOfNetSession:
                endOfNetSession = true;
                break;
            default:
                break;
            }
        } else if (step.kind == StepKind::RequestEnd) {
            request = 0;
        } else if (step.kind == StepKind::SessionClose) {
            session = request = 0;
        }
        QCOMPARE(step.sessionBytes, session);
        QCOMPARE(step.requestBytes, request);
        if (step.kind == StepKind::RequestEnd) {
            QCOMPARE(step.requestBytes, std::uint64_t(0));
            QCOMPARE(step.releasedBytes, std::uint64_t(Example::kScratchBytes));
        }
        // Connection memory only grows until the connection closes.
        if (step.kind != StepKind::SessionClose) QVERIFY(step.sessionBytes >= previousSession);
        previousSession = step.sessionBytes;
    }
    QVERIFY(endOfNetSession);
    QCOMPARE(script.steps.back().kind, StepKind::SessionClose);
    QCOMPARE(
        script.steps.back().releasedBytes,
        std::uint64_t(Example::kUserNameBytes +
                      Example::kRequests * Example::shape().url_maps * Example::kUrlCopyBytes));
    // The allocation is listed at the step that made it, with its origin.
    for (const TeachingStep& step : script.steps)
        if (step.notification == Notification::UrlMap) {
            QCOMPARE(step.allocations.size(), std::size_t(1));
            QCOMPARE(step.allocations.front().origin, AllocOrigin::AllocMem);
            QCOMPARE(step.allocations.front().scope, Scope::Session);
        }
}

// The same example, recorded to a trace file and read back: the same lesson, and its
// totals agree with the trace's own summary tables.
void TestTeaching::scopeTotalsMatchTheRecordedTrace() {
    const std::vector<Event> events = exampleEvents(ExampleMemory::Session);
    const std::string path = dir_.filePath(QStringLiteral("example.memlife")).toStdString();
    record(path, events);
    data::TraceReader reader(path);
    const auto sessions = reader.sessions();
    QCOMPARE(sessions.size(), std::size_t(1));
    const data::SessionRow& row = sessions.front();

    const TeachingScript fromTrace = traceScript(reader, row.id);
    const TeachingScript inMemory = buildScript(events);
    QVERIFY(fromTrace.fromTrace);
    QVERIFY(fromTrace.hasNotifications);
    QVERIFY(fromTrace.complete);
    QCOMPARE(fromTrace.steps.size(), inMemory.steps.size());
    for (std::size_t i = 0; i < fromTrace.steps.size(); ++i) {
        QCOMPARE(fromTrace.steps[i].kind, inMemory.steps[i].kind);
        QCOMPARE(fromTrace.steps[i].notification, inMemory.steps[i].notification);
        QCOMPARE(fromTrace.steps[i].sessionBytes, inMemory.steps[i].sessionBytes);
        QCOMPARE(fromTrace.steps[i].requestBytes, inMemory.steps[i].requestBytes);
    }
    QCOMPARE(fromTrace.peakBytes, row.peak_bytes);
    QCOMPARE(fromTrace.steps.back().releasedBytes, row.released_at_close_bytes);
    const auto requests = reader.requests(row.id);
    QCOMPARE(requests.size(), std::size_t(Example::kRequests));
    std::size_t next = 0;
    for (const TeachingStep& step : fromTrace.steps) {
        if (step.kind != StepKind::RequestEnd) continue;
        QVERIFY(next < requests.size());
        QCOMPARE(step.liveBytes(), requests[next].live_bytes_at_end);
        QCOMPARE(step.releasedBytes, requests[next].released_bytes);
        ++next;
    }
    QCOMPARE(next, requests.size());
    // The request-end totals are also what the growth chart of the what-if draws.
    const auto ends = liveBytesAtRequestEnds(events);
    QCOMPARE(ends.size(), requests.size());
    for (std::size_t i = 0; i < ends.size(); ++i)
        QCOMPARE(ends[i], requests[i].live_bytes_at_end);
}

void TestTeaching::violationInTheModel() {
    const TeachingScript script = buildScript(eventsWithViolation());
    QCOMPARE(script.violations.size(), std::size_t(1));
    QCOMPARE(script.violations.front().rule, std::string("send-response-after-end-of-request"));
    const int at = script.firstViolationStep();
    QVERIFY(at > 0);
    const TeachingStep& step = script.steps[std::size_t(at)];
    QCOMPARE(step.kind, StepKind::Notification);
    QCOMPARE(step.notification, Notification::SendResponse);
    QCOMPARE(script.steps[std::size_t(at - 1)].notification, Notification::EndOfRequest);
    QCOMPARE(step.violations.size(), std::size_t(1));
    // The violation is at the offending event's position in the connection's stream.
    QVERIFY(step.violations.front().position >= step.firstEvent);
    QVERIFY(step.violations.front().position < step.endEvent);
    QVERIFY(!ruleDescription(step.violations.front().rule).isEmpty());
    const QString html = stepExplanation(script, at);
    QVERIFY(html.contains(QStringLiteral("send-response-after-end-of-request")));
}

void TestTeaching::violationInTheView() {
    const QString path = dir_.filePath(QStringLiteral("violation.memlife"));
    record(path.toStdString(), eventsWithViolation());
    MainWindow window(/*persistent=*/false);
    window.resize(1400, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.setCurrentView(QStringLiteral("teaching")));
    auto* page = qobject_cast<TeachingPage*>(window.page(QStringLiteral("teaching")));
    QVERIFY(page);
    QSignalSpy loaded(&window, &MainWindow::traceLoaded);
    window.openTrace(path);
    QVERIFY(loaded.wait(10000));
    QTRY_VERIFY(page->model()->script().fromTrace);
    QCOMPARE(page->source(), TeachingPage::Source::Trace);
    QCOMPARE(page->model()->script().session, std::uint64_t(7));

    // Nothing marked before the violation happens.
    page->model()->setStep(page->model()->script().firstViolationStep() - 1);
    QVERIFY(page->diagram()->marks().empty());

    auto* next = page->findChild<QPushButton*>();
    for (QPushButton* b : page->findChildren<QPushButton*>())
        if (b->text().startsWith(QStringLiteral("Next violation"))) next = b;
    QVERIFY(next && next->isEnabled());
    next->click();
    QCOMPARE(page->model()->step(), page->model()->script().firstViolationStep());
    QCOMPARE(page->diagram()->currentSlot(), DiagramSlot::SendResponse);
    QCOMPARE(page->diagram()->marks().size(), std::size_t(1));
    QCOMPARE(page->diagram()->marks().front().slot, DiagramSlot::SendResponse);
    QCOMPARE(page->diagram()->marks().front().rule,
             QStringLiteral("send-response-after-end-of-request"));
    QVERIFY(page->explanationText().contains(QStringLiteral("send-response-after-end-of-request")));
    QCOMPARE(page->diagram()->firedCount(DiagramSlot::SendResponse), 1);
    QCOMPARE(page->diagram()->firedCount(DiagramSlot::EndOfRequest), 1);

    // The mark stays in place for the rest of the request, and is gone at the next one.
    page->model()->stepForward(); // LOG
    QCOMPARE(page->diagram()->marks().size(), std::size_t(1));
    page->model()->setStep(page->model()->stepCount() - 1); // the close
    QVERIFY(page->diagram()->marks().empty());

    // Back to the example with the source selector; the what-if also goes there.
    page->setSource(TeachingPage::Source::Example);
    QVERIFY(!page->model()->script().fromTrace);
    page->setSource(TeachingPage::Source::Trace);
    QTRY_VERIFY(page->model()->script().fromTrace);
}

void TestTeaching::whatIfGrowthLines() {
    TeachingModel model;
    const auto& session = model.sessionMemoryGrowth();
    const auto& request = model.requestMemoryGrowth();
    QCOMPARE(session.size(), std::size_t(Example::kWhatIfRequests));
    QCOMPARE(request.size(), std::size_t(Example::kWhatIfRequests));
    const std::uint64_t perRequest = Example::shape().url_maps * Example::kUrlCopyBytes;
    for (std::size_t i = 0; i < session.size(); ++i) {
        // With AllocMem each request leaves its URL copies behind...
        QCOMPARE(session[i], Example::kUserNameBytes + (i + 1) * perRequest);
        // ...with request memory only the connection's user name stays: flat.
        QCOMPARE(request[i], std::uint64_t(Example::kUserNameBytes));
    }

    QSignalSpy changed(&model, &TeachingModel::whatIfChanged);
    model.setWhatIf(true);
    QCOMPARE(changed.count(), 1);
    QVERIFY(model.whatIf());
    for (const TeachingStep& step : model.script().steps)
        if (step.notification == Notification::UrlMap) {
            QCOMPARE(step.allocations.size(), std::size_t(1));
            QCOMPARE(step.allocations.front().scope, Scope::Request);
        }
    for (const TeachingStep& step : model.script().steps)
        if (step.kind == StepKind::RequestEnd)
            QCOMPARE(step.sessionBytes, std::uint64_t(Example::kUserNameBytes));
    model.setWhatIf(false);
    QVERIFY(!model.whatIf());
    QCOMPARE(model.script().steps[std::size_t(model.script().showcaseStep())].sessionBytes > 0,
             true);
}

void TestTeaching::whatIfInTheView() {
    TraceDocument document;
    TeachingPage page(&document, nullptr);
    page.resize(1400, 860);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    QVERIFY(!page.growthChart()->isVisible());
    auto* toggle = page.findChild<QCheckBox*>(QStringLiteral("teachingWhatIf"));
    QVERIFY(toggle);
    toggle->click();
    QVERIFY(page.model()->whatIf());
    QVERIFY(page.growthChart()->isVisible());
    const QLineSeries* session = page.growthChart()->sessionLine();
    const QLineSeries* request = page.growthChart()->requestLine();
    QCOMPARE(session->count(), int(Example::kWhatIfRequests));
    QCOMPARE(request->count(), int(Example::kWhatIfRequests));
    for (int i = 1; i < session->count(); ++i) {
        QVERIFY(session->at(i).y() > session->at(i - 1).y());
        QCOMPARE(request->at(i).y(), request->at(0).y());
    }
    QCOMPARE(page.chartView(), page.growthChart());
    toggle->click();
    QVERIFY(!page.model()->whatIf());
    QVERIFY(!page.growthChart()->isVisible());

    // The scope bars show the steps up to the current one only.
    page.model()->setStep(page.model()->script().showcaseStep());
    const int step = page.model()->step();
    const TeachingStep& now = page.model()->script().steps[std::size_t(step)];
    const QBarSet* sessionBars = page.scopeChart()->sessionBars();
    const QBarSet* requestBars = page.scopeChart()->requestBars();
    QVERIFY(now.sessionBytes > 0 && now.requestBytes > 0);
    QVERIFY(sessionBars->at(step) > 0);
    QVERIFY(requestBars->at(step) > 0);
    QCOMPARE(sessionBars->at(step) / requestBars->at(step),
             double(now.sessionBytes) / double(now.requestBytes));
    QCOMPARE(sessionBars->at(step + 1), 0.0);
    QCOMPARE(requestBars->at(step + 1), 0.0);
}

// A capture with no Notification events (like an nginx import): the steps are the
// requests' begins and ends, and the view says why.
void TestTeaching::captureWithoutNotifications() {
    const std::string path = dir_.filePath(QStringLiteral("plain.memlife")).toStdString();
    std::uint64_t id = 0;
    {
        data::Recorder recorder(path);
        Runtime runtime(Config{}, &recorder);
        Session* s = runtime.open("10.1.1.1:80");
        id = s->id();
        s->alloc_mem(512); // a connection pool, before any request
        for (int i = 0; i < 2; ++i) {
            s->request_begin();
            s->alloc_request(4096);
            static char pool[1000]; // another allocator's block, freed within the request
            s->note_alloc(pool, sizeof pool, Scope::Request);
            s->note_free(pool);
            s->alloc_mem(100);
            s->request_end();
        }
        runtime.close(s);
        recorder.commit();
    }
    data::TraceReader reader(path);
    const TeachingScript script = traceScript(reader, id);
    QVERIFY(!script.hasNotifications);
    QCOMPARE(script.server, LessonServer::Plain);
    QVERIFY(script.note.contains(QStringLiteral("no ISAPI notifications")));
    std::vector<StepKind> kinds;
    for (const TeachingStep& s : script.steps)
        kinds.push_back(s.kind);
    // Each request: its begin with the allocations up to the first free, the free, the
    // allocation after it, its end.
    using K = StepKind;
    const std::vector<StepKind> expected = {
        K::SessionOpen,  K::RequestBegin, K::Frees,       K::Allocations, K::RequestEnd,
        K::RequestBegin, K::Frees,        K::Allocations, K::RequestEnd,  K::SessionClose};
    QVERIFY(kinds == expected);
    QCOMPARE(script.steps[0].sessionBytes, std::uint64_t(512));
    QCOMPARE(script.steps[1].requestBytes, std::uint64_t(5096)); // the bar shows the top
    QCOMPARE(script.steps[1].sessionBytes, std::uint64_t(512));
    QCOMPARE(script.steps[2].requestBytes, std::uint64_t(4096));
    QCOMPARE(script.steps[2].releasedBytes, std::uint64_t(1000));
    QCOMPARE(script.steps[3].sessionBytes, std::uint64_t(612));
    QCOMPARE(script.steps[4].requestBytes, std::uint64_t(0));
    QCOMPARE(script.steps[4].releasedBytes, std::uint64_t(4096));
    QCOMPARE(script.steps[8].sessionBytes, std::uint64_t(712));
    QCOMPARE(script.steps[9].releasedBytes, std::uint64_t(712));
    QCOMPARE(diagramSlot(script.steps[1]), DiagramSlot::RequestBegin);
    QCOMPARE(diagramSlot(script.steps[2]), DiagramSlot::Processing);
    QCOMPARE(diagramSlot(script.steps[3]), DiagramSlot::Processing);
    QVERIFY(script.violations.empty());
}

// An nginx import: nginx's own rows and pool names, and the request pool at its largest is
// drawn (a request's pool comes and goes between two request ends; the step before its frees
// shows it).
void TestTeaching::nginxCaptureInItsOwnWords() {
    const QString trace = dir_.filePath(QStringLiteral("nginx.memlife"));
    data::import_nginx_to_trace(MEMLIFE_SOURCE_DIR "/tests/fixtures/nginx-debug-keepalive.log",
                                trace.toStdString());
    data::TraceReader reader(trace.toStdString());
    const data::SessionRow* busiest = nullptr;
    const std::vector<data::SessionRow> sessions = reader.sessions();
    for (const data::SessionRow& s : sessions)
        if (!busiest || s.requests > busiest->requests) busiest = &s;
    QCOMPARE(busiest->requests, 3u);
    const TeachingScript script = traceScript(reader, busiest->id);
    QCOMPARE(script.server, LessonServer::Nginx);
    QVERIFY2(script.note.contains(QStringLiteral("r->pool")), qPrintable(script.note));
    std::uint64_t tallestBar = 0;
    for (const TeachingStep& step : script.steps)
        tallestBar = std::max(tallestBar, step.liveBytes());
    QCOMPARE(tallestBar, busiest->peak_bytes); // 38.8 KiB: drawn, not only mentioned
    // Every step lands on one of nginx's rows.
    const std::vector<DiagramSlot>& rows = diagramRows(LessonServer::Nginx);
    for (const TeachingStep& step : script.steps)
        QVERIFY(std::find(rows.begin(), rows.end(), diagramSlot(step)) != rows.end());
    QCOMPARE(lessonFor(DiagramSlot::RequestEnd, LessonServer::Nginx).name,
             QStringLiteral("http close request: r->pool freed"));

    // In the view: nginx's rows, no notification row, the pools named in the legend line.
    MainWindow window(/*persistent=*/false);
    window.resize(1024, 768);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QSignalSpy loaded(&window, &MainWindow::traceLoaded);
    window.openTrace(trace);
    QVERIFY(loaded.wait(10000));
    window.document()->setSelection({busiest->id});
    QVERIFY(window.setCurrentView(QStringLiteral("teaching")));
    auto* page = qobject_cast<TeachingPage*>(window.page(QStringLiteral("teaching")));
    QTRY_VERIFY_WITH_TIMEOUT(!window.isBusy(), 10000);
    QCOMPARE(page->model()->script().server, LessonServer::Nginx);
    QVERIFY(!page->diagram()->slotRect(DiagramSlot::Processing).isNull());
    QVERIFY(!page->diagram()->slotRect(DiagramSlot::BetweenRequests).isNull());
    QVERIFY(page->diagram()->slotRect(DiagramSlot::UrlMap).isNull());
    QCOMPARE(page->scopeChart()->sessionBars()->label(),
             QStringLiteral("connection pool (c->pool)"));
    const auto* scopes = page->findChild<QLabel*>(QStringLiteral("teachingScopes"));
    QTextDocument legend;
    legend.setHtml(scopes->text());
    const QString words = legend.toPlainText()
                              .replace(QChar(0x00a0), QLatin1Char(' '))
                              .replace(QChar(0x2011), QLatin1Char('-'));
    QVERIFY2(words.contains(QStringLiteral("request pool (r->pool), until http close request")),
             qPrintable(words));
    // At 1024 pixels nothing of the page is wider than the page.
    QVERIFY2(
        page->minimumSizeHint().width() <= page->width(),
        qPrintable(
            QStringLiteral("%1 > %2").arg(page->minimumSizeHint().width()).arg(page->width())));
}

// With many requests the folded step does not set the scale: the requests shown step by
// step keep readable bars, and the folded step's label says how high it goes.
void TestTeaching::foldedStepDoesNotSquashTheLesson() {
    const std::string path = dir_.filePath(QStringLiteral("long.memlife")).toStdString();
    std::uint64_t id = 0;
    {
        data::Recorder recorder(path);
        Runtime runtime(Config{}, &recorder);
        Session* s = runtime.open("10.2.2.2:80");
        id = s->id();
        for (int i = 0; i < 200; ++i) {
            s->request_begin();
            s->set_notification(Notification::UrlMap);
            s->alloc_mem(1024); // kept: 200 KiB by the end
            s->alloc_request(2048);
            s->set_notification(Notification::EndOfRequest);
            s->request_end();
        }
        runtime.close(s);
        recorder.commit();
    }
    data::TraceReader reader(path);
    const TeachingScript script = traceScript(reader, id);
    TeachingScopeChart chart;
    chart.setScript(script);
    std::uint64_t shownTop = 0, folded = 0;
    for (const TeachingStep& step : script.steps)
        (step.kind == StepKind::Skipped ? folded : shownTop) =
            std::max(step.kind == StepKind::Skipped ? folded : shownTop, step.liveBytes());
    QVERIFY(folded >= 190 * 1024);
    QVERIFY2(chart.axisTopBytes() < double(folded),
             qPrintable(QString::number(chart.axisTopBytes())));
    QVERIFY(double(shownTop) >= 0.5 * chart.axisTopBytes()); // the lesson's bars fill the chart
    QVERIFY2(chart.categoryLabels().contains(formatBytes(double(folded))),
             qPrintable(chart.categoryLabels()));
}

// The player's icons are drawn in the palette's button text colour: on the dark palette
// they are light, not black on dark grey.
void TestTeaching::iconsFollowThePalette() {
    TraceDocument document;
    TeachingPage page(&document, nullptr);
    auto lightness = [&page] {
        const auto buttons = page.findChildren<QPushButton*>();
        const auto play = std::find_if(buttons.begin(), buttons.end(), [](QPushButton* b) {
            return b->text() == QStringLiteral("Play");
        });
        const QImage image = (*play)->icon().pixmap(16, 16).toImage();
        int sum = 0, count = 0;
        for (int y = 0; y < image.height(); ++y)
            for (int x = 0; x < image.width(); ++x)
                if (qAlpha(image.pixel(x, y)) > 128)
                    sum += QColor(image.pixel(x, y)).lightness(), ++count;
        return count ? sum / count : -1;
    };
    QVERIFY(applyPalette(QStringLiteral("dark")));
    QTRY_VERIFY(lightness() > 160);
    QVERIFY(applyPalette(QStringLiteral("light")));
    QTRY_VERIFY(lightness() >= 0 && lightness() < 100);
}

// A long keep-alive connection: the first requests step by step, the rest folded into one
// step that still counts their memory, then END_OF_NET_SESSION and the close.
void TestTeaching::longConnectionIsFolded() {
    const std::string path = dir_.filePath(QStringLiteral("keepalive.memlife")).toStdString();
    const test::KeepAliveTrace ids = test::writeKeepAliveTrace(path);
    data::TraceReader reader(path);
    const TeachingScript script = traceScript(reader, ids.leaky);
    QCOMPARE(script.requestsShown, std::uint32_t(3));
    QCOMPARE(script.requestsTotal, test::KeepAliveTrace::kLeakRequests);
    QVERIFY(script.note.contains(QStringLiteral("folded")));
    const auto folded =
        std::find_if(script.steps.begin(), script.steps.end(),
                     [](const TeachingStep& s) { return s.kind == StepKind::Skipped; });
    QVERIFY(folded != script.steps.end());
    QCOMPARE(folded->skippedFirst, std::uint32_t(4));
    QCOMPARE(folded->skippedLast, test::KeepAliveTrace::kLeakRequests);
    QCOMPARE(folded->sessionBytes, std::uint64_t(test::KeepAliveTrace::kLeakRequests) *
                                       test::KeepAliveTrace::kLeakPerRequest);
    QCOMPARE(folded->requestBytes, std::uint64_t(0));
    QCOMPARE(script.steps.back().kind, StepKind::SessionClose);
    QCOMPARE(script.steps.back().releasedBytes, reader.session(ids.leaky)->released_at_close_bytes);
}

void TestTeaching::playAndKeyboard() {
    TraceDocument document;
    TeachingPage page(&document, nullptr);
    page.resize(1400, 860);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    QTRY_VERIFY(page.isActiveWindow());
    TeachingModel* model = page.model();
    QCOMPARE(model->step(), 0);
    QTest::keyClick(&page, Qt::Key_Right);
    QCOMPARE(model->step(), 1);
    QTest::keyClick(&page, Qt::Key_Left);
    QCOMPARE(model->step(), 0);

    // Play advances on its own and stops at the end; Space pauses and resumes.
    model->setInterval(10);
    QTest::keyClick(&page, Qt::Key_Space);
    QVERIFY(model->isPlaying());
    QTRY_VERIFY(model->step() > 0);
    QTest::keyClick(&page, Qt::Key_Space);
    QVERIFY(!model->isPlaying());
    const int paused = model->step();
    QTest::qWait(50);
    QCOMPARE(model->step(), paused);
    model->play();
    QTRY_VERIFY_WITH_TIMEOUT(!model->isPlaying(), 10000);
    QCOMPARE(model->step(), model->stepCount() - 1);
    model->play(); // from the end: starts over
    QVERIFY(model->isPlaying());
    QVERIFY(model->step() < model->stepCount() - 1);
    QTest::keyClick(&page, Qt::Key_Home);
    QVERIFY(!model->isPlaying());
    QCOMPARE(model->step(), 0);
}

void TestTeaching::screenshotWithoutTrace_data() {
    QTest::addColumn<QStringList>("extra");
    QTest::newRow("lesson") << QStringList{};
    QTest::newRow("what-if") << QStringList{QStringLiteral("--teaching-what-if")};
    QTest::newRow("step") << QStringList{QStringLiteral("--teaching-step"), QStringLiteral("5")};
}

void TestTeaching::screenshotWithoutTrace() {
    QFETCH(QStringList, extra);
    const QString png =
        dir_.filePath(QStringLiteral("teaching-%1.png").arg(QTest::currentDataTag()));
    QProcess gui;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    gui.setProcessEnvironment(env);
    gui.start(QStringLiteral(MEMLIFE_GUI),
              QStringList{QStringLiteral("--view"), QStringLiteral("teaching"),
                          QStringLiteral("--screenshot"), png} +
                  extra);
    QVERIFY(gui.waitForFinished(120000));
    QCOMPARE(gui.exitStatus(), QProcess::NormalExit);
    QVERIFY2(gui.exitCode() == 0, gui.readAllStandardError().constData());
    const QImage image(png);
    QVERIFY(!image.isNull());
    QCOMPARE(image.size(), QSize(1400, 900));
}

void TestTeaching::screenshotBadStep() {
    QProcess gui;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    gui.setProcessEnvironment(env);
    const QString png = dir_.filePath(QStringLiteral("bad-step.png"));
    gui.start(QStringLiteral(MEMLIFE_GUI),
              {QStringLiteral("--view"), QStringLiteral("teaching"), QStringLiteral("--screenshot"),
               png, QStringLiteral("--teaching-step"), QStringLiteral("zero")});
    QVERIFY(gui.waitForFinished(120000));
    QCOMPARE(gui.exitCode(), 2);
    QVERIFY(
        QString::fromUtf8(gui.readAllStandardError()).contains(QStringLiteral("--teaching-step")));
    QVERIFY(!QFile::exists(png));
}

QTEST_MAIN(TestTeaching)
#include "tst_teaching.moc"
