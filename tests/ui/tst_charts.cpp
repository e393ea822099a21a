// The charts tell the truth at any scale (issue 13): positions agree with the tables' times
// on measured and coarse (nginx) traces, nothing anywhere is shown finer than the trace's
// clock, keep-alive growth is a finding, legends keep the session id and its number, axes
// tick at round values and fit the data, and an empty or flat trace gets a sentence.
// Traces: the recorded keep-alive fixture, the real nginx capture imported, and
// `memlife simulate` scenarios.
#include <QAbstractButton>
#include <QCategoryAxis>
#include <QCheckBox>
#include <QComboBox>
#include <QGraphicsScene>
#include <QGraphicsSimpleTextItem>
#include <QGraphicsTextItem>
#include <QHeaderView>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QProcess>
#include <QRegularExpression>
#include <QScatterSeries>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QValueAxis>
#include <QtTest>

#include <cmath>

#include "charts/growthchart.hpp"
#include "charts/livebyteschart.hpp"
#include "charts/timescale.hpp"
#include "memlife/data/findings.hpp"
#include "memlife/data/import.hpp"
#include "memlife/data/recorder.hpp"
#include "models/itemroles.hpp"
#include "models/sessionsmodel.hpp"
#include "models/sessionsproxy.hpp"
#include "pages/growthpage.hpp"
#include "pages/overviewpage.hpp"
#include "style/style.hpp"
#include "trace_fixture.hpp"
#include "window/mainwindow.hpp"
#include "window/tracedocument.hpp"
#include "window/viewregistry.hpp"

using namespace memlife;
using namespace memlife::ui;

namespace {

constexpr int kTimeoutMs = 20'000;

QString simulate(const QTemporaryDir& dir, const QString& scenario, const QStringList& extra = {}) {
    const QString path = dir.filePath(scenario + QStringLiteral(".memlife"));
    QProcess process;
    process.start(QStringLiteral(MEMLIFE_CLI),
                  QStringList{QStringLiteral("simulate"), QStringLiteral("--scenario"), scenario,
                              QStringLiteral("-o"), path, QStringLiteral("--seed"),
                              QStringLiteral("3")} +
                      extra);
    if (!process.waitForFinished(120'000) || process.exitCode() != 0) {
        qWarning("%s", process.readAllStandardError().constData());
        return {};
    }
    return path;
}

// Every text a chart shows in its scene (titles, axis labels, legend labels), as drawn:
// an elided label is drawn shortened ("...").
QStringList sceneTexts(QChartView* view) {
    QStringList texts;
    for (QGraphicsItem* item : view->chart()->scene()->items()) {
        if (!item->isVisible()) continue;
        if (auto* text = dynamic_cast<QGraphicsTextItem*>(item)) texts << text->toPlainText();
        if (auto* text = dynamic_cast<QGraphicsSimpleTextItem*>(item)) texts << text->text();
    }
    return texts;
}

// WCAG 2 contrast and CIE76 distance, for the palette check.
double luminance(const QColor& c) {
    const auto lin = [](double v) {
        return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF());
}
double contrast(const QColor& a, const QColor& b) {
    const double la = luminance(a), lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}
std::array<double, 3> lab(const QColor& c) {
    const auto lin = [](double v) {
        return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
    };
    const double r = lin(c.redF()), g = lin(c.greenF()), b = lin(c.blueF());
    const double x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    const double y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    const double z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    const auto f = [](double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116; };
    return {116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))};
}
double distance(const QColor& a, const QColor& b) {
    const auto la = lab(a), lb = lab(b);
    return std::hypot(la[0] - lb[0], la[1] - lb[1], la[2] - lb[2]);
}

} // namespace

class TestCharts : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void stepIndexOrdersACoarseClock();
    void measuredChartAgreesWithTheTable();
    void coarseChartAgreesWithTheTable();
    void nothingFinerThanTheClock();
    void keepAliveLeakFlagsEverySessionGrowing();
    void perRequestFlagsNone();
    void overviewAndGrowthDrawTheSameSessions();
    void legendsKeepIdAndNumber();
    void byteAxesTickAtRoundBinaryValues();
    void growthAxisAndFitsFitTheData();
    void totalOfAllSessions();
    void hoverSaysSessionTimeAndBytes();
    void corruptionMarksWithTheirCount();
    void linesReachTheRightEdgeAfterAZoom();
    void flatAndEmptyTracesGetASentence();
    void seriesColoursReadOnBothPalettes();

