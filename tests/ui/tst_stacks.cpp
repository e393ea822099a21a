// The allocation sites view on a trace with known sites (stack_fixture.hpp): the trees
// (under QAbstractItemModelTester) name each function with its bytes, the growing site tops
// growth, the flame graph's widths, tool tips, zoom and search, the view follows the
// overview's selection and zoom, and a trace without stacks says why the view is empty.
// No trace is read on the GUI thread.
#include <QAbstractItemModelTester>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTreeView>
#include <QtTest>
#include <sqlite3.h>

#include "charts/flamegraph.hpp"
#include "charts/livebyteschart.hpp"
#include "jobs/readerpool.hpp"
#include "memlife/data/import.hpp"
#include "models/itemroles.hpp"
#include "models/leaksuspectsmodel.hpp"
#include "models/stacktreemodel.hpp"
#include "pages/allocationsitespage.hpp"
#include "pages/blockspage.hpp"
#include "pages/leakspage.hpp"
#include "pages/overviewpage.hpp"
#include "pages/stackpanel.hpp"
#include "pages/tailinspector.hpp"
#include "stack_fixture.hpp"
#include "style/style.hpp"
#include "trace_fixture.hpp"
#include "window/mainwindow.hpp"
#include "window/tracedocument.hpp"

using namespace memlife;
using namespace memlife::ui;
using Sites = test::SitesTrace;

class TestStacks : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void modelsPassTheTester();
    void bottomUpNamesEachSiteWithItsBytes();
    void topDownEndsInTheSites();
    void growingSiteTopsGrowth();
    void flameGraphWidthsToolTipsZoomAndSearch();
    void followsSelectionAndZoom();
    void traceWithoutStacksSaysWhy_data();
    void traceWithoutStacksSaysWhy();
    void blocksAndTailInspectorShowTheAllocatingStack();
    void leakSuspectsNameTheGrowingStack();
    void mergedTreeKeepsNodesOnlyInTheBase();
    void comparedWithTheBaseTheFixedSiteShrinks();
    void baseWithoutStacksShowsThisTraceAlone();
    void cleanupTestCase();

private:
    AllocationSitesPage* open(const QString& path);
    void waitIdle() { QTRY_VERIFY_WITH_TIMEOUT(!window_->isBusy(), 20000); }
    // The top-level row (of the proxy) whose function contains `name`.
    static QModelIndex rowOf(const QAbstractItemModel* model, const QString& name,
                             const QModelIndex& parent = {});
    static double bytes(const QModelIndex& row, int column);

    QTemporaryDir dir_;
    QString sitesPath_, fixedPath_; // the growing site as recorded, and fixed
    Sites ids_;
    std::unique_ptr<MainWindow> window_;
};

void TestStacks::initTestCase() {
    QVERIFY(dir_.isValid());
    sitesPath_ = dir_.filePath(QStringLiteral("sites.memlife"));
    ids_ = test::writeSitesTrace(sitesPath_.toStdString());
    fixedPath_ = dir_.filePath(QStringLiteral("sites-fixed.memlife"));
    test::writeSitesTrace(fixedPath_.toStdString(), 16, false, /*fixed=*/true);
}

void TestStacks::cleanup() {
    window_.reset();
}

void TestStacks::cleanupTestCase() {
    QCOMPARE(ReaderPool::guiThreadUses(), std::uint64_t(0));
}

AllocationSitesPage* TestStacks::open(const QString& path) {
    window_ = std::make_unique<MainWindow>(/*persistent=*/false);
    window_->resize(1400, 900);
    window_->show();
    if (!QTest::qWaitForWindowExposed(window_.get())) return nullptr;
    QSignalSpy loaded(window_.get(), &MainWindow::traceLoaded);
    window_->openTrace(path);
    if (!loaded.wait(20000)) return nullptr;
    window_->setCurrentView(QStringLiteral("sites"));
    auto* page = qobject_cast<AllocationSitesPage*>(window_->page(QStringLiteral("sites")));
    QDeadlineTimer deadline(20000);
    while (window_->isBusy() && !deadline.hasExpired())
        QTest::qWait(10);
    return window_->isBusy() ? nullptr : page;
}

QModelIndex TestStacks::rowOf(const QAbstractItemModel* model, const QString& name,
                              const QModelIndex& parent) {
    for (int row = 0; row < model->rowCount(parent); ++row) {
        const QModelIndex index = model->index(row, StackTreeModel::Function, parent);
        if (index.data(SortRole).toString().contains(name)) return index;
    }
    return {};
}

