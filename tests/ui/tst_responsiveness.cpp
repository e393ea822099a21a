// The GUI thread stays responsive while charts query a 10-million-event trace: zooming
// (programmatic, wheel, keys), changing the selection and searching the event log never
// block the event loop for more than 50 ms.
//
// A timer fires every few milliseconds while the test's own actions run (never while the
// trace is made or loaded); the gap between two of its ticks is how long the event loop
// could not run it. On a shared machine a gap also contains time the GUI thread merely
// waited for a core, so a gap is charged with the CPU time the GUI thread used in it (what
// blocking is), and the wall-clock gap is printed beside it. The trace: `memlife simulate`,
// keep-alive connections of 95,000 requests each, so one session's series decodes about
// 1.2 million events and its request marks are 95,000 rows: far beyond 50 ms on the GUI
// thread. No reader may be taken on the GUI thread at all.
#include <QLineSeries>
#include <QProcess>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <QWheelEvent>
#include <QtTest>

#include <ctime>

#include "charts/livebyteschart.hpp"
#include "jobs/readerpool.hpp"
#include "memlife/data/reader.hpp"
#include "models/eventlogmodel.hpp"
#include "models/sessionsmodel.hpp"
#include "models/sessionsproxy.hpp"
#include "pages/eventspage.hpp"
#include "pages/overviewpage.hpp"
#include "window/mainwindow.hpp"
#include "window/tracedocument.hpp"

using namespace memlife;
using namespace memlife::ui;

namespace {

constexpr int kTickMs = 4;
constexpr double kMaxBlockMs = 50;
constexpr int kIdleTimeoutMs = 120'000; // a loaded machine may take long; never a pass/fail

double threadCpuMs() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

double wallMs() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

// Ticks on the event loop and records the largest gaps between ticks while running.
class GapMeter {
public:
    GapMeter() {
        timer_.setTimerType(Qt::PreciseTimer);
        timer_.setInterval(kTickMs);
        QObject::connect(&timer_, &QTimer::timeout, [this] { tick(); });
    }
    void start() {
        lastWall_ = wallMs();
        lastCpu_ = threadCpuMs();
        timer_.start();
    }
    void stop() {
        tick(); // the time since the last tick counts too
        timer_.stop();
    }
    double maxBlockedMs() const { return maxCpu_; }
    double maxWallGapMs() const { return maxWall_; }
    int ticks() const { return ticks_; }

private:
    void tick() {
        const double wall = wallMs(), cpu = threadCpuMs();
        maxWall_ = std::max(maxWall_, wall - lastWall_);
        maxCpu_ = std::max(maxCpu_, cpu - lastCpu_);
        lastWall_ = wall;
        lastCpu_ = cpu;
        ++ticks_;
    }
    QTimer timer_;
    double lastWall_ = 0, lastCpu_ = 0, maxWall_ = 0, maxCpu_ = 0;
    int ticks_ = 0;
};

} // namespace

class TestResponsiveness : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void zoomAndSelectionKeepTheEventLoopRunning();

private:
    // Runs `action`, then lets the event loop run until the window is idle, measuring.
    template <class Action> void measure(const char* what, Action action);

    QTemporaryDir dir_;
    QString path_;
    std::unique_ptr<MainWindow> window_;
    GapMeter meter_;
};

