// Compare mode over two real recorded traces (a keep-alive leak and the same server fixed):
// the comparison model under QAbstractItemModelTester, the distributions, the panel's job,
// and the mode in the window (File > Compare with...: the overview, the growth view).
#include <QAbstractItemModelTester>
#include <QAction>
#include <QBoxPlotSeries>
#include <QBoxSet>
#include <QLabel>
#include <QLineSeries>
#include <QMessageBox>
#include <QProgressBar>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include "charts/growthchart.hpp"
#include "compare/comparepanel.hpp"
#include "compare/comparisonmodel.hpp"
#include "compare/distributionchart.hpp"
#include "jobs/readerpool.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "models/itemroles.hpp"
#include "pages/growthpage.hpp"
#include "pages/overviewpage.hpp"
#include "style/style.hpp"
#include "window/mainwindow.hpp"
#include "window/tracedocument.hpp"
#include "window/traceloader.hpp"

using namespace memlife;
using namespace memlife::ui;
using Mode = QAbstractItemModelTester::FailureReportingMode;

namespace {

// `sessions` connections of `requests` requests; each request keeps `kept` bytes until the
// close (AllocMem, URL_MAP) and uses 512 request bytes (SEND_RESPONSE).
void record(const std::string& path, std::uint32_t kept, int sessions, int requests) {
    data::Recorder recorder(path);
    Runtime runtime(Config{}, &recorder);
    for (int i = 0; i < sessions; ++i) {
        Session* s = runtime.open("10.0.0." + std::to_string(i + 1) + ":8080");
        for (int r = 0; r < requests + i; ++r) { // sessions of different lengths
            s->request_begin();
            s->set_notification(Notification::UrlMap);
            if (kept != 0) s->alloc_mem(kept);
            s->set_notification(Notification::SendResponse);
            s->alloc_request(512);
            s->request_end();
        }
        runtime.close(s);
    }
    recorder.commit();
}

TracePtr load(const QString& path) {
    std::atomic<bool> canceled{false};
    return TraceLoader::loadNow(
        path, [](int) {}, canceled);
}

} // namespace

class TestCompare : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void boxStatsAreQuartilesOfTheSessions();
    void comparisonModel();
    void distributionsOfBothTraces();
    void panelComparesInAJob();
    void panelWithoutBaseIsEmpty();
    void compareModeInTheWindow();
    void aBaseThatCannotBeOpened();

private:
    QTemporaryDir dir_;
    TracePtr leaky_, fixed_;
};

void TestCompare::initTestCase() {
    QVERIFY(dir_.isValid());
    const QString leaky = dir_.filePath(QStringLiteral("leaky.memlife"));
    const QString fixed = dir_.filePath(QStringLiteral("fixed.memlife"));
    record(leaky.toStdString(), 256, 5, 10);
    record(fixed.toStdString(), 0, 5, 10);
    leaky_ = load(leaky);
    fixed_ = load(fixed);
    QVERIFY(leaky_ && fixed_);
}

void TestCompare::boxStatsAreQuartilesOfTheSessions() {
    const BoxStats s = boxStats({5, 1, 4, 2, 3});
    QCOMPARE(s.count, std::size_t(5));
    QCOMPARE(s.min, 1.0);
    QCOMPARE(s.q1, 2.0);
    QCOMPARE(s.median, 3.0);
    QCOMPARE(s.q3, 4.0);
    QCOMPARE(s.max, 5.0);
    QCOMPARE(boxStats({1, 2, 3, 4}).median, 2.5); // as memlife diff's median
    QCOMPARE(boxStats({1, 2, 3, 4}).q1, 1.75);
    QCOMPARE(boxStats({}).count, std::size_t(0));
}

