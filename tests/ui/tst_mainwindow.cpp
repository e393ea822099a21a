// The window over a recorded keep-alive trace: the sessions shown, a known session's series
// (steps up per request, the drop at END_OF_NET_SESSION), the corruption marker, the growth
// slope of the keep-alive leak, the blocks and tail inspector, the event log and exports.
#include <QComboBox>
#include <QLabel>
#include <QLineSeries>
#include <QScatterSeries>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include "charts/growthchart.hpp"
#include "charts/livebyteschart.hpp"
#include "jobs/readerpool.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "models/blocksmodel.hpp"
#include "models/eventfilter.hpp"
#include "models/eventlogmodel.hpp"
#include "models/leaksuspectsmodel.hpp"
#include "models/sessionsmodel.hpp"
#include "models/sessionsproxy.hpp"
#include "pages/blockspage.hpp"
#include "pages/eventspage.hpp"
#include "pages/growthpage.hpp"
#include "pages/leakspage.hpp"
#include "pages/overviewpage.hpp"
#include "style/format.hpp"
#include "style/style.hpp"
#include "trace_fixture.hpp"
#include "window/mainwindow.hpp"
#include "window/tracedocument.hpp"

using namespace memlife;
using namespace memlife::ui;
using Trace = test::KeepAliveTrace;

class TestMainWindow : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void sessionsShown();
    void seriesOfTheLeakySession();
    void corruptionMarker();
    void topSessionsWhenNothingSelected();
    void zoomRequeriesTheWindow();
    void growthSlopeOfTheKeepAliveLeak();
    void blocksAndTailInspector();
    void leakSuspectsRanked();
    void leakSuspectsEmptyAndNarrowPeers();
    void eventLogCounts();
    void exports();
    void darkPalette();
    void windowFitsTheScreen();
    void cleanupTestCase();

private:
    template <class Page> Page* page(const char* name) {
        return qobject_cast<Page*>(window_->page(QString::fromLatin1(name)));
    }
    void waitIdle() { QTRY_VERIFY_WITH_TIMEOUT(!window_->isBusy(), 10000); }
    // Queries the chart at once and waits for its job: charts never read on the GUI thread.
    static void requery(LiveBytesChart* chart) {
        chart->requeryNow();
        QTRY_VERIFY_WITH_TIMEOUT(!chart->isPending(), 10000);
    }

    QTemporaryDir dir_;
    QString path_;
    Trace ids_;
    std::unique_ptr<MainWindow> window_;
};

void TestMainWindow::initTestCase() {
    QVERIFY(dir_.isValid());
    path_ = dir_.filePath(QStringLiteral("keepalive.memlife"));
    ids_ = test::writeKeepAliveTrace(path_.toStdString());
}

void TestMainWindow::init() {
    window_ = std::make_unique<MainWindow>(/*persistent=*/false);
    window_->resize(1400, 900);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    QSignalSpy loaded(window_.get(), &MainWindow::traceLoaded);
    window_->openTrace(path_);
    QVERIFY(loaded.wait(10000));
    QVERIFY(window_->lastError().isEmpty());
}

void TestMainWindow::cleanup() {
    window_.reset();
}

void TestMainWindow::sessionsShown() {
    auto* overview = page<OverviewPage>("overview");
    QVERIFY(overview);
    QCOMPARE(window_->currentView(), QStringLiteral("overview"));
    QCOMPARE(overview->table()->model()->rowCount(), 4);
    QStringList peers;
    for (int row = 0; row < 4; ++row)
        peers << overview->table()->model()->index(row, SessionsModel::Peer).data().toString();
    QCOMPARE(peers,
             (QStringList{QStringLiteral("10.0.0.7:51234"), QStringLiteral("10.0.0.8:40000"),
                          QStringLiteral("10.0.0.9:1234"), QStringLiteral("10.0.0.10:5555")}));
}

