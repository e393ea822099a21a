// Every model of memlife::ui under QAbstractItemModelTester, over a trace recorded by the
// real allocator and recorder, plus what each model must show for it.
#include <QAbstractItemModelTester>
#include <QIcon>
#include <QLabel>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>

#include "memlife/data/findings.hpp"
#include "models/blocksmodel.hpp"
#include "models/eventfilter.hpp"
#include "models/eventlogmodel.hpp"
#include "models/leaksuspectsmodel.hpp"
#include "models/rankedproxy.hpp"
#include "models/sessionsmodel.hpp"
#include "models/sessionsproxy.hpp"
#include "pages/tailinspector.hpp"
#include "style/format.hpp"
#include "trace_fixture.hpp"
#include "window/traceloader.hpp"

using namespace memlife;
using namespace memlife::ui;
using Mode = QAbstractItemModelTester::FailureReportingMode;

class TestModels : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void sessionsModel();
    void sessionsProxy();
    void leakSuspects();
    void blocks();
    void eventLog();
    void eventLogRows();
    void eventLogSearch();
    void eventLogKindFilter();
    void eventLogWindowBeyondTheFirst();
    void tailInspector();

private:
    int rowOf(const QAbstractItemModel& model, std::uint64_t session) const;

    QTemporaryDir dir_;
    test::KeepAliveTrace ids_;
    TracePtr trace_;
};

void TestModels::initTestCase() {
    QVERIFY(dir_.isValid());
    const QString path = dir_.filePath(QStringLiteral("keepalive.memlife"));
    // 3000 busy requests: more events than one EventLogModel window.
    ids_ = test::writeKeepAliveTrace(path.toStdString(), 3000);
    std::atomic<bool> canceled{false};
    trace_ = TraceLoader::loadNow(
        path, [](int) {}, canceled);
    QVERIFY(trace_);
    QCOMPARE(trace_->sessions.size(), std::size_t(5));
}

int TestModels::rowOf(const QAbstractItemModel& model, std::uint64_t session) const {
    for (int row = 0; row < model.rowCount(); ++row)
        if (model.index(row, 0).data(SessionIdRole).toULongLong() == session) return row;
    return -1;
}

void TestModels::sessionsModel() {
    SessionsModel model;
    QAbstractItemModelTester tester(&model, Mode::QtTest);
    model.setTrace(trace_);
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.columnCount(), int(SessionsModel::ColumnCount));

    const int corrupt = rowOf(model, ids_.corrupt), clean = rowOf(model, ids_.clean),
              noted = rowOf(model, ids_.noted), leaky = rowOf(model, ids_.leaky);
    QVERIFY(corrupt >= 0 && clean >= 0 && noted >= 0 && leaky >= 0);
    // Problem rows carry an icon (not colour alone) and a tooltip.
    QVERIFY(
        !model.index(corrupt, SessionsModel::Id).data(Qt::DecorationRole).value<QIcon>().isNull());
    QVERIFY(
        !model.index(noted, SessionsModel::Id).data(Qt::DecorationRole).value<QIcon>().isNull());
    QVERIFY(!model.index(clean, SessionsModel::Id).data(Qt::DecorationRole).isValid());
    QVERIFY(model.index(corrupt, 0).data(ProblemRole).toBool());
    QVERIFY(!model.index(clean, 0).data(ProblemRole).toBool());
    QVERIFY(model.index(corrupt, 0)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("1 corruption")));

    QCOMPARE(model.index(leaky, SessionsModel::Peer).data().toString(),
             QStringLiteral("10.0.0.7:51234"));
    QCOMPARE(model.index(leaky, SessionsModel::Requests).data(SortRole).toULongLong(),
             qulonglong(test::KeepAliveTrace::kLeakRequests));
    QCOMPARE(model.index(corrupt, SessionsModel::Corruptions).data(SortRole).toULongLong(), 1ull);
    QCOMPARE(model.index(noted, SessionsModel::Leaks).data(SortRole).toULongLong(), 1ull);
    // Everything the session allocated with AllocMem goes at END_OF_NET_SESSION.
    QCOMPARE(
        model.index(leaky, SessionsModel::ReleasedAtClose).data(SortRole).toULongLong(),
        qulonglong(test::KeepAliveTrace::kLeakRequests * test::KeepAliveTrace::kLeakPerRequest));
    const double growth =
        model.index(leaky, SessionsModel::GrowthPerRequest).data(SortRole).toDouble();
    QVERIFY2(std::abs(growth - test::KeepAliveTrace::kLeakPerRequest) < 1.0,
             qPrintable(QString::number(growth)));

    model.setTrace(nullptr);
    QCOMPARE(model.rowCount(), 0);
}