void TestCompare::comparisonModel() {
    // The comparison as the panel computes it, on this thread (no GUI here to block).
    data::Comparison c = leaky_->readers->use([&](const data::TraceReader& base) {
        return fixed_->readers->use([&](const data::TraceReader& next) {
            return data::compare(data::profile_trace(base), data::profile_trace(next));
        });
    });
    ComparisonModel model;
    QAbstractItemModelTester tester(&model, Mode::QtTest);
    model.setMetrics(c.totals);
    QCOMPARE(model.rowCount(), static_cast<int>(c.totals.size()));
    QCOMPARE(model.columnCount(), int(ComparisonModel::ColumnCount));
    const int growth = model.rowOf("growth_bytes_per_request.p95");
    QVERIFY(growth >= 0);
    const auto cell = [&](int row, int column, int role = Qt::DisplayRole) {
        return model.data(model.index(row, column), role);
    };
    QCOMPARE(cell(growth, ComparisonModel::Figure).toString(),
             QStringLiteral("growth per request (p95)"));
    QCOMPARE(cell(growth, ComparisonModel::Base).toString(), QStringLiteral("256 B"));
    QCOMPARE(cell(growth, ComparisonModel::New).toString(), QStringLiteral("0 B"));
    QCOMPARE(cell(growth, ComparisonModel::Change).toString(), QStringLiteral("-256 B (-100.0%)"));
    QCOMPARE(cell(growth, ComparisonModel::Verdict).toString(), QStringLiteral("better"));
    QCOMPARE(cell(growth, ComparisonModel::Change, SortRole).toDouble(), -256.0);
    // Coloured by what the change means, beside its sign and the verdict in words.
    QCOMPARE(cell(growth, ComparisonModel::Change, Qt::ForegroundRole).value<QColor>(),
             improvementColor());
    const int sessions = model.rowOf("sessions");
    QCOMPARE(cell(sessions, ComparisonModel::Verdict).toString(), QStringLiteral("same"));
    QVERIFY(cell(sessions, ComparisonModel::Change, Qt::ForegroundRole).value<QColor>() !=
            improvementColor());
    const int outlived = model.rowOf("outlived_blocks");
    QCOMPARE(cell(outlived, ComparisonModel::Base).toString(), QStringLiteral("not in this trace"));
    QVERIFY(cell(outlived, ComparisonModel::Verdict, Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("memlife record")));

    // The other way round it is a regression, in the regression colour.
    model.setMetrics(data::compare(c.next, c.base).totals);
    QCOMPARE(cell(growth, ComparisonModel::Verdict).toString(), QStringLiteral("worse"));
    QCOMPARE(cell(growth, ComparisonModel::Change, Qt::ForegroundRole).value<QColor>(),
             corruptionColor());
}

void TestCompare::distributionsOfBothTraces() {
    DistributionChart chart(DistributionChart::Figure::Growth);
    chart.setTraces(leaky_, fixed_);
    QCOMPARE(chart.stats(true).count, std::size_t(5));
    QCOMPARE(chart.stats(true).median, 256.0);
    QCOMPARE(chart.stats(false).max, 0.0);
    QVERIFY(chart.series(true) && chart.series(false));
    QCOMPARE(chart.series(true)->count(), 1);
    QCOMPARE(chart.series(true)->pen().style(), Qt::DashLine); // the base is dashed
    QCOMPARE(chart.series(false)->pen().style(), Qt::SolidLine);
    QVERIFY(chart.chart()->title().contains(QStringLiteral("256 B")));
    DistributionChart peak(DistributionChart::Figure::Peak);
    peak.setTraces(leaky_, fixed_);
    // Sessions of 10..14 requests keeping 256 bytes each, plus the last request's 512.
    QCOMPARE(peak.stats(true).min, 10 * 256.0 + 512);
    QCOMPARE(peak.stats(true).max, 14 * 256.0 + 512);
    QCOMPARE(peak.stats(false).median, 512.0);
    peak.setTraces(nullptr, nullptr);
    QVERIFY(!peak.series(true));
}

void TestCompare::panelComparesInAJob() {
    const std::uint64_t before = ReaderPool::guiThreadUses();
    ComparePanel panel;
    QSignalSpy updated(&panel, &ComparePanel::updated);
    panel.setTraces(leaky_, fixed_);
    QVERIFY(panel.isPending());
    QVERIFY(updated.wait(10000));
    QVERIFY(!panel.isPending());
    QCOMPARE(ReaderPool::guiThreadUses(), before); // read on a worker only
    QVERIFY(panel.comparison());
    QCOMPARE(panel.comparison()->find("growth_bytes_per_request.p95")->verdict,
             data::Verdict::Better);
    const int kept = panel.model()->rowOf("URL_MAP.kept_bytes_per_request");
    QVERIFY(kept >= 0);
    QCOMPARE(panel.model()->data(panel.model()->index(kept, ComparisonModel::Figure)).toString(),
             QStringLiteral("URL_MAP: kept until close per request"));
    const QString header = panel.findChild<QLabel*>(QStringLiteral("compareHeader"))->text();
    QVERIFY2(header.contains(QStringLiteral("leaky.memlife")), qPrintable(header));
    QVERIFY2(header.contains(QStringLiteral("allocation sites")), qPrintable(header));
    QCOMPARE(panel.peakChart()->stats(true).count, std::size_t(5));
}

void TestCompare::panelWithoutBaseIsEmpty() {
    ComparePanel panel;
    panel.setTraces(nullptr, fixed_);
    QVERIFY(!panel.isPending());
    QCOMPARE(panel.model()->rowCount(), 0);
    QVERIFY(!panel.comparison());
}