void TestMainWindow::seriesOfTheLeakySession() {
    auto* overview = page<OverviewPage>("overview");
    // Selecting the row in the table selects the session everywhere.
    const int row = overview->model()->rowOf(ids_.leaky);
    overview->table()->selectRow(
        overview->proxy()->mapFromSource(overview->model()->index(row, 0)).row());
    QCOMPARE(window_->document()->selection(), std::vector<std::uint64_t>{ids_.leaky});
    LiveBytesChart* chart = overview->chart();
    requery(chart);
    QLineSeries* series = chart->seriesFor(ids_.leaky);
    QVERIFY(series);
    QCOMPARE(chart->sessions().size(), std::size_t(1));

    const QList<QPointF> points = series->points();
    QVERIFY(points.size() >= 4);
    double peak = 0;
    for (int i = 0; i < points.size(); ++i) {
        peak = std::max(peak, points[i].y() * chart->yScale());
        // Steps: every other point repeats the x of the next one.
        if (i > 0 && i % 2 == 1)
            QCOMPARE(points[i].x(), points[i + 1 < points.size() ? i + 1 : i].x());
    }
    QCOMPARE(qRound64(peak),
             qint64(Trace::kLeakRequests * Trace::kLeakPerRequest + Trace::kRequestScratch));
    // The drop at END_OF_NET_SESSION: the series ends at zero.
    QCOMPARE(points.last().y(), 0.0);
    QVERIFY(points[points.size() - 2].y() > 0.0);
    // Live bytes after request k ended is k * kLeakPerRequest: the level after the 10th end.
    bool sawTenth = false;
    for (const QPointF& p : points)
        sawTenth |= qRound64(p.y() * chart->yScale()) == qint64(10 * Trace::kLeakPerRequest);
    QVERIFY(sawTenth);
    QCOMPARE(chart->requestMarkCount(), std::size_t(Trace::kLeakRequests));
    QCOMPARE(chart->corruptionMarkerCount(), 0);
}

void TestMainWindow::corruptionMarker() {
    window_->document()->setSelection({ids_.corrupt});
    LiveBytesChart* chart = page<OverviewPage>("overview")->chart();
    requery(chart);
    QCOMPARE(chart->corruptionMarkerCount(), 1);
    QCOMPARE(chart->corruptionSeries()->count(), 1);
    const QString tip = chart->corruptionToolTip(0);
    QVERIFY2(tip.contains(QStringLiteral("block")), qPrintable(tip));
    QVERIFY2(tip.contains(QStringLiteral("offset +0")), qPrintable(tip));
    QVERIFY2(tip.contains(QStringLiteral("modified")), qPrintable(tip));
    // The marker sits on the session's step, at the block's bytes.
    QCOMPARE(qRound64(chart->corruptionSeries()->at(0).y() * chart->yScale()),
             qint64(Trace::kCorruptBlockSize));
}

void TestMainWindow::topSessionsWhenNothingSelected() {
    LiveBytesChart* chart = page<OverviewPage>("overview")->chart();
    window_->document()->setSelection({});
    requery(chart);
    QCOMPARE(chart->sessions().size(), std::size_t(4));  // all 4 < the top 8
    QCOMPARE(chart->sessions().front(), ids_.leaky);     // steepest growth first
    QCOMPARE(chart->requestMarkCount(), std::size_t(0)); // marks only for a selection
    QCOMPARE(chart->corruptionMarkerCount(), 1);
}

void TestMainWindow::zoomRequeriesTheWindow() {
    window_->document()->setSelection({ids_.leaky});
    LiveBytesChart* chart = page<OverviewPage>("overview")->chart();
    requery(chart);
    const int fullPoints = chart->seriesFor(ids_.leaky)->count();
    const data::TimeWindow full = chart->visibleWindow();
    const data::SessionRow* s = window_->document()->trace()->session(ids_.leaky);
    // Zoom to the first half of the session: fewer steps, re-queried after the debounce.
    QSignalSpy requeried(chart, &LiveBytesChart::requeried);
    chart->zoomToWindow(s->open_ns, s->open_ns + (s->close_ns - s->open_ns) / 2);
    QVERIFY(chart->isPending());
    QVERIFY(requeried.wait(5000));
    const int zoomedPoints = chart->seriesFor(ids_.leaky)->count();
    QVERIFY2(zoomedPoints < fullPoints,
             qPrintable(QStringLiteral("%1 vs %2").arg(zoomedPoints).arg(fullPoints)));
    chart->resetZoom();
    QVERIFY(requeried.wait(5000));
    // Back to the whole session (the point budget follows the plot width, so the exact
    // count may differ by a bucket).
    QCOMPARE(chart->visibleWindow().begin_ns, full.begin_ns);
    QCOMPARE(chart->visibleWindow().end_ns, full.end_ns);
    QVERIFY(chart->seriesFor(ids_.leaky)->count() > zoomedPoints);
}