double TestStacks::bytes(const QModelIndex& row, int column) {
    return row.siblingAtColumn(column).data(SortRole).toDouble();
}

void TestStacks::modelsPassTheTester() {
    AllocationSitesPage* page = open(sitesPath_);
    QVERIFY(page);
    for (auto direction : {AllocationSitesPage::BottomUp, AllocationSitesPage::TopDown}) {
        page->setDirection(direction);
        waitIdle();
        QVERIFY(page->model()->rowCount() > 0);
        QAbstractItemModelTester source(page->model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester proxy(page->tree()->model(),
                                       QAbstractItemModelTester::FailureReportingMode::QtTest);
        // Resetting under the testers: a new tree arrives, then none.
        page->model()->setTree(page->model()->tree());
        page->tree()->sortByColumn(StackTreeModel::GrowthPerRequest, Qt::DescendingOrder);
        page->tree()->sortByColumn(StackTreeModel::Allocated, Qt::DescendingOrder);
        const StackTreePtr tree = page->model()->tree();
        page->model()->setTree(nullptr);
        QCOMPARE(page->model()->rowCount(), 0);
        page->model()->setTree(tree);
    }
}

void TestStacks::bottomUpNamesEachSiteWithItsBytes() {
    AllocationSitesPage* page = open(sitesPath_);
    QVERIFY(page);
    QCOMPARE(page->direction(), AllocationSitesPage::BottomUp);
    QVERIFY(page->emptyReason().isEmpty());
    const QAbstractItemModel* model = page->tree()->model();
    // One row per allocating function, largest first.
    QCOMPARE(model->rowCount(), 4);
    const double requests = double(Sites::kSessions) * Sites::kRequests;
    struct Expect {
        const char* function;
        double bytes, share; // share of the request bytes
    };
    const double requestBytes = requests * (Sites::kParse + Sites::kBuild + Sites::kLog);
    for (const Expect& x : {Expect{"parse_headers", requests * Sites::kParse, 0.6},
                            Expect{"build_response", requests * Sites::kBuild, 0.3},
                            Expect{"log_access", requests * Sites::kLog, 0.1},
                            Expect{"cache_session_state", requests * Sites::kCache, 0}}) {
        const QModelIndex row = rowOf(model, QString::fromLatin1(x.function));
        QVERIFY2(row.isValid(), x.function);
        const double allocated = bytes(row, StackTreeModel::Allocated);
        QVERIFY2(std::abs(allocated - x.bytes) <= 0.01 * x.bytes, x.function);
        if (x.share > 0)
            QVERIFY2(std::abs(allocated / requestBytes - x.share) <= 0.01 * x.share, x.function);
        QCOMPARE(bytes(row, StackTreeModel::Blocks), requests);
        // file:line of the allocating call, and the module: this test.
        QVERIFY2(row.siblingAtColumn(StackTreeModel::Location)
                     .data()
                     .toString()
                     .startsWith(QStringLiteral("stack_fixture.hpp:")),
                 qPrintable(row.siblingAtColumn(StackTreeModel::Location).data().toString()));
        QVERIFY(row.siblingAtColumn(StackTreeModel::Module)
                    .data()
                    .toString()
                    .contains(QStringLiteral("tst_stacks")));
        // Its caller below it: serve_request.
        page->tree()->expand(row);
        QVERIFY(rowOf(model, QStringLiteral("serve_request"), row).isValid());
    }
    QVERIFY(model->index(0, 0).data(SortRole).toString().contains(QStringLiteral("parse_headers")));
    // Only the growing site is live at the end of each session.
    const QModelIndex cache = rowOf(model, QStringLiteral("cache_session_state"));
    QCOMPARE(bytes(cache, StackTreeModel::LiveAtEnd), requests * Sites::kCache);
    QCOMPARE(bytes(rowOf(model, QStringLiteral("parse_headers")), StackTreeModel::LiveAtEnd), 0.0);
    QVERIFY(page->header()->text().contains(QStringLiteral("4 stack(s)")));
}

void TestStacks::topDownEndsInTheSites() {
    AllocationSitesPage* page = open(sitesPath_);
    QVERIFY(page);
    page->setDirection(AllocationSitesPage::TopDown);
    waitIdle();
    // Follow the largest child from the root: it reaches serve_request, whose children are
    // the four sites with the same bytes as bottom-up.
    const QAbstractItemModel* model = page->tree()->model();
    QModelIndex at = model->index(0, 0);
    const double all = double(Sites::kSessions) * Sites::kPerSession;
    QModelIndex serve;
    for (int depth = 0; at.isValid() && depth < 64; ++depth, at = model->index(0, 0, at)) {
        QVERIFY(std::abs(bytes(at, StackTreeModel::Allocated) - all) <= 0.01 * all);
        if (at.data(SortRole).toString().contains(QStringLiteral("serve_request"))) {
            serve = at;
            break;
        }
    }
    QVERIFY(serve.isValid());
    QCOMPARE(model->rowCount(serve), 4);
    const QModelIndex parse = rowOf(model, QStringLiteral("parse_headers"), serve);
    QVERIFY(parse.isValid());
    QCOMPARE(model->rowCount(parse), 0);
    QCOMPARE(bytes(parse, StackTreeModel::Allocated),
             double(Sites::kSessions) * Sites::kRequests * Sites::kParse);
}

void TestStacks::growingSiteTopsGrowth() {
    AllocationSitesPage* page = open(sitesPath_);
    QVERIFY(page);
    page->tree()->sortByColumn(StackTreeModel::GrowthPerRequest, Qt::DescendingOrder);
    const QModelIndex top = page->tree()->model()->index(0, 0);
    QVERIFY(top.data(SortRole).toString().contains(QStringLiteral("cache_session_state")));
    // Each session grows by kCache per request: the slopes add up over the sessions.
    const double growth = bytes(top, StackTreeModel::GrowthPerRequest);
    const double expected = double(Sites::kSessions) * Sites::kCache;
    QVERIFY2(std::abs(growth - expected) <= 0.01 * expected, qPrintable(QString::number(growth)));
    const QModelIndex second = page->tree()->model()->index(1, 0);
    QVERIFY(std::abs(bytes(second, StackTreeModel::GrowthPerRequest)) < 1e-6);
}

void TestStacks::flameGraphWidthsToolTipsZoomAndSearch() {
    AllocationSitesPage* page = open(sitesPath_);
    QVERIFY(page);
    page->setDirection(AllocationSitesPage::TopDown);
    waitIdle();
    FlameGraph* flame = page->flameGraph();
    const data::StackTree& tree = *flame->tree();
    std::uint32_t parse = 0, build = 0;
    for (std::uint32_t i = 1; i < tree.nodes.size(); ++i) {
        const QString name = frameFunction(tree.nodes[i].frame);
        if (name.contains(QStringLiteral("parse_headers"))) parse = i;
        if (name.contains(QStringLiteral("build_response"))) build = i;
    }
    QVERIFY(parse && build);
    // Width = bytes: the sites' bars in proportion to their bytes, against the root's.
    const double total = flame->barOf(0).width();
    QVERIFY(total > 500);
    const double all = double(Sites::kPerSession) * Sites::kSessions;
    const double parseShare = double(Sites::kParse) * Sites::kRequests * Sites::kSessions / all;
    QVERIFY(std::abs(flame->barOf(parse).width() / total - parseShare) <= 0.01);
    QVERIFY(std::abs(flame->barOf(parse).width() / flame->barOf(build).width() - 2.0) <= 0.02);
    // Hover: the tool tip names the frame and its file.
    const QPointF centre = flame->barOf(parse).center();
    QCOMPARE(flame->nodeAt(centre), parse);
    QVERIFY(flame->toolTipFor(parse).contains(QStringLiteral("parse_headers")));
    QVERIFY(flame->toolTipFor(parse).contains(QStringLiteral("stack_fixture.hpp:")));
    // Click zooms: the bar fills the width, its parent stays above it, its sibling is gone.
    QSignalSpy zoomed(flame, &FlameGraph::zoomed);
    QTest::mouseClick(flame, Qt::LeftButton, {}, centre.toPoint());
    QCOMPARE(zoomed.count(), 1);
    QCOMPARE(flame->zoomedNode(), parse);
    QCOMPARE(flame->barOf(parse).width(), total);
    QCOMPARE(flame->barOf(tree.nodes[parse].parent).width(), total);
    QVERIFY(flame->barOf(build).isEmpty());
    // The bar clicked is the current row of the tree.
    QVERIFY(page->tree()->currentIndex().data(SortRole).toString().contains(
        QStringLiteral("parse_headers")));
    // Right click zooms out.
    QTest::mouseClick(flame, Qt::RightButton, {}, QPoint(5, 5));
    QCOMPARE(flame->zoomedNode(), 0u);
    QVERIFY(!flame->barOf(build).isEmpty());
    // Search highlights the matches and gives their share of the bytes.
    page->searchBox()->setText(QStringLiteral("BUILD_resp"));
    QCOMPARE(flame->matchCount(), 1);
    QVERIFY(flame->isMatch(build));
    QVERIFY(!flame->isMatch(parse));
    const double buildShare = double(Sites::kBuild) * Sites::kRequests * Sites::kSessions / all;
    QVERIFY(std::abs(flame->matchedFraction() - buildShare) <= 0.001);
    flame->grab(); // paints with the highlight
    page->searchBox()->clear();
    QCOMPARE(flame->matchCount(), 0);
    // Width by live bytes: only the growing site is live at the end.
    flame->setMeasure(FlameGraph::Measure::LiveAtEnd);
    QVERIFY(flame->barOf(parse).isEmpty());
}

void TestStacks::followsSelectionAndZoom() {
    AllocationSitesPage* page = open(sitesPath_);
    QVERIFY(page);
    TraceDocument* document = window_->document();
    auto rootBytes = [&] { return double(page->model()->tree()->nodes[0].cost.bytes_allocated); };
    QCOMPARE(rootBytes(), double(Sites::kPerSession) * Sites::kSessions);
    // The sessions selected in the overview.
    window_->setCurrentView(QStringLiteral("overview"));
    auto* overview = qobject_cast<OverviewPage*>(window_->page(QStringLiteral("overview")));
    overview->table()->selectRow(0);
    QCOMPARE(document->selection().size(), std::size_t(1));
    window_->setCurrentView(QStringLiteral("sites"));
    waitIdle();
    QCOMPARE(rootBytes(), double(Sites::kPerSession));
    QVERIFY(page->header()->text().contains(QStringLiteral("session")));
    // The range the overview's chart shows: zoomed to the second session's lifetime, with
    // nothing selected, the tree holds that session's bytes only.
    document->setSelection({});
    window_->setCurrentView(QStringLiteral("overview"));
    waitIdle();
    const data::SessionRow* second = document->trace()->session(ids_.sessions[1]);
    QVERIFY(second);
    overview->chart()->zoomToWindow(second->open_ns, second->close_ns);
    overview->chart()->requeryNow();
    waitIdle();
    QVERIFY(document->timeWindow().has_value());
    window_->setCurrentView(QStringLiteral("sites"));
    waitIdle();
    QVERIFY2(std::abs(rootBytes() - double(Sites::kPerSession)) <= 0.01 * Sites::kPerSession,
             qPrintable(QString::number(rootBytes())));
    QVERIFY(page->header()->text().contains(QStringLiteral("from")));
    // Zoomed out again: the whole trace.
    window_->setCurrentView(QStringLiteral("overview"));
    overview->chart()->resetZoom();
    overview->chart()->requeryNow();
    waitIdle();
    QVERIFY(!document->timeWindow().has_value());
    window_->setCurrentView(QStringLiteral("sites"));
    waitIdle();
    QCOMPARE(rootBytes(), double(Sites::kPerSession) * Sites::kSessions);
}

void TestStacks::traceWithoutStacksSaysWhy_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("why"); // in the sentence
    QTest::newRow("stacks off") << QStringLiteral("off") << QStringLiteral("stacks off");
    QTest::newRow("version 2") << QStringLiteral("v2") << QStringLiteral("schema version 2");
    QTest::newRow("nginx import") << QStringLiteral("nginx") << QStringLiteral("nginx debug log");
    QTest::newRow("keep-alive, stacks off")
        << QStringLiteral("keepalive") << QStringLiteral("stacks off");
}