private:
    MainWindow* open(const QString& path, QSize size = {1400, 900});
    void waitIdle() { QTRY_VERIFY_WITH_TIMEOUT(!window_->isBusy(), kTimeoutMs); }
    template <class Page> Page* page(const char* name) {
        return qobject_cast<Page*>(window_->page(QString::fromLatin1(name)));
    }
    LiveBytesChart* liveChart() { return page<OverviewPage>("overview")->chart(); }
    GrowthChart* growthChart() { return page<GrowthPage>("growth")->chart(); }
    // Draws one session, selected in the table, and waits for its series.
    QList<QPointF> drawOnly(std::uint64_t session);
    QString tableText(std::uint64_t session, int column);

    QTemporaryDir dir_;
    QString keepAlive_, nginx_, leak_, perRequest_, mixed_, empty_;
    test::KeepAliveTrace ids_;
    std::unique_ptr<MainWindow> window_;
};

void TestCharts::initTestCase() {
    QVERIFY(dir_.isValid());
    keepAlive_ = dir_.filePath(QStringLiteral("keepalive.memlife"));
    ids_ = test::writeKeepAliveTrace(keepAlive_.toStdString());
    nginx_ = dir_.filePath(QStringLiteral("nginx.memlife"));
    data::import_nginx_to_trace(MEMLIFE_SOURCE_DIR "/tests/fixtures/nginx-debug-keepalive.log",
                                nginx_.toStdString());
    QVERIFY(!(leak_ = simulate(dir_, QStringLiteral("keepalive-leak"))).isEmpty());
    QVERIFY(!(perRequest_ = simulate(dir_, QStringLiteral("per-request"))).isEmpty());
    QVERIFY(!(mixed_ = simulate(dir_, QStringLiteral("mixed"),
                                {QStringLiteral("--connections"), QStringLiteral("40")}))
                 .isEmpty());
    empty_ = dir_.filePath(QStringLiteral("empty.memlife"));
    data::Recorder(empty_.toStdString()).commit();
}

void TestCharts::cleanup() {
    window_.reset();
}

MainWindow* TestCharts::open(const QString& path, QSize size) {
    window_ = std::make_unique<MainWindow>(/*persistent=*/false);
    window_->resize(size);
    window_->show();
    if (!QTest::qWaitForWindowExposed(window_.get())) return nullptr;
    QSignalSpy loaded(window_.get(), &MainWindow::traceLoaded);
    window_->openTrace(path);
    if (!loaded.wait(kTimeoutMs)) return nullptr;
    return QTest::qWaitFor([&] { return !window_->isBusy(); }, kTimeoutMs) ? window_.get()
                                                                           : nullptr;
}

QList<QPointF> TestCharts::drawOnly(std::uint64_t session) {
    window_->document()->setSelection({session});
    LiveBytesChart* chart = liveChart();
    chart->requeryNow();
    if (!QTest::qWaitFor([&] { return !chart->isPending(); }, kTimeoutMs)) return {};
    QLineSeries* series = chart->seriesFor(session);
    return series ? series->points() : QList<QPointF>{};
}

QString TestCharts::tableText(std::uint64_t session, int column) {
    SessionsModel* model = page<OverviewPage>("overview")->model();
    return model->index(model->rowOf(session), column).data().toString();
}