void TestResponsiveness::initTestCase() {
    QVERIFY(dir_.isValid());
    path_ = dir_.filePath(QStringLiteral("ten-million.memlife"));
    QProcess simulate;
    simulate.start(QStringLiteral(MEMLIFE_CLI),
                   {QStringLiteral("simulate"), QStringLiteral("--scenario"),
                    QStringLiteral("keepalive-leak"), QStringLiteral("--connections"),
                    QStringLiteral("8"), QStringLiteral("--requests-per-connection"),
                    QStringLiteral("95000"), QStringLiteral("--seed"), QStringLiteral("1"),
                    QStringLiteral("--threads"), QStringLiteral("2"), QStringLiteral("-o"), path_});
    QVERIFY(simulate.waitForFinished(240'000));
    QVERIFY2(simulate.exitCode() == 0, simulate.readAllStandardError().constData());
    const data::TraceInfo info = data::TraceReader(path_.toStdString()).info();
    QVERIFY2(info.events >= 9'500'000, qPrintable(QString::number(info.events)));
}

template <class Action> void TestResponsiveness::measure(const char* what, Action action) {
    const double before = meter_.maxBlockedMs();
    meter_.start();
    action();
    const bool idle = QTest::qWaitFor([&] { return !window_->isBusy(); }, kIdleTimeoutMs);
    meter_.stop();
    QVERIFY2(idle, what);
    qInfo("%s: longest block so far %.1f ms (%.1f ms before)", what, meter_.maxBlockedMs(), before);
}

void TestResponsiveness::zoomAndSelectionKeepTheEventLoopRunning() {
    window_ = std::make_unique<MainWindow>(/*persistent=*/false);
    window_->resize(1400, 900);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    QSignalSpy loaded(window_.get(), &MainWindow::traceLoaded);
    window_->openTrace(path_);
    QVERIFY(loaded.wait(kIdleTimeoutMs));
    QVERIFY(QTest::qWaitFor([&] { return !window_->isBusy(); }, kIdleTimeoutMs));

    auto* overview = qobject_cast<OverviewPage*>(window_->page(QStringLiteral("overview")));
    LiveBytesChart* chart = overview->chart();
    TraceDocument* document = window_->document();
    const TracePtr trace = document->trace();
    // The longest session: its series and its request marks are the largest reads.
    const data::SessionRow* longest = &trace->sessions.front();
    for (const data::SessionRow& s : trace->sessions)
        if (s.close_ns - s.open_ns > longest->close_ns - longest->open_ns) longest = &s;
    QVERIFY(longest->requests >= 90'000);

    measure("select the longest session", [&] {
        const int row = overview->model()->rowOf(longest->id);
        overview->table()->selectRow(
            overview->proxy()->mapFromSource(overview->model()->index(row, 0)).row());
    });
    QCOMPARE(document->selection(), std::vector<std::uint64_t>{longest->id});
    QCOMPARE(chart->requestMarkCount(), std::size_t(longest->requests));

    measure("zoom to its last millisecond",
            [&] { chart->zoomToWindow(longest->close_ns - 1'000'000, longest->close_ns); });
    QVERIFY(chart->seriesFor(longest->id)->count() > 0);
    measure("zoom to its middle tenth", [&] {
        const std::uint64_t tenth = (longest->close_ns - longest->open_ns) / 10;
        chart->zoomToWindow(longest->open_ns + 4 * tenth, longest->open_ns + 5 * tenth);
    });
    measure("wheel out and back in", [&] {
        const QPointF at = chart->rect().center();
        for (int delta : {-120, -120, -120, 120, 120}) {
            QWheelEvent wheel(at, chart->mapToGlobal(at), QPoint(), QPoint(0, delta), Qt::NoButton,
                              Qt::NoModifier, Qt::NoScrollPhase, false);
            QApplication::sendEvent(chart, &wheel);
            QTest::qWait(kTickMs * 5); // a user's wheel clicks are apart
        }
    });
    measure("keys: zoom in, pan, zoom out", [&] {
        for (Qt::Key key : {Qt::Key_Plus, Qt::Key_Right, Qt::Key_Left, Qt::Key_Minus})
            QTest::keyClick(chart, key);
    });
    measure("reset the zoom", [&] { chart->resetZoom(); });
    measure("select three sessions", [&] {
        document->setSelection(
            {trace->sessions[0].id, trace->sessions[3].id, trace->sessions[5].id});
    });
    measure("zoom the three to a second", [&] {
        chart->zoomToWindow(trace->sessions[0].open_ns + 500'000'000,
                            trace->sessions[0].open_ns + 1'500'000'000);
    });
    measure("clear the selection: the top sessions, all 10 M events",
            [&] { document->setSelection({}); });
    measure("the growth view of two sessions", [&] {
        document->setSelection({trace->sessions[1].id, trace->sessions[2].id});
        window_->setCurrentView(QStringLiteral("growth"));
    });
    // The event log's search goes through every event of the trace, in its jobs.
    auto* events = qobject_cast<EventsPage*>(window_->page(QStringLiteral("events")));
    const data::SessionRow& searched = trace->sessions[3];
    measure("search the event log of all 10 M events for one peer", [&] {
        window_->setCurrentView(QStringLiteral("events"));
        events->setSearch(QString::fromStdString(searched.peer));
    });
    QCOMPARE(std::uint64_t(events->model()->rowCount()), searched.events);
    measure("the search's rows in the middle", [&] {
        events->model()->index(events->model()->rowCount() / 2, EventLogModel::Time).data();
    });
    QVERIFY(events->model()->eventAt(events->model()->rowCount() / 2));

    qInfo("%d ticks; longest block of the GUI thread %.1f ms (CPU time between two ticks); "
          "longest wall-clock gap %.1f ms",
          meter_.ticks(), meter_.maxBlockedMs(), meter_.maxWallGapMs());
    QVERIFY2(meter_.maxBlockedMs() <= kMaxBlockMs,
             qPrintable(QStringLiteral("the GUI thread was busy for %1 ms at once")
                            .arg(meter_.maxBlockedMs())));
    QCOMPARE(ReaderPool::guiThreadUses(), std::uint64_t(0));
    window_.reset();
}

QTEST_MAIN(TestResponsiveness)
#include "tst_responsiveness.moc"
