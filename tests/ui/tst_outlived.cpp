// Blocks that outlived their connection (memlife record) in the models, shown like leaks:
// the sessions table's Outlived column, the leak suspects (ranked by outlived bytes), the
// blocks table's flag, tint, tooltip and filter. The trace is written by the real Recorder
// with ML_REPORT_OUTLIVED reports, as `memlife record` writes them.
#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include "memlife/data/recorder.hpp"
#include "memlife/stacks.hpp"
#include "models/blocksmodel.hpp"
#include "models/blocksproxy.hpp"
#include "models/itemroles.hpp"
#include "models/leaksuspectsmodel.hpp"
#include "models/rankedproxy.hpp"
#include "models/sessionsmodel.hpp"
#include "pages/leakspage.hpp"
#include "pages/overviewpage.hpp"
#include "window/mainwindow.hpp"
#include "window/tracedocument.hpp"
#include "window/traceloader.hpp"

using namespace memlife;
using namespace memlife::ui;
using Mode = QAbstractItemModelTester::FailureReportingMode;

namespace {

// Where the trace's blocks were allocated: their stacks, captured here (the recorder stores
// this process's stacks, and symbolizes them at commit).
[[gnu::noinline]] StackId keep_in_cache() {
    const StackId id = capture_stack(16);
    asm volatile("" ::: "memory");
    return id;
}
[[gnu::noinline]] StackId read_buffer() {
    const StackId id = capture_stack(16);
    asm volatile("nop" ::: "memory");
    return id;
}

// Session 1 keeps blocks 2 and 3 (allocated by keep_in_cache) (200 + 300 bytes) after its close;
// session 2 frees all.
void writeTrace(const std::string& path) {
    data::Recorder recorder(path, {.source = "record"});
    for (std::uint64_t s : {1, 2}) {
        Event e;
        e.session = s;
        e.time_ns = 1000;
        e.kind = EventKind::SessionOpen;
        recorder.on_session_open(e, "127.0.0.1:4000 (pid 7)");
        for (std::uint64_t b = 1; b <= 3; ++b) {
            e.kind = EventKind::Alloc;
            e.time_ns = 1000 + b;
            e.block = b;
            e.address = 0x1000 * s + 0x100 * b;
            e.size = 100 * b;
            e.flags = static_cast<std::uint8_t>(AllocOrigin::Noted);
            recorder.on_stacked_event(e, b == 1 ? read_buffer() : keep_in_cache());
        }
        if (s == 1)
            for (std::uint64_t b : {2, 3}) {
                ml_report r{};
                r.kind = ML_REPORT_OUTLIVED;
                r.session_id = s;
                r.block_id = b;
                r.address = 0x1000 * s + 0x100 * b;
                r.size = 100 * b;
                recorder.on_report(r);
            }
        e = Event{};
        e.session = s;
        e.time_ns = 2000;
        e.kind = EventKind::SessionClose;
        recorder.on_event(e);
    }
    recorder.commit();
}

} // namespace