void TestCharts::stepIndexOrdersACoarseClock() {
    const std::uint64_t s = 1'000'000'000, t0 = 1'700'000'000 * s;
    // Second 0: stamps 0..4; second 3 (1 and 2 idle): stamps 0 and 7; one event late.
    const StepIndex steps =
        StepIndex::fromTimes({t0, t0 + 1, t0 + 4, t0 + 3 * s, t0 + 3 * s + 7, t0 + 2}, s);
    QCOMPARE(steps.size(), std::size_t(2));
    QCOMPARE(steps.position(t0), 0.0);
    QCOMPARE(steps.position(t0 + 4), 4.0);
    QCOMPARE(steps.position(t0 + 3 * s), 5.0); // seconds follow without a gap
    QCOMPARE(steps.position(t0 + 3 * s + 7), 12.0);
    QCOMPARE(steps.position(t0 + 2 * s + 99), 5.0); // an idle second: where the next starts
    for (std::uint64_t t : {t0, t0 + 4, t0 + 3 * s, t0 + 3 * s + 7})
        QCOMPARE(steps.time(steps.position(t)), t);
    const TimeScale scale = TimeScale::ordered(t0, std::make_shared<StepIndex>(steps));
    QCOMPARE(scale.timeText(t0 + 3 * s + 7), QStringLiteral("3 s #8"));
    QVERIFY(scale.title().contains(QStringLiteral("1 s")));
    // Two seconds in view: labelled by second; within one: by the order within it.
    QStringList labels;
    for (const TimeTick& tick : scale.ticks(-1, 13, 8))
        labels << tick.label;
    QCOMPARE(labels, (QStringList{QStringLiteral("0 s"), QStringLiteral("3 s")}));
    labels.clear();
    for (const TimeTick& tick : scale.ticks(5, 12.5, 4))
        labels << tick.label;
    QCOMPARE(labels,
             (QStringList{QStringLiteral("3 s"), QStringLiteral("3 s #2"), QStringLiteral("3 s #4"),
                          QStringLiteral("3 s #6"), QStringLiteral("3 s #8")}));
}

// A measured trace: the chart's x of a session's first and last point are the table's
// Opened and Closed times.
void TestCharts::measuredChartAgreesWithTheTable() {
    QVERIFY(open(keepAlive_));
    for (std::uint64_t id : {ids_.leaky, ids_.clean, ids_.corrupt}) {
        const QList<QPointF> points = drawOnly(id);
        QVERIFY(points.size() >= 2);
        const TimeScale& scale = liveChart()->timeScale();
        QVERIFY(!scale.isOrdered());
        const data::SessionRow* s = window_->document()->trace()->session(id);
        QVERIFY(std::abs(points.first().x() - scale.toX(s->open_ns)) < 1e-9);
        QVERIFY(std::abs(points.last().x() - scale.toX(s->close_ns)) < 1e-9);
        QCOMPARE(scale.timeText(scale.toNs(points.first().x())),
                 tableText(id, SessionsModel::Opened));
        QCOMPARE(scale.timeText(scale.toNs(points.last().x())),
                 tableText(id, SessionsModel::Closed));
    }
}