void TestCompare::compareModeInTheWindow() {
    MainWindow window(/*persistent=*/false);
    window.resize(1400, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* compare = window.findChild<QAction*>(QStringLiteral("compareAction"));
    auto* stop = window.findChild<QAction*>(QStringLiteral("stopComparingAction"));
    QVERIFY(compare && stop);
    QVERIFY(!compare->isEnabled()); // nothing open to compare
    QSignalSpy loaded(&window, &MainWindow::traceLoaded);
    window.openTrace(fixed_->path);
    QVERIFY(loaded.wait(10000));
    QVERIFY(compare->isEnabled());
    QVERIFY(!stop->isEnabled());
    auto* overview = qobject_cast<OverviewPage*>(window.page(QStringLiteral("overview")));
    QVERIFY(!overview->comparePanel()->isVisible());

    const std::uint64_t before = ReaderPool::guiThreadUses();
    // The comparison shows its progress while both traces' events are decoded.
    QSignalSpy progressed(overview->comparePanel()->progressBar(), &QProgressBar::valueChanged);
    QSignalSpy baseLoaded(&window, &MainWindow::baseLoaded);
    window.compareWith(leaky_->path);
    QVERIFY(window.isBusy()); // the base loads in a job
    QVERIFY(baseLoaded.wait(10000));
    QVERIFY(window.document()->baseTrace());
    QVERIFY(stop->isEnabled());
    QVERIFY(window.windowTitle().contains(QStringLiteral("compared with leaky.memlife")));
    // The overview in front: both distributions and the comparison, computed in a job.
    ComparePanel* panel = overview->comparePanel();
    QVERIFY(panel->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(!window.isBusy(), 10000);
    QVERIFY(panel->comparison());
    QVERIFY(!progressed.isEmpty());
    QCOMPARE(progressed.first().first().toInt(), 0);
    QVERIFY(!panel->progressBar()->isVisible()); // done: gone
    QCOMPARE(panel->comparison()->find("growth_bytes_per_request.p95")->verdict,
             data::Verdict::Better);
    QCOMPARE(panel->growthChart()->stats(true).median, 256.0);
    QCOMPARE(panel->growthChart()->stats(false).median, 0.0);
    QVERIFY(panel->table()->isVisible());
    QVERIFY(panel->model()->rowOf("growth_bytes_per_request.p95") >= 0);

    // The growth view overlays the base's steepest sessions, dashed, with their slopes.
    QVERIFY(window.setCurrentView(QStringLiteral("growth")));
    auto* growth = qobject_cast<GrowthPage*>(window.page(QStringLiteral("growth")))->chart();
    QTRY_VERIFY_WITH_TIMEOUT(!window.isBusy(), 10000);
    QCOMPARE(growth->baseSessions().size(), GrowthChart::kBaseSessions);
    for (std::uint64_t id : growth->baseSessions()) {
        QLineSeries* line = growth->baseSeriesFor(id);
        QVERIFY(line);
        QCOMPARE(line->pen().style(), Qt::DashLine);
        QVERIFY2(line->name().startsWith(QStringLiteral("base #")), qPrintable(line->name()));
        QVERIFY2(line->name().contains(QStringLiteral("256 B/req")), qPrintable(line->name()));
        QCOMPARE(growth->baseFit(id).slope, 256.0);
    }
    QVERIFY(!growth->sessions().empty());
    for (std::uint64_t id : growth->sessions()) {
        QCOMPARE(growth->seriesFor(id)->pen().style(), Qt::SolidLine);
        QCOMPARE(growth->fit(id).slope, 0.0); // fixed: flat
    }
    QVERIFY(growth->chart()->title().contains(QStringLiteral("leaky.memlife")));
    QCOMPARE(ReaderPool::guiThreadUses(), before); // nothing read on the GUI thread

    // Stop comparing: the overlay and the panel go.
    stop->trigger();
    QVERIFY(!window.document()->baseTrace());
    QTRY_VERIFY_WITH_TIMEOUT(!window.isBusy(), 10000);
    QVERIFY(growth->baseSessions().empty());
    QVERIFY(!growth->baseSeriesFor(1));
    QVERIFY(!window.windowTitle().contains(QStringLiteral("compared")));
    QVERIFY(window.setCurrentView(QStringLiteral("overview")));
    QVERIFY(!panel->isVisible());
    QVERIFY(!panel->comparison());
}

void TestCompare::aBaseThatCannotBeOpened() {
    MainWindow window(/*persistent=*/false);
    window.show();
    QSignalSpy loaded(&window, &MainWindow::traceLoaded);
    window.openTrace(fixed_->path);
    QVERIFY(loaded.wait(10000));
    QSignalSpy failed(&window, &MainWindow::baseFailed);
    const QString missing = dir_.filePath(QStringLiteral("missing.memlife"));
    window.compareWith(missing);
    QVERIFY(failed.wait(10000));
    QVERIFY2(failed.front().front().toString().contains(missing),
             qPrintable(failed.front().front().toString()));
    QVERIFY(window.errorDialog());
    QVERIFY(!window.document()->baseTrace());                 // not in compare mode
    QCOMPARE(window.document()->trace()->path, fixed_->path); // the open trace stays
}

QTEST_MAIN(TestCompare)
#include "tst_compare.moc"