void TestStacks::traceWithoutStacksSaysWhy() {
    QFETCH(QString, kind);
    QFETCH(QString, why);
    const QString path = dir_.filePath(kind + QStringLiteral(".memlife"));
    std::size_t sessions = Sites::kSessions;
    if (kind == QStringLiteral("nginx")) {
        data::import_nginx_to_trace(MEMLIFE_SOURCE_DIR "/tests/fixtures/nginx-debug-keepalive.log",
                                    path.toStdString());
        sessions = 3;
    } else if (kind == QStringLiteral("keepalive")) {
        test::writeKeepAliveTrace(path.toStdString());
        sessions = 4;
    } else {
        test::writeSitesTrace(path.toStdString(), /*stackDepth=*/0);
    }
    if (kind == QStringLiteral("v2")) {
        // As memlife wrote traces before stacks: version 3's tables and columns dropped.
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(path.toUtf8().constData(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(db,
                              "DROP TABLE modules; DROP TABLE stack_nodes; DROP TABLE frames; "
                              "DROP TABLE session_stacks; ALTER TABLE corruptions DROP COLUMN "
                              "stack; ALTER TABLE leaks DROP COLUMN stack; PRAGMA user_version = 2",
                              nullptr, nullptr, nullptr),
                 SQLITE_OK);
        sqlite3_close(db);
    }
    AllocationSitesPage* page = open(path);
    QVERIFY(page);
    // The trace opens as before (the sessions are there) and the view says why it is empty.
    QVERIFY(window_->lastError().isEmpty());
    QCOMPARE(window_->document()->trace()->sessions.size(), sessions);
    const QString reason = page->emptyReason();
    QVERIFY2(reason.startsWith(QStringLiteral("No stacks recorded")), qPrintable(reason));
    QVERIFY2(reason.contains(why), qPrintable(reason));
    QCOMPARE(reason.count(QStringLiteral(". ")), 0); // one sentence
    QVERIFY(reason.endsWith(QLatin1Char('.')));
    QCOMPARE(page->model()->rowCount(), 0);
    QVERIFY(!page->tree()->isVisible());
    // The other views work as before.
    window_->setCurrentView(QStringLiteral("blocks"));
    waitIdle();
    window_->setCurrentView(QStringLiteral("leaks"));
    waitIdle();

    // A trace with stacks afterwards shows the tree again.
    page = open(sitesPath_);
    QVERIFY(page);
    QVERIFY(page->emptyReason().isEmpty());
    QVERIFY(page->tree()->isVisible());
}

void TestStacks::blocksAndTailInspectorShowTheAllocatingStack() {
    const QString corrupt = dir_.filePath(QStringLiteral("corrupt.memlife"));
    test::writeSitesTrace(corrupt.toStdString(), 16, /*corrupt=*/true);
    QVERIFY(open(corrupt));
    // The blocks view opens on the session with the corruption, its corrupted block current.
    window_->setCurrentView(QStringLiteral("blocks"));
    auto* blocks = qobject_cast<BlocksPage*>(window_->page(QStringLiteral("blocks")));
    waitIdle();
    StackPanel* panel = blocks->stackPanel();
    QVERIFY(!panel->frames().empty());
    QVERIFY(frameFunction(panel->frames()[0]).contains(QStringLiteral("overrun_buffer")));
    QVERIFY(panel->toPlainText().contains(QStringLiteral("stack_fixture.hpp:")));
    // Another block: another stack.
    const QModelIndex current = blocks->table()->currentIndex();
    blocks->table()->setCurrentIndex(blocks->table()->model()->index(0, 0));
    QVERIFY(blocks->table()->currentIndex() != current);
    waitIdle();
    QVERIFY(!panel->frames().empty());
    QVERIFY(!frameFunction(panel->frames()[0]).contains(QStringLiteral("overrun_buffer")));
    // The tail inspector names the allocating stack too, as pageheap does.
    TailInspector* inspector = blocks->inspect(current.row());
    QVERIFY(inspector);
    QTRY_VERIFY_WITH_TIMEOUT(!inspector->stackPanel()->isLoading(), 10000);
    QVERIFY(!inspector->stackPanel()->frames().empty());
    QVERIFY(frameFunction(inspector->stackPanel()->frames()[0])
                .contains(QStringLiteral("overrun_buffer")));
    QVERIFY(inspector->stackPanel()->toPlainText().contains(QStringLiteral("stack_fixture.hpp:")));
    inspector->close();

    // Without stacks, the panel says why.
    const QString off = dir_.filePath(QStringLiteral("corrupt-off.memlife"));
    test::writeSitesTrace(off.toStdString(), 0, /*corrupt=*/true);
    QVERIFY(open(off));
    window_->setCurrentView(QStringLiteral("blocks"));
    blocks = qobject_cast<BlocksPage*>(window_->page(QStringLiteral("blocks")));
    waitIdle();
    QVERIFY(blocks->stackPanel()->frames().empty());
    QVERIFY(blocks->stackPanel()->toPlainText().contains(QStringLiteral("no stacks recorded")));
}

void TestStacks::leakSuspectsNameTheGrowingStack() {
    QVERIFY(open(sitesPath_));
    window_->setCurrentView(QStringLiteral("leaks"));
    auto* leaks = qobject_cast<LeaksPage*>(window_->page(QStringLiteral("leaks")));
    waitIdle();
    LeakSuspectsModel* model = leaks->model();
    QCOMPARE(model->rowCount(), Sites::kSessions); // each grows by kCache per request
    for (int row = 0; row < model->rowCount(); ++row) {
        const QModelIndex cell = model->index(row, LeakSuspectsModel::GrowingStack);
        QVERIFY2(cell.data().toString().contains(QStringLiteral("cache_session_state")),
                 qPrintable(cell.data().toString()));
        QVERIFY(cell.data().toString().contains(QStringLiteral("40 B")));
        QVERIFY(cell.data(Qt::ToolTipRole).toString().contains(QStringLiteral("serve_request")));
    }
}

void TestStacks::mergedTreeKeepsNodesOnlyInTheBase() {
    // root -> a (both), b (base only) -> c (base only); a matched by function and file
    // whatever its address and line.
    auto node = [](std::uint32_t parent, const char* function, std::uint32_t line,
                   std::uint64_t bytes, std::vector<std::uint32_t> children) {
        data::StackTreeNode n;
        n.parent = parent;
        n.frame = {
            .function = function, .file = "x.cpp", .line = line, .module = "m", .address = line};
        n.cost.bytes_allocated = bytes;
        n.children = std::move(children);
        return n;
    };
    data::StackTree next, base;
    next.nodes = {node(0, "", 0, 100, {1}), node(0, "a", 10, 100, {})};
    base.nodes = {node(0, "", 0, 70, {1, 2}), node(0, "a", 12, 40, {}), node(0, "b", 3, 30, {3}),
                  node(2, "c", 4, 30, {})};
    const MergedTree merged = mergeBaseTree(next, base);
    StackTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setTree(merged.tree, merged.base);
    QVERIFY(model.comparing());
    QCOMPARE(model.columnCount(), int(StackTreeModel::ColumnCount));
    QCOMPARE(model.rowCount(), 2);
    const QModelIndex a = rowOf(&model, QStringLiteral("a"));
    QCOMPARE(bytes(a, StackTreeModel::AllocatedBase), 40.0);
    QCOMPARE(bytes(a, StackTreeModel::AllocatedChange), 60.0);
    QCOMPARE(a.siblingAtColumn(StackTreeModel::AllocatedChange).data().toString(),
             QStringLiteral("+60 B"));
    const QModelIndex b = rowOf(&model, QStringLiteral("b"));
    QVERIFY(b.isValid());
    QCOMPARE(bytes(b, StackTreeModel::Allocated), 0.0);
    QCOMPARE(bytes(b, StackTreeModel::AllocatedChange), -30.0);
    QCOMPARE(
        b.siblingAtColumn(StackTreeModel::AllocatedChange).data(Qt::ForegroundRole).value<QColor>(),
        improvementColor());
    QCOMPARE(model.rowCount(b), 1);
    QCOMPARE(bytes(model.index(0, 0, b), StackTreeModel::AllocatedBase), 30.0);
    model.setTree(merged.tree); // compare mode left: the columns of the trace alone
    QCOMPARE(model.columnCount(), int(StackTreeModel::kColumnsAlone));
}

void TestStacks::comparedWithTheBaseTheFixedSiteShrinks() {
    AllocationSitesPage* page = open(fixedPath_);
    QVERIFY(page);
    QSignalSpy baseLoaded(window_.get(), &MainWindow::baseLoaded);
    window_->compareWith(sitesPath_); // the base: the growing site not yet fixed
    QVERIFY(baseLoaded.wait(20000));
    waitIdle();
    QVERIFY2(page->header()->text().contains(QStringLiteral("Compared with all sessions of")),
             qPrintable(page->header()->text()));
    for (auto direction : {AllocationSitesPage::BottomUp, AllocationSitesPage::TopDown}) {
        page->setDirection(direction);
        waitIdle();
        QAbstractItemModelTester tester(page->tree()->model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(page->model()->comparing());
        QCOMPARE(page->tree()->model()->columnCount(), int(StackTreeModel::ColumnCount));
        // Each base column right of its value, each change right of the base.
        const QHeaderView* header = page->tree()->header();
        QCOMPARE(header->visualIndex(StackTreeModel::LiveAtEndBase),
                 header->visualIndex(StackTreeModel::LiveAtEnd) + 1);
        QCOMPARE(header->visualIndex(StackTreeModel::LiveAtEndChange),
                 header->visualIndex(StackTreeModel::LiveAtEnd) + 2);
    }
    page->setDirection(AllocationSitesPage::BottomUp);
    waitIdle();
    const QAbstractItemModel* model = page->tree()->model();
    QCOMPARE(model->rowCount(), 4); // the same four sites matched, none only in one trace
    const double requests = double(Sites::kSessions) * Sites::kRequests;
    const QModelIndex cache = rowOf(model, QStringLiteral("cache_session_state"));
    QVERIFY(cache.isValid());
    // The fixed site: what stayed live and the growth gone, its allocations unchanged.
    QCOMPARE(bytes(cache, StackTreeModel::LiveAtEndBase), requests * Sites::kCache);
    QCOMPARE(bytes(cache, StackTreeModel::LiveAtEndChange), -requests * Sites::kCache);
    QVERIFY(bytes(cache, StackTreeModel::GrowthBase) > 0.9 * Sites::kSessions * Sites::kCache);
    QVERIFY(bytes(cache, StackTreeModel::GrowthChange) < -0.9 * Sites::kSessions * Sites::kCache);
    QCOMPARE(bytes(cache, StackTreeModel::AllocatedChange), 0.0);
    const QModelIndex change = cache.siblingAtColumn(StackTreeModel::LiveAtEndChange);
    QVERIFY2(change.data().toString().startsWith(QChar(0x2212)),
             qPrintable(change.data().toString()));
    QCOMPARE(change.data(Qt::ForegroundRole).value<QColor>(), improvementColor());
    // Its caller matched too (by function and file: its lines differ between the builds).
    const QModelIndex caller = rowOf(model, QStringLiteral("serve_request"), cache);
    QVERIFY(caller.isValid());
    QCOMPARE(bytes(caller, StackTreeModel::LiveAtEndChange), -requests * Sites::kCache);
    // The unchanged sites: no change, nothing coloured.
    for (const char* site : {"parse_headers", "build_response", "log_access"}) {
        const QModelIndex row = rowOf(model, QString::fromLatin1(site));
        QVERIFY2(row.isValid(), site);
        for (int column :
             {int(StackTreeModel::AllocatedChange), int(StackTreeModel::LiveAtEndChange),
              int(StackTreeModel::GrowthChange)}) {
            QVERIFY2(std::abs(bytes(row, column)) < 0.5, site);
            QVERIFY2(!row.siblingAtColumn(column).data(Qt::ForegroundRole).isValid(), site);
        }
        QVERIFY2(bytes(row, StackTreeModel::AllocatedBase) > 0, site);
    }
    // Comparing no more: the trace's own columns, in their places.
    window_->stopComparing();
    waitIdle();
    QVERIFY(!page->model()->comparing());
    QCOMPARE(model->columnCount(), int(StackTreeModel::kColumnsAlone));
    for (int column = 0; column < StackTreeModel::kColumnsAlone; ++column)
        QCOMPARE(page->tree()->header()->visualIndex(column), column);
    QVERIFY(!page->header()->text().contains(QStringLiteral("Compared")));
}

void TestStacks::baseWithoutStacksShowsThisTraceAlone() {
    const QString off = dir_.filePath(QStringLiteral("base-no-stacks.memlife"));
    test::writeSitesTrace(off.toStdString(), /*stackDepth=*/0);
    AllocationSitesPage* page = open(fixedPath_);
    QVERIFY(page);
    QSignalSpy baseLoaded(window_.get(), &MainWindow::baseLoaded);
    window_->compareWith(off);
    QVERIFY(baseLoaded.wait(20000));
    waitIdle();
    QVERIFY2(page->header()->text().contains(
                 QStringLiteral("The base base-no-stacks.memlife has no call stacks")),
             qPrintable(page->header()->text()));
    QVERIFY(!page->model()->comparing());
    QCOMPARE(page->tree()->model()->columnCount(), int(StackTreeModel::kColumnsAlone));
    QVERIFY(rowOf(page->tree()->model(), QStringLiteral("parse_headers")).isValid());
}

QTEST_MAIN(TestStacks)
#include "tst_stacks.moc"