// The nginx capture (stamped to the second): the chart is drawn in event order, and a
// session the table lists at "0 s #21" to "0 s #136" is drawn from there to there.
void TestCharts::coarseChartAgreesWithTheTable() {
    QVERIFY(open(nginx_));
    const TracePtr trace = window_->document()->trace();
    QCOMPARE(trace->info.time_resolution_ns, std::uint64_t(1'000'000'000));
    for (const data::SessionRow& s : trace->sessions) {
        const QList<QPointF> points = drawOnly(s.id);
        QVERIFY(points.size() >= 2);
        const TimeScale& scale = liveChart()->timeScale();
        QVERIFY(scale.isOrdered());
        QVERIFY(liveChart()->timeAxis()->titleText().contains(QStringLiteral("order")));
        QCOMPARE(points.first().x(), trace->steps->position(s.open_ns));
        QCOMPARE(points.last().x(), trace->steps->position(s.close_ns));
        QCOMPARE(scale.timeText(scale.toNs(points.first().x())),
                 tableText(s.id, SessionsModel::Opened));
        QCOMPARE(scale.timeText(scale.toNs(points.last().x())),
                 tableText(s.id, SessionsModel::Closed));
        // Steps sit where their events are: every point's x is a whole position.
        for (const QPointF& p : points)
            QCOMPARE(p.x(), std::round(p.x()));
    }
}

// Every text of every view on the nginx import: no ns, µs or ms, no fraction of a second.
void TestCharts::nothingFinerThanTheClock() {
    QVERIFY(open(nginx_));
    const QRegularExpression finer(
        QStringLiteral("\\d\\s*(ns|µs|ms)\\b|\\((ns|µs|ms)\\)|\\d+\\.\\d+\\s*s\\b"));
    QStringList offending;
    const auto check = [&](const QString& where, const QString& text) {
        if (finer.match(text).hasMatch()) offending << where + QStringLiteral(": ") + text;
    };
    const auto checkModel = [&](const QString& where, const QAbstractItemModel* model) {
        for (int c = 0; c < model->columnCount(); ++c)
            check(where, model->headerData(c, Qt::Horizontal).toString());
        for (int r = 0; r < std::min(model->rowCount(), 500); ++r)
            for (int c = 0; c < model->columnCount(); ++c)
                for (int role : {int(Qt::DisplayRole), int(Qt::ToolTipRole)})
                    check(where, model->index(r, c).data(role).toString());
    };
    const TracePtr trace = window_->document()->trace();
    for (const QString& view : viewNames()) {
        for (bool selected : {false, true}) {
            window_->document()->setSelection(
                selected ? std::vector<std::uint64_t>{trace->sessions[1].id}
                         : std::vector<std::uint64_t>{});
            QVERIFY(window_->setCurrentView(view));
            waitIdle();
            QWidget* page = window_->page(view);
            for (QWidget* w : page->findChildren<QWidget*>()) {
                if (!w->isVisible()) continue;
                check(view, w->toolTip());
                if (auto* label = qobject_cast<QLabel*>(w)) check(view, label->text());
                if (auto* button = qobject_cast<QAbstractButton*>(w)) check(view, button->text());
                if (auto* table = qobject_cast<QAbstractItemView*>(w))
                    checkModel(view, table->model());
                if (auto* chart = qobject_cast<QChartView*>(w)) {
                    for (const QString& text : sceneTexts(chart))
                        check(view, text);
                    if (auto* axis = qobject_cast<QCategoryAxis*>(
                            chart->chart()->axes(Qt::Horizontal).value(0)))
                        for (const QString& label : axis->categoriesLabels())
                            check(view, label);
                }
            }
        }
    }
    check(QStringLiteral("status bar"), window_->statusBar()->findChild<QLabel*>()->text());
    // Hovering the live-bytes chart anywhere.
    QVERIFY(window_->setCurrentView(QStringLiteral("overview")));
    window_->document()->setSelection({});
    waitIdle();
    LiveBytesChart* chart = liveChart();
    for (int x = 0; x < chart->width(); x += 7)
        for (int y = 0; y < chart->height(); y += 23)
            check(QStringLiteral("live bytes tooltip"), chart->toolTipAt(QPoint(x, y)));
    QVERIFY2(offending.isEmpty(), qPrintable(offending.join(QLatin1Char('\n'))));
}

void TestCharts::keepAliveLeakFlagsEverySessionGrowing() {
    QVERIFY(open(leak_));
    const TracePtr trace = window_->document()->trace();
    QCOMPARE(window_->document()->growingSessions(), trace->sessions.size());
    auto* overview = page<OverviewPage>("overview");
    SessionsModel* model = overview->model();
    const QImage growth = growthIcon().pixmap(16).toImage();
    for (int row = 0; row < model->rowCount(); ++row) {
        const QModelIndex index = model->index(row, 0);
        QVERIFY(index.data(ProblemRole).toBool());
        QCOMPARE(index.data(Qt::DecorationRole).value<QIcon>().pixmap(16).toImage(), growth);
        QVERIFY(index.data(Qt::ToolTipRole).toString().contains(QStringLiteral("grows by")));
        QCOMPARE(index.data(Qt::BackgroundRole).value<QColor>(), rowTint(growthColor()));
    }
    // "Only sessions with findings" keeps them all; the status bar counts them.
    overview->findChild<QCheckBox*>()->setChecked(true);
    QCOMPARE(overview->proxy()->rowCount(), model->rowCount());
    const QString status = window_->statusBar()->findChild<QLabel*>()->text();
    QVERIFY2(status.contains(QStringLiteral("%1 growing").arg(trace->sessions.size())),
             qPrintable(status));
    // The limit is settable: above every session's growth nothing grows.
    double steepest = 0;
    for (const auto& s : trace->sessions)
        steepest = std::max(steepest, s.growth_bytes_per_request);
    overview->findChild<QSpinBox*>(QStringLiteral("maxGrowth"))->setValue(int(steepest) + 1);
    QCOMPARE(window_->document()->growingSessions(), std::size_t(0));
    QCOMPARE(overview->proxy()->rowCount(), 0);
    QVERIFY(
        window_->statusBar()->findChild<QLabel*>()->text().contains(QStringLiteral("0 growing")));
}

void TestCharts::perRequestFlagsNone() {
    QVERIFY(open(perRequest_));
    QCOMPARE(window_->document()->growingSessions(), std::size_t(0));
    SessionsModel* model = page<OverviewPage>("overview")->model();
    for (int row = 0; row < model->rowCount(); ++row)
        QVERIFY(!model->index(row, 0).data(ProblemRole).toBool());
}

void TestCharts::overviewAndGrowthDrawTheSameSessions() {
    QVERIFY(open(mixed_));
    TraceDocument* document = window_->document();
    using Choice = TraceDocument::ChartChoice;
    for (Choice choice : {Choice::TopPeak, Choice::Findings, Choice::TopGrowth}) {
        document->setChartChoice(choice);
        QVERIFY(window_->setCurrentView(QStringLiteral("overview")));
        waitIdle();
        const std::vector<std::uint64_t> drawn = liveChart()->sessions();
        QCOMPARE(drawn, document->chartSessions());
        QVERIFY(window_->setCurrentView(QStringLiteral("growth")));
        waitIdle();
        QCOMPARE(growthChart()->sessions(), drawn);
    }
    document->setChartChoice(Choice::TopPeak);
    QCOMPARE(document->chartSessions(), document->trace()->topByPeak(TraceDocument::kTopSessions));
}

// At 1400 px every legend label of the 8 drawn sessions is drawn whole; at 1024 px the id
// and the number still are.
void TestCharts::legendsKeepIdAndNumber() {
    for (const QSize size : {QSize(1400, 900), QSize(1024, 768)}) {
        QVERIFY(open(leak_, size));
        for (const char* view : {"overview", "growth"}) {
            QVERIFY(window_->setCurrentView(QString::fromLatin1(view)));
            waitIdle();
            QChartView* chart = window_->page(QString::fromLatin1(view))->chartView();
            // The sessions' entries ("#12 422 B/req"), once the legend is laid out.
            QStringList labels;
            for (QLegendMarker* marker : chart->chart()->legend()->markers())
                if (marker->label().startsWith(QLatin1Char('#'))) labels << marker->label();
            QCOMPARE(labels.size(), int(TraceDocument::kTopSessions));
            const auto allDrawn = [&] {
                const QStringList drawn = sceneTexts(chart);
                return std::all_of(labels.begin(), labels.end(),
                                   [&](const QString& label) { return drawn.contains(label); });
            };
            QVERIFY2(QTest::qWaitFor(allDrawn, kTimeoutMs),
                     qPrintable(QStringLiteral("%1 at %2 px: %3 drawn as: %4")
                                    .arg(QString::fromLatin1(view))
                                    .arg(size.width())
                                    .arg(labels.join(QStringLiteral(" | ")),
                                         sceneTexts(chart).join(QStringLiteral(" | ")))));
        }
    }
}

void TestCharts::byteAxesTickAtRoundBinaryValues() {
    QVERIFY(open(keepAlive_));
    const auto roundStep = [](double step) {
        const double mantissa = step / std::pow(10.0, std::floor(std::log10(step)));
        return std::abs(mantissa - 1) < 1e-9 || std::abs(mantissa - 2) < 1e-9 ||
               std::abs(mantissa - 5) < 1e-9;
    };
    drawOnly(ids_.corrupt); // 100 bytes at most: whole bytes
    auto* y = qobject_cast<QValueAxis*>(liveChart()->chart()->axes(Qt::Vertical).value(0));
    QVERIFY(y);
    QVERIFY(y->titleText().contains(QStringLiteral("(B)")));
    QCOMPARE(y->labelFormat(), QStringLiteral("%.0f"));
    QVERIFY2(roundStep(y->tickInterval()), qPrintable(QString::number(y->tickInterval())));
    QCOMPARE(std::fmod(y->max(), y->tickInterval()), 0.0);
    drawOnly(ids_.leaky); // 24 KiB
    QVERIFY(y->titleText().contains(QStringLiteral("(KiB)")));
    QVERIFY2(roundStep(y->tickInterval()), qPrintable(QString::number(y->tickInterval())));
    QCOMPARE(std::fmod(y->max(), y->tickInterval()), 0.0);
    QVERIFY(y->max() * liveChart()->yScale() >= 24 * 1024);
}

// The growth view's x axis runs to the longest session (20 requests: 0-20, not 0-40); each
// fit spans its session's own requests.
void TestCharts::growthAxisAndFitsFitTheData() {
    QVERIFY(open(keepAlive_));
    window_->document()->setSelection({ids_.leaky, ids_.clean});
    QVERIFY(window_->setCurrentView(QStringLiteral("growth")));
    waitIdle();
    GrowthChart* chart = growthChart();
    QCOMPARE(chart->xAxis()->max(), double(test::KeepAliveTrace::kLeakRequests));
    QCOMPARE(chart->fitFor(ids_.leaky)->at(0).x(), 1.0);
    QCOMPARE(chart->fitFor(ids_.leaky)->at(1).x(), double(test::KeepAliveTrace::kLeakRequests));
    QCOMPARE(chart->fitFor(ids_.clean)->at(1).x(), 3.0); // its 3 requests, not 20
    QVERIFY(chart->message().isEmpty());
}

// The total is the sum of the sessions: on the keep-alive fixture the sessions follow one
// another, so it never exceeds the highest peak and reaches the leak's accumulated bytes.
void TestCharts::totalOfAllSessions() {
    QVERIFY(open(keepAlive_));
    LiveBytesChart* chart = liveChart();
    QVERIFY(chart->totalSeries());
    double highest = 0;
    for (const QPointF& p : chart->totalSeries()->points())
        highest = std::max(highest, p.y() * chart->totalScale());
    const TracePtr trace = window_->document()->trace();
    QVERIFY2(highest >= test::KeepAliveTrace::kLeakRequests * test::KeepAliveTrace::kLeakPerRequest,
             qPrintable(QString::number(highest)));
    QVERIFY(highest <= double(trace->session(ids_.leaky)->peak_bytes));
}

void TestCharts::hoverSaysSessionTimeAndBytes() {
    QVERIFY(open(keepAlive_));
    const QList<QPointF> points = drawOnly(ids_.leaky);
    LiveBytesChart* chart = liveChart();
    // The middle of a level stretch of the staircase.
    int level = int(points.size()) / 2;
    while (level + 1 < points.size() && (points[level].y() != points[level + 1].y() ||
                                         points[level].x() == points[level + 1].x()))
        ++level;
    QVERIFY(level + 1 < points.size());
    const QPointF middle((points[level].x() + points[level + 1].x()) / 2, points[level].y());
    const QPointF scene = chart->chart()->mapToScene(
        chart->chart()->mapToPosition(middle, chart->seriesFor(ids_.leaky)));
    const QString tip = chart->toolTipAt(chart->mapFromScene(scene));
    QVERIFY2(tip.contains(QStringLiteral("Session %1").arg(ids_.leaky)), qPrintable(tip));
    QVERIFY2(tip.contains(formatBytes(middle.y() * chart->yScale())), qPrintable(tip));
    QVERIFY2(tip.contains(QStringLiteral(" live")), qPrintable(tip));
    // Far from any line: the zoom help.
    QCOMPARE(chart->toolTipAt(QPoint(2, 2)), LiveBytesChart::helpText());
}

// Each session's corruptions are all drawn, at detection and at the allocating request,
// one mark per place with its count.
void TestCharts::corruptionMarksWithTheirCount() {
    QVERIFY(open(mixed_));
    const TracePtr trace = window_->document()->trace();
    int checked = 0;
    for (const data::SessionRow& s : trace->sessions) {
        if (s.corruptions < 2) continue;
        drawOnly(s.id);
        LiveBytesChart* chart = liveChart();
        int detected = 0;
        for (int i = 0; i < chart->corruptionMarkerCount(); ++i)
            detected += chart->corruptionCount(i);
        QCOMPARE(std::uint64_t(detected), s.corruptions);
        QVERIFY(chart->originMarkerCount() >= 1);
        QVERIFY(chart->corruptionToolTip(0).contains(QStringLiteral("detected")));
        if (++checked == 3) break;
    }
    QVERIFY(checked > 0);
}

void TestCharts::linesReachTheRightEdgeAfterAZoom() {
    QVERIFY(open(keepAlive_));
    drawOnly(ids_.leaky);
    LiveBytesChart* chart = liveChart();
    const data::SessionRow* s = window_->document()->trace()->session(ids_.leaky);
    QSignalSpy requeried(chart, &LiveBytesChart::requeried);
    chart->zoomToWindow(s->open_ns + (s->close_ns - s->open_ns) / 3,
                        s->open_ns + (s->close_ns - s->open_ns) / 2);
    chart->requeryNow();
    QTRY_VERIFY_WITH_TIMEOUT(!chart->isPending(), kTimeoutMs);
    const QList<QPointF> points = chart->seriesFor(ids_.leaky)->points();
    QVERIFY(!points.isEmpty());
    const auto* x = chart->timeAxis();
    QVERIFY2(std::abs(points.last().x() - x->max()) < 1e-6 * (x->max() - x->min()),
             qPrintable(QStringLiteral("%1 vs %2").arg(points.last().x()).arg(x->max())));
    QVERIFY(points.first().x() <= x->min() + 1e-6 * (x->max() - x->min()));
}

void TestCharts::flatAndEmptyTracesGetASentence() {
    // per-request: nothing is left at any request end.
    QVERIFY(open(perRequest_));
    QVERIFY(window_->setCurrentView(QStringLiteral("growth")));
    waitIdle();
    QVERIFY2(growthChart()->message().contains(QStringLiteral("0 at every request end")),
             qPrintable(growthChart()->message()));
    // No session at all: sentences, no axes, and the table's headers whole.
    QVERIFY(open(empty_));
    waitIdle();
    QVERIFY(!liveChart()->message().isEmpty());
    for (QAbstractAxis* axis : liveChart()->chart()->axes())
        QVERIFY(!axis->isVisible());
    QVERIFY(window_->setCurrentView(QStringLiteral("growth")));
    waitIdle();
    QVERIFY(!growthChart()->message().isEmpty());
    QVERIFY(window_->setCurrentView(QStringLiteral("overview")));
    QTableView* table = page<OverviewPage>("overview")->table();
    QHeaderView* header = table->horizontalHeader();
    for (int c = 0; c < header->count(); ++c)
        QVERIFY2(header->sectionSize(c) >= header->sectionSizeHint(c),
                 qPrintable(table->model()->headerData(c, Qt::Horizontal).toString()));
}

void TestCharts::seriesColoursReadOnBothPalettes() {
    const QColor white(Qt::white), dark(0x1e, 0x1f, 0x22);
    for (std::size_t i = 0; i < seriesColorCount(); ++i) {
        const QColor c = seriesColor(i);
        QVERIFY2(contrast(c, white) >= 3.0, qPrintable(c.name()));
        QVERIFY2(contrast(c, dark) >= 3.0, qPrintable(c.name()));
        QVERIFY2(distance(c, corruptionColor()) >= 30, qPrintable(c.name()));
        for (std::size_t j = i + 1; j < seriesColorCount(); ++j)
            QVERIFY2(distance(c, seriesColor(j)) >= 30,
                     qPrintable(c.name() + QLatin1Char(' ') + seriesColor(j).name()));
    }
    QVERIFY(applyPalette(QStringLiteral("dark")));
    QCOMPARE(QApplication::palette().color(QPalette::Base), dark); // the background checked
    QVERIFY(applyPalette(QStringLiteral("light")));
}

QTEST_MAIN(TestCharts)
#include "tst_charts.moc"