class TestOutlived : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        const QString path = dir_.filePath(QStringLiteral("record.mltrace"));
        writeTrace(path.toStdString());
        std::atomic<bool> canceled{false};
        trace_ = TraceLoader::loadNow(
            path, [](int) {}, canceled);
        QVERIFY(trace_);
        QCOMPARE(trace_->sessions.size(), std::size_t(2));
    }

    void sessionsShowTheOutlivedColumn() {
        SessionsModel model;
        QAbstractItemModelTester tester(&model, Mode::QtTest);
        model.setTrace(trace_);
        QCOMPARE(model.headerData(SessionsModel::Outlived, Qt::Horizontal).toString(),
                 QStringLiteral("Outlived"));
        QCOMPARE(model.index(0, SessionsModel::Outlived).data().toString(),
                 QStringLiteral("2 (500 B)"));
        QCOMPARE(model.index(1, SessionsModel::Outlived).data().toString(), QStringLiteral("0"));
    }

    void outlivingSessionsAreSuspects() {
        LeakSuspectsModel model;
        RankedProxy proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester tester(&model, Mode::QtTest);
        model.setTrace(trace_);
        QCOMPARE(model.rowCount(), 1); // session 2 neither grows, leaks nor keeps blocks
        proxy.sort(LeakSuspectsModel::OutlivedBytes, Qt::DescendingOrder);
        QCOMPARE(proxy.index(0, 0).data(SessionIdRole).toULongLong(), qulonglong(1));
        QCOMPARE(proxy.index(0, LeakSuspectsModel::OutlivedBytes).data(SortRole).toULongLong(),
                 qulonglong(500));
        QCOMPARE(proxy.index(0, LeakSuspectsModel::Outlived).data().toString(),
                 QStringLiteral("2"));
    }

    void blocksAreFlaggedAndFiltered() {
        BlocksModel model;
        QAbstractItemModelTester tester(&model, Mode::QtTest);
        QSignalSpy loaded(&model, &BlocksModel::loaded);
        model.setSession(trace_, 1);
        QVERIFY(loaded.wait(10000));
        QCOMPARE(model.rowCount(), 3);
        for (int row = 0; row < 3; ++row) {
            const data::BlockRow* b = model.row(row);
            const bool outlived = b->id != 1;
            QCOMPARE(b->outlived, outlived);
            const QModelIndex leak = model.index(row, BlocksModel::Leaked);
            QCOMPARE(leak.data().toString(), outlived ? QStringLiteral("outlived") : QString());
            QCOMPARE(leak.data(ProblemRole).toBool(), outlived);
            QCOMPARE(model.index(row, BlocksModel::Id).data(Qt::ToolTipRole).toString().isEmpty(),
                     !outlived);
        }
        BlocksProxy proxy;
        proxy.setSourceModel(&model);
        proxy.setMode(BlocksProxy::OutlivedBlocks);
        QCOMPARE(proxy.rowCount(), 2);
    }

    // Only traces that can have them show the outlived columns: a recorded trace does, a
    // simulated one (the same sessions, no ML_REPORT_OUTLIVED: never outlived blocks)
    // shows no column of zeros and offers no ranking by them.
    void outlivedColumnsOnlyWhereTheyCanHoldSomething() {
        const QString simulated = dir_.filePath(QStringLiteral("simulated.mltrace"));
        {
            data::Recorder recorder(simulated.toStdString(), {.source = "simulate"});
            Event e;
            e.session = 1;
            e.time_ns = 1000;
            recorder.on_session_open(e, "127.0.0.1:4000");
            e.kind = EventKind::SessionClose;
            e.time_ns = 2000;
            recorder.on_event(e);
            recorder.commit();
        }
        MainWindow window(/*persistent=*/false);
        window.resize(1400, 900);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto* overview = qobject_cast<OverviewPage*>(window.page(QStringLiteral("overview")));
        auto* leaks = qobject_cast<LeaksPage*>(window.page(QStringLiteral("leaks")));
        QVERIFY(overview && leaks);
        auto* ranking = leaks->findChild<QComboBox*>(QStringLiteral("leakRanking"));
        QVERIFY(ranking);
        auto* items = qobject_cast<QStandardItemModel*>(ranking->model());
        QVERIFY(items);
        for (const bool recorded : {true, false, true}) {
            QSignalSpy loaded(&window, &MainWindow::traceLoaded);
            window.openTrace(recorded ? dir_.filePath(QStringLiteral("record.mltrace"))
                                      : simulated);
            QVERIFY(loaded.wait(10000));
            QCOMPARE(window.document()->trace()->tracksOutlived(), recorded);
            QCOMPARE(overview->table()->isColumnHidden(SessionsModel::Outlived), !recorded);
            QCOMPARE(leaks->table()->isColumnHidden(LeakSuspectsModel::OutlivedBytes), !recorded);
            QCOMPARE(leaks->table()->isColumnHidden(LeakSuspectsModel::Outlived), !recorded);
            QCOMPARE(items->item(2)->isEnabled(), recorded); // "bytes outliving ..."
        }
    }

    // A suspect that does not grow but kept blocks after the close is named by the stack
    // that allocated them (from the blocks' Alloc events), with the bytes it kept.
    void aKeepingSuspectNamesTheStackThatAllocatedTheOutlivedBlocks() {
        MainWindow window(/*persistent=*/false);
        window.resize(1400, 900);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QSignalSpy loaded(&window, &MainWindow::traceLoaded);
        window.openTrace(dir_.filePath(QStringLiteral("record.mltrace")));
        QVERIFY(loaded.wait(10000));
        QVERIFY(window.document()->trace()->stacks.recorded);
        QVERIFY(window.setCurrentView(QStringLiteral("leaks")));
        auto* leaks = qobject_cast<LeaksPage*>(window.page(QStringLiteral("leaks")));
        QTRY_VERIFY_WITH_TIMEOUT(!window.isBusy(), 20000);
        LeakSuspectsModel* model = leaks->model();
        QCOMPARE(model->rowCount(), 1); // session 1
        const QModelIndex cell = model->index(0, LeakSuspectsModel::GrowingStack);
        QTRY_VERIFY_WITH_TIMEOUT(!cell.data().toString().isEmpty(), 10000);
        QVERIFY2(cell.data().toString().contains(QStringLiteral("keep_in_cache")),
                 qPrintable(cell.data().toString()));
        QVERIFY2(cell.data().toString().contains(QStringLiteral("500 B outlived")),
                 qPrintable(cell.data().toString()));
        QVERIFY(!cell.data().toString().contains(QStringLiteral("read_buffer")));
    }

private:
    QTemporaryDir dir_;
    TracePtr trace_;
};

QTEST_MAIN(TestOutlived)
#include "tst_outlived.moc"