void TestModels::sessionsProxy() {
    SessionsModel model;
    SessionsProxy proxy;
    proxy.setSourceModel(&model);
    QAbstractItemModelTester tester(&proxy, Mode::QtTest);
    model.setTrace(trace_);
    QCOMPARE(proxy.rowCount(), 5);

    proxy.setText(QStringLiteral("10.0.0.7:"));
    QStringList shown;
    for (int row = 0; row < proxy.rowCount(); ++row)
        shown << proxy.index(row, SessionsModel::Peer).data().toString();
    QVERIFY2(proxy.rowCount() == 1, qPrintable(shown.join(QLatin1Char(' '))));
    QCOMPARE(proxy.index(0, 0).data(SessionIdRole).toULongLong(), qulonglong(ids_.leaky));
    // An id matches exactly (and the peers that contain the digits).
    proxy.setText(QString::number(ids_.corrupt));
    QVERIFY(rowOf(proxy, ids_.corrupt) >= 0);
    QVERIFY(rowOf(proxy, ids_.noted) < 0);
    proxy.setText(QString());

    // Findings: the corruption, the leak, and the keep-alive growth (1 KiB per request;
    // the busy session's 32 B per request is below the default limit of 64 B).
    proxy.setProblemsOnly(true);
    QCOMPARE(proxy.rowCount(), 3);
    QVERIFY(rowOf(proxy, ids_.corrupt) >= 0 && rowOf(proxy, ids_.noted) >= 0);
    QVERIFY(rowOf(proxy, ids_.leaky) >= 0);
    QVERIFY(rowOf(proxy, ids_.busy) < 0);
    // The limit is a setting: at 16 B per request the busy session grows too.
    model.setMaxGrowth(16);
    QCOMPARE(proxy.rowCount(), 4);
    QVERIFY(rowOf(proxy, ids_.busy) >= 0);
    model.setMaxGrowth(data::kDefaultMaxGrowth);
    QCOMPARE(proxy.rowCount(), 3);
    proxy.setProblemsOnly(false);

    // Sorted by the raw number, not the formatted text ("24.00 KiB" < "4.00 KiB" as text).
    proxy.sort(SessionsModel::PeakBytes, Qt::DescendingOrder);
    QCOMPARE(proxy.index(0, 0).data(SessionIdRole).toULongLong(), qulonglong(ids_.busy));
    for (int row = 1; row < proxy.rowCount(); ++row)
        QVERIFY(proxy.index(row - 1, SessionsModel::PeakBytes).data(SortRole).toULongLong() >=
                proxy.index(row, SessionsModel::PeakBytes).data(SortRole).toULongLong());
    QCOMPARE(proxy.index(1, 0).data(SessionIdRole).toULongLong(), qulonglong(ids_.leaky));
    QCOMPARE(
        proxy.index(1, SessionsModel::PeakBytes).data(SortRole).toULongLong(),
        qulonglong(test::KeepAliveTrace::kLeakRequests * test::KeepAliveTrace::kLeakPerRequest +
                   test::KeepAliveTrace::kRequestScratch));
}

void TestModels::leakSuspects() {
    LeakSuspectsModel model;
    RankedProxy proxy;
    proxy.setSourceModel(&model);
    QAbstractItemModelTester tester(&model, Mode::QtTest);
    QAbstractItemModelTester proxyTester(&proxy, Mode::QtTest);
    model.setTrace(trace_);
    QVERIFY(rowOf(model, ids_.clean) < 0); // flat sessions are no suspects
    QVERIFY(rowOf(model, ids_.leaky) >= 0);
    QVERIFY(rowOf(model, ids_.noted) >= 0);

    proxy.sort(LeakSuspectsModel::GrowthPerRequest, Qt::DescendingOrder);
    QCOMPARE(proxy.index(0, 0).data(SessionIdRole).toULongLong(), qulonglong(ids_.leaky));
    QCOMPARE(proxy.headerData(0, Qt::Vertical).toInt(), 1);
    proxy.sort(LeakSuspectsModel::LeakedBytes, Qt::DescendingOrder);
    QCOMPARE(proxy.index(0, 0).data(SessionIdRole).toULongLong(), qulonglong(ids_.noted));
    QCOMPARE(proxy.index(0, LeakSuspectsModel::LeakedBytes).data(SortRole).toULongLong(),
             qulonglong(test::KeepAliveTrace::kNotedLeakSize));
}