void TestMainWindow::growthSlopeOfTheKeepAliveLeak() {
    QVERIFY(window_->setCurrentView(QStringLiteral("growth")));
    GrowthChart* chart = page<GrowthPage>("growth")->chart();
    waitIdle();
    // Nothing selected: the steepest sessions, the leaky one first.
    QVERIFY(!chart->sessions().empty());
    QCOMPARE(chart->sessions().front(), ids_.leaky);
    window_->document()->setSelection({ids_.leaky, ids_.clean});
    waitIdle();
    const LinearFit leaky = chart->fit(ids_.leaky);
    QCOMPARE(leaky.points, std::size_t(Trace::kLeakRequests));
    QVERIFY2(std::abs(leaky.slope - Trace::kLeakPerRequest) < 0.5,
             qPrintable(QString::number(leaky.slope)));
    QVERIFY(std::abs(chart->fit(ids_.clean).slope) < 0.5);
    QCOMPARE(chart->seriesFor(ids_.leaky)->count(), int(Trace::kLeakRequests));
}

void TestMainWindow::blocksAndTailInspector() {
    window_->document()->setSelection({ids_.corrupt});
    QVERIFY(window_->setCurrentView(QStringLiteral("blocks")));
    auto* blocks = page<BlocksPage>("blocks");
    waitIdle();
    QCOMPARE(blocks->model()->session(), ids_.corrupt);
    QCOMPARE(blocks->table()->model()->rowCount(), 1);
    // The header says why this session: it is the selected one.
    auto* header = blocks->findChild<QLabel*>(QStringLiteral("blocksHeader"));
    QVERIFY2(header->text().contains(QStringLiteral("Shown because it is the selected session")),
             qPrintable(header->text()));
    // The corrupted block is made current on load; opening it shows the inspector.
    QCOMPARE(blocks->table()->currentIndex().row(), 0);
    TailInspector* inspector = blocks->inspect(0);
    QVERIFY(inspector);
    QVERIFY(inspector->isVisible());
    QCOMPARE(inspector->firstModifiedOffset(), 0);
    QCOMPARE(inspector->corruption().block, blocks->model()->row(0)->id);
    inspector->close();
}

void TestMainWindow::leakSuspectsRanked() {
    QVERIFY(window_->setCurrentView(QStringLiteral("leaks")));
    auto* leaks = page<LeaksPage>("leaks");
    QAbstractItemModel* model = leaks->table()->model();
    QCOMPARE(model->index(0, 0).data(SessionIdRole).toULongLong(), qulonglong(ids_.leaky));
    leaks->setRanking(LeaksPage::ByLeakedBytes);
    QCOMPARE(model->index(0, 0).data(SessionIdRole).toULongLong(), qulonglong(ids_.noted));
    // Double-click: the session's blocks.
    QSignalSpy requested(leaks, &ViewPage::viewRequested);
    Q_EMIT leaks->table()->doubleClicked(model->index(0, 0));
    QCOMPARE(window_->currentView(), QStringLiteral("blocks"));
    QCOMPARE(window_->document()->selection(), std::vector<std::uint64_t>{ids_.noted});
}

// A trace without suspects: a sentence in place of an empty table; and the peer column
// never takes most of the width.
void TestMainWindow::leakSuspectsEmptyAndNarrowPeers() {
    const QString flat = dir_.filePath(QStringLiteral("flat.memlife"));
    {
        data::Recorder recorder(flat.toStdString());
        Runtime runtime(Config{}, &recorder);
        Session* s = runtime.open(std::string(200, 'p') + ":1"); // a long peer label
        for (int i = 0; i < 5; ++i) {
            s->request_begin();
            s->alloc_request(512);
            s->request_end();
        }
        runtime.close(s);
        recorder.commit();
    }
    QVERIFY(window_->setCurrentView(QStringLiteral("leaks")));
    auto* leaks = page<LeaksPage>("leaks");
    QVERIFY(leaks->table()->isVisible());
    QVERIFY(!leaks->emptyText()->isVisible());
    QVERIFY(leaks->table()->columnWidth(LeakSuspectsModel::Peer) <
            leaks->table()->viewport()->width() / 3);

    QSignalSpy loaded(window_.get(), &MainWindow::traceLoaded);
    window_->openTrace(flat);
    QVERIFY(loaded.wait(10000));
    QCOMPARE(leaks->model()->rowCount(), 0);
    QVERIFY(!leaks->table()->isVisible());
    QVERIFY(leaks->emptyText()->isVisible());
    QVERIFY2(leaks->emptyText()->text().startsWith(QStringLiteral("No leak suspects")),
             qPrintable(leaks->emptyText()->text()));
}