void TestModels::blocks() {
    BlocksModel model;
    QAbstractItemModelTester tester(&model, Mode::QtTest);
    QSignalSpy loaded(&model, &BlocksModel::loaded);

    model.setSession(trace_, ids_.leaky);
    QVERIFY(model.isLoading());
    QVERIFY(loaded.wait(10000));
    QCOMPARE(model.rowCount(), int(2 * test::KeepAliveTrace::kLeakRequests));
    int sessionBlocks = 0;
    for (int row = 0; row < model.rowCount(); ++row) {
        const data::BlockRow* block = model.row(row);
        QCOMPARE(block->tail, data::TailStatus::Intact);
        QVERIFY(block->release_ns >= block->alloc_ns);
        if (block->scope == Scope::Session) {
            ++sessionBlocks;
            QCOMPARE(block->size, std::uint64_t(test::KeepAliveTrace::kLeakPerRequest));
            QCOMPARE(model.index(row, BlocksModel::Notification).data().toString(),
                     QStringLiteral("URL_MAP"));
        }
    }
    QCOMPARE(sessionBlocks, int(test::KeepAliveTrace::kLeakRequests));
    // Sizes carry their unit; a time column keeps one unit all the way down.
    for (int row = 0; row < model.rowCount(); ++row)
        QVERIFY(
            model.index(row, BlocksModel::Size).data().toString() == QStringLiteral("1.00 KiB") ||
            model.index(row, BlocksModel::Size).data().toString() == QStringLiteral("4.00 KiB"));
    for (int column : {int(BlocksModel::AllocatedAt), int(BlocksModel::ReleasedAt)}) {
        QSet<QString> units;
        for (int row = 0; row < model.rowCount(); ++row)
            units.insert(model.index(row, column).data().toString().section(QLatin1Char(' '), 1));
        QCOMPARE(units.size(), 1);
    }

    model.setSession(trace_, ids_.corrupt);
    QVERIFY(loaded.wait(10000));
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0, BlocksModel::Tail).data().toString(), QStringLiteral("corrupted"));
    QVERIFY(model.index(0, 0).data(ProblemRole).toBool());
    QVERIFY(!model.index(0, 0).data(Qt::DecorationRole).value<QIcon>().isNull());

    model.setSession(trace_, ids_.noted);
    QVERIFY(loaded.wait(10000));
    QCOMPARE(model.rowCount(), 1);
    QVERIFY(model.row(0)->leaked);
    QCOMPARE(model.index(0, BlocksModel::Origin).data().toString(), QStringLiteral("noted"));
    // Nothing freed the leaked block: the close released it, and the column says so.
    QCOMPARE(model.row(0)->released_by, data::ReleasedBy::SessionClose);
    QCOMPARE(model.index(0, BlocksModel::ReleasedAt).data().toString(),
             QStringLiteral("at connection close"));
}

void TestModels::eventLog() {
    EventLogModel model;
    QAbstractItemModelTester tester(&model, Mode::QtTest);
    QSignalSpy counted(&model, &EventLogModel::countingFinished);
    model.setSource(trace_, ids_.leaky, std::nullopt);
    QVERIFY(counted.wait(10000));
    const data::SessionRow* leaky = trace_->session(ids_.leaky);
    QCOMPARE(std::uint64_t(model.rowCount()), leaky->events);
    QCOMPARE(model.index(0, EventLogModel::Kind).data().toString(),
             eventKindLabel(EventKind::SessionOpen));
    QCOMPARE(model.index(model.rowCount() - 1, EventLogModel::Kind).data().toString(),
             eventKindLabel(EventKind::SessionClose));
    QCOMPARE(model.index(0, EventLogModel::Session).data().toString(), QString::number(ids_.leaky));

    model.setSource(trace_, std::nullopt, std::nullopt);
    QVERIFY(counted.wait(10000));
    QCOMPARE(std::uint64_t(model.rowCount()), trace_->info.events);
}