void TestMainWindow::eventLogCounts() {
    QVERIFY(window_->setCurrentView(QStringLiteral("events")));
    auto* events = page<EventsPage>("events");
    waitIdle();
    QCOMPARE(std::uint64_t(events->model()->rowCount()), window_->document()->trace()->info.events);
    events->kindFilter()->setCurrentIndex(
        events->kindFilter()->findText(eventKindLabel(EventKind::Leak)));
    waitIdle();
    QCOMPARE(events->model()->rowCount(), 1);
}

void TestMainWindow::exports() {
    const QString png = dir_.filePath(QStringLiteral("chart.png"));
    const QString svg = dir_.filePath(QStringLiteral("chart.svg"));
    const QString csv = dir_.filePath(QStringLiteral("sessions.csv"));
    QString error;
    QVERIFY2(window_->exportChart(png, &error), qPrintable(error));
    QVERIFY2(window_->exportChart(svg, &error), qPrintable(error));
    QSignalSpy exported(window_.get(), &MainWindow::tableExported);
    window_->exportTable(csv);
    QCOMPARE(exported.count(), 1); // a table in memory: at once
    QCOMPARE(exported.front().at(1).toString(), QString());
    QImage image(png);
    QVERIFY(!image.isNull() && image.width() > 100);
    QFile svgFile(svg);
    QVERIFY(svgFile.open(QIODevice::ReadOnly));
    QVERIFY(svgFile.readAll().contains("<svg"));
    QFile csvFile(csv);
    QVERIFY(csvFile.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = csvFile.readAll().split('\n');
    QVERIFY(lines.front().startsWith("Session,Peer,Opened"));
    QCOMPARE(lines.size(), 4 + 2); // header, 4 rows, the empty tail after the last \r\n

    QVERIFY(window_->setCurrentView(QStringLiteral("events")));
    waitIdle();
    const QString events = dir_.filePath(QStringLiteral("events.csv"));
    window_->exportTable(events); // streamed from the trace in a job
    QVERIFY(exported.wait(10000));
    QCOMPARE(exported.last().at(0).toString(), events);
    QCOMPARE(exported.last().at(1).toString(), QString());
    QFile eventsFile(events);
    QVERIFY(eventsFile.open(QIODevice::ReadOnly));
    QCOMPARE(std::uint64_t(eventsFile.readAll().count('\n')),
             window_->document()->trace()->info.events + 1);
    // A chart export from a page without a chart is an error, not a crash.
    QVERIFY(!window_->exportChart(png, &error));
    QVERIFY(error.contains(png));
}

void TestMainWindow::darkPalette() {
    QVERIFY(applyPalette(QStringLiteral("dark")));
    LiveBytesChart* chart = page<OverviewPage>("overview")->chart();
    QTRY_VERIFY(chart->chart()->backgroundBrush().color().lightness() < 80);
    QVERIFY(applyPalette(QStringLiteral("light")));
    QTRY_VERIFY(chart->chart()->backgroundBrush().color().lightness() > 200);
    QVERIFY(!applyPalette(QStringLiteral("purple")));
}

// A new window takes 1400x900 where the screen has room, and no more than the screen's
// available geometry where it has not (the offscreen platform's screen is 800x600).
void TestMainWindow::windowFitsTheScreen() {
    MainWindow window(/*persistent=*/false);
    const QRect available = window.screen()->availableGeometry();
    const QSize wanted(MainWindow::kDefaultWidth, MainWindow::kDefaultHeight);
    QVERIFY(window.width() <= wanted.width() && window.height() <= wanted.height());
    QVERIFY2(available.contains(window.geometry()),
             qPrintable(QStringLiteral("%1x%2 on a %3x%4 screen")
                            .arg(window.width())
                            .arg(window.height())
                            .arg(available.width())
                            .arg(available.height())));
    if (available.width() >= wanted.width() + 40 && available.height() >= wanted.height() + 40)
        QCOMPARE(window.size(), wanted);
    else
        QVERIFY(window.width() < wanted.width() || window.height() < wanted.height());
}

// Every test above drove the window through loads, selections, zooms and exports: none of
// it read the trace on the GUI thread (the loader and the jobs did).
void TestMainWindow::cleanupTestCase() {
    QCOMPARE(ReaderPool::guiThreadUses(), std::uint64_t(0));
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