// Rows read as text: human kind names, a scope's release says its bytes and block count
// (never in the Block column), sizes with their unit.
void TestModels::eventLogRows() {
    EventLogModel model;
    QSignalSpy counted(&model, &EventLogModel::countingFinished);
    model.setSource(trace_, ids_.clean, EventKind::RequestEnd);
    QVERIFY(counted.wait(10000));
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.index(0, EventLogModel::Kind).data().toString(), QStringLiteral("Request end"));
    QCOMPARE(model.index(0, EventLogModel::Block).data().toString(), QString());
    QCOMPARE(model.index(0, EventLogModel::Size).data().toString(),
             QStringLiteral("4.00 KiB in 1 block"));
    model.setSource(trace_, ids_.noted, EventKind::Alloc);
    QVERIFY(counted.wait(10000));
    QCOMPARE(model.index(0, EventLogModel::Kind).data().toString(), QStringLiteral("Allocation"));
    QCOMPARE(model.index(0, EventLogModel::Size).data().toString(), QStringLiteral("256 B"));
    QCOMPARE(model.index(0, EventLogModel::Block).data().toString(), QStringLiteral("1"));
    for (int k = 1; k <= kEventKindMax; ++k)
        QVERIFY(!eventKindLabel(EventKind(k)).contains(QLatin1Char('_')));
}

// The search: by peer, session id, kind, notification, address and report text; a window
// beyond the first starts at a checkpoint of the count and still gives the right rows.
void TestModels::eventLogSearch() {
    EventLogModel model;
    QAbstractItemModelTester tester(&model, Mode::QtTest);
    QSignalSpy counted(&model, &EventLogModel::countingFinished);
    QSignalSpy windowLoaded(&model, &EventLogModel::windowLoaded);
    auto search = [&](const QString& text, std::optional<EventKind> kind = std::nullopt) {
        model.setSource(trace_, std::nullopt, kind, text);
        return counted.wait(10000) ? model.rowCount() : -1;
    };
    // A peer: every event of that session (and no other: 10.0.0.1 is no other's prefix).
    QCOMPARE(std::uint64_t(search(QStringLiteral("10.0.0.8:"))),
             trace_->session(ids_.clean)->events);
    QVERIFY(model.isFiltered());
    // A kind by its name, any case; narrowed further by the kind filter.
    QCOMPARE(search(QStringLiteral("LEAK")), 1);
    QCOMPARE(search(QStringLiteral("10.0.0.10"), EventKind::Leak), 1);
    QCOMPARE(search(QStringLiteral("10.0.0.8:"), EventKind::Leak), 0);
    // An address, with or without 0x: the noted block's Alloc and Leak events.
    const data::LeakRow& leak = trace_->leaks.front();
    const QString address = formatAddress(leak.address);
    QVERIFY(search(address) >= 2);
    QCOMPARE(search(address.mid(2)), search(address));
    // The report's text.
    QVERIFY(search(QStringLiteral("still live at end of request")) >= 1);
    QCOMPARE(search(QStringLiteral("no such thing anywhere")), 0);

    // The busy session by its peer: more rows than a window; the middle one is the session's
    // event at that position.
    const int rows = search(QStringLiteral("10.0.0.11"));
    QCOMPARE(std::uint64_t(rows), trace_->session(ids_.busy)->events);
    const int middle = rows / 2 + 7;
    QVERIFY(middle > EventLogModel::kWindow);
    QVERIFY(!model.eventAt(middle));
    model.index(middle, EventLogModel::Time).data();
    QVERIFY(windowLoaded.wait(10000));
    QVERIFY(model.eventAt(middle));
    Event expected;
    int n = 0;
    data::TraceReader(trace_->path.toStdString())
        .for_each_event(
            [&](const Event& e) {
                if (n++ < middle) return true;
                expected = e;
                return false;
            },
            ids_.busy);
    QCOMPARE(std::memcmp(model.eventAt(middle), &expected, sizeof(Event)), 0);
}

void TestModels::eventLogKindFilter() {
    EventLogModel model;
    QAbstractItemModelTester tester(&model, Mode::QtTest);
    QSignalSpy counted(&model, &EventLogModel::countingFinished);
    model.setSource(trace_, std::nullopt, EventKind::Corruption);
    QVERIFY(counted.wait(10000));
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0, EventLogModel::Session).data().toString(),
             QString::number(ids_.corrupt));
    QVERIFY(!model.index(0, EventLogModel::Kind).data(Qt::DecorationRole).value<QIcon>().isNull());

    model.setSource(trace_, std::nullopt, EventKind::RequestEnd);
    QVERIFY(counted.wait(10000));
    std::uint64_t requests = 0;
    for (const auto& s : trace_->sessions)
        requests += s.requests;
    QCOMPARE(std::uint64_t(model.rowCount()), requests);
}

void TestModels::eventLogWindowBeyondTheFirst() {
    EventLogModel model;
    QAbstractItemModelTester tester(&model, Mode::QtTest);
    QSignalSpy counted(&model, &EventLogModel::countingFinished);
    QSignalSpy windowLoaded(&model, &EventLogModel::windowLoaded);
    model.setSource(trace_, ids_.busy, std::nullopt);
    QVERIFY(counted.wait(10000));
    const int last = model.rowCount() - 1;
    QVERIFY(last > EventLogModel::kWindow);
    // Outside the first window: a placeholder first, then the decoded row.
    QVERIFY(!model.eventAt(last));
    QCOMPARE(model.index(last, EventLogModel::Time).data().toString(), QStringLiteral("…"));
    QVERIFY(windowLoaded.wait(10000));
    QVERIFY(model.eventAt(last));
    QCOMPARE(model.index(last, EventLogModel::Kind).data().toString(),
             eventKindLabel(EventKind::SessionClose));
    QCOMPARE(model.index(last, EventLogModel::Index).data().toString(), QString::number(last + 1));
    QVERIFY(!model.eventAt(0)); // memory stays bounded: one window at a time

    // The stream of all sessions, read from the middle: row r is the reader's event r.
    model.setSource(trace_, std::nullopt, std::nullopt);
    QVERIFY(counted.wait(10000));
    const int middle = model.rowCount() / 2 + 3;
    QVERIFY(middle > EventLogModel::kWindow);
    QVERIFY(!model.eventAt(middle));
    model.index(middle, EventLogModel::Time).data(); // asks for the window around it
    QVERIFY(windowLoaded.wait(10000));
    QVERIFY(model.eventAt(middle));
    Event expected;
    int n = 0;
    data::TraceReader(trace_->path.toStdString()).for_each_event([&](const Event& e) {
        if (n++ < middle) return true;
        expected = e;
        return false;
    });
    QCOMPARE(std::memcmp(model.eventAt(middle), &expected, sizeof(Event)), 0);
}

void TestModels::tailInspector() {
    QCOMPARE(trace_->corruptions.size(), std::size_t(1));
    const data::CorruptionRow& corruption = trace_->corruptions.front();
    QCOMPARE(corruption.session, ids_.corrupt);
    QCOMPARE(corruption.size, std::uint64_t(test::KeepAliveTrace::kCorruptBlockSize));
    TailInspector inspector(corruption);
    QCOMPARE(inspector.firstModifiedOffset(), 0);
    QCOMPARE(int(corruption.first_offset), 0);
    const QString html = inspector.hexHtml();
    QVERIFY(html.contains(QStringLiteral("underline")));
    // The found bytes are the zeros written past the end.
    QVERIFY(html.contains(QStringLiteral(">00</span>")));
    QVERIFY(!QString::fromStdString(corruption.message).isEmpty());
    // Where it was found in words, not "END_OF_NET_SESSION (request 0)".
    const QString summary = inspector.summaryText();
    // (The fixture closes the session without an END_OF_NET_SESSION notification.)
    QVERIFY2(
        summary.contains(QStringLiteral("damage found outside a request, after SEND_RAW_DATA")),
        qPrintable(summary));
    QVERIFY2(summary.contains(QStringLiteral("allocated in SEND_RAW_DATA of request 1")),
             qPrintable(summary));
    QVERIFY(!summary.contains(QStringLiteral("request 0")));
    // Expected and found on rows of their own, groups of four apart, with an ASCII column.
    QVERIFY(html.contains(QStringLiteral(">expected<")) &&
            html.contains(QStringLiteral(">found<")));
    QVERIFY(html.contains(QStringLiteral("&nbsp;&nbsp;&nbsp;")));
    QVERIFY(html.contains(QStringLiteral("ASCII")));
    QCOMPARE(html.count(QStringLiteral(">expected<")),
             int((corruption.expected.size() + TailInspector::kBytesPerRow - 1) /
                 TailInspector::kBytesPerRow));
    // The payload's absence is said, and the dialog is no larger than what it shows.
    QVERIFY(inspector.findChild<QLabel*>(QStringLiteral("tailPayloadNote")));
    inspector.show();
    QVERIFY(QTest::qWaitForWindowExposed(&inspector));
    QVERIFY2(inspector.height() < 400, qPrintable(QString::number(inspector.height())));
    QCOMPARE(TailInspector::detectionPlace(3, Notification::UrlMap),
             QStringLiteral("in URL_MAP of request 3"));
    QCOMPARE(TailInspector::detectionPlace(0, Notification::EndOfNetSession),
             QStringLiteral("at connection close"));
}

QTEST_MAIN(TestModels)
#include "tst_models.moc"
