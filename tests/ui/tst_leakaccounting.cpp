// Leak numbers never contradict themselves, on every trace the project has: each simulated
// scenario (made by `memlife simulate`), every committed fixture that imports (the nginx
// captures and hand-made logs, the JSON-lines files), and the UI tests' recorded trace. As
// the GUI loads them (TraceLoader) and reads their blocks: a block is leaked at most once,
// and leaked bytes never exceed the bytes allocated, per session and in total.
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <map>

#include "memlife/data/import.hpp"
#include "memlife/data/reader.hpp"
#include "trace_fixture.hpp"
#include "window/traceloader.hpp"

using namespace memlife;
using namespace memlife::ui;

class TestLeakAccounting : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void leakedNeverExceedsAllocated_data();
    void leakedNeverExceedsAllocated();

private:
    QTemporaryDir dir_;
};

void TestLeakAccounting::initTestCase() {
    QVERIFY(dir_.isValid());
}

void TestLeakAccounting::leakedNeverExceedsAllocated_data() {
    QTest::addColumn<QString>("trace");
    // Every scenario, several keep-alive connections each.
    for (const char* scenario :
         {"keepalive-leak", "per-request", "tail-overrun", "missing-free", "mixed"}) {
        const QString path = dir_.filePath(QStringLiteral("%1.memlife").arg(scenario));
        QProcess cli;
        cli.start(QStringLiteral(MEMLIFE_CLI),
                  {QStringLiteral("simulate"), QStringLiteral("--scenario"),
                   QString::fromLatin1(scenario), QStringLiteral("--connections"),
                   QStringLiteral("12"), QStringLiteral("--requests-per-connection"),
                   QStringLiteral("25"), QStringLiteral("-o"), path});
        QVERIFY(cli.waitForFinished(120000));
        QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
        QTest::newRow(scenario) << path;
    }
    // Every committed fixture that imports (the others are the importers' bad-input cases).
    const QString fixtures = QStringLiteral(MEMLIFE_SOURCE_DIR "/tests/fixtures");
    int imported = 0;
    for (const QString& folder : {fixtures, fixtures + QStringLiteral("/import")}) {
        for (const QFileInfo& file : QDir(folder).entryInfoList(QDir::Files, QDir::Name)) {
            const bool nginx = file.suffix() == QLatin1String("log");
            if (!nginx && file.suffix() != QLatin1String("jsonl")) continue;
            const QString path = dir_.filePath(file.fileName() + QStringLiteral(".memlife"));
            data::ImportOptions options;
            options.lenient = true;
            try {
                if (nginx)
                    data::import_nginx_to_trace(file.filePath().toStdString(), path.toStdString(),
                                                options);
                else
                    data::import_jsonl_to_trace(file.filePath().toStdString(), path.toStdString(),
                                                options);
            } catch (const data::ImportError&) {
                continue; // not a trace in any mode: an empty or foreign file
            }
            ++imported;
            QTest::newRow(qPrintable(file.fileName())) << path;
        }
    }
    QVERIFY2(imported >= 10, "the fixtures were not found");
    const QString recorded = dir_.filePath(QStringLiteral("recorded.memlife"));
    test::writeKeepAliveTrace(recorded.toStdString(), 50);
    QTest::newRow("recorded") << recorded;
}

void TestLeakAccounting::leakedNeverExceedsAllocated() {
    QFETCH(QString, trace);
    const std::atomic<bool> canceled{false};
    const std::shared_ptr<LoadedTrace> loaded = TraceLoader::loadNow(
        trace, [](int) {}, canceled);
    QVERIFY(loaded);
    data::TraceReader reader(trace.toStdString());
    std::uint64_t allocatedTotal = 0, leakedTotal = 0;
    for (const data::SessionRow& s : loaded->sessions) {
        std::uint64_t allocated = 0, leakedBlocks = 0, leakedBlockBytes = 0;
        reader.for_each_block(s.id, [&](const data::BlockRow& b) {
            allocated += b.size;
            if (b.leaked) ++leakedBlocks, leakedBlockBytes += b.size;
            return true;
        });
        const QByteArray where = QStringLiteral("session %1: %2 leak(s) of %3 B, %4 B allocated")
                                     .arg(s.id)
                                     .arg(s.leaks)
                                     .arg(s.leaked_bytes)
                                     .arg(allocated)
                                     .toUtf8();
        QVERIFY2(s.leaked_bytes <= allocated, where.constData());
        // Each leak is a block of its own: reported once, with its own size.
        QVERIFY2(s.leaks == leakedBlocks, where.constData());
        QVERIFY2(s.leaked_bytes == leakedBlockBytes, where.constData());
        allocatedTotal += allocated;
        leakedTotal += s.leaked_bytes;
    }
    QVERIFY(leakedTotal <= allocatedTotal);
    std::uint64_t reports = 0;
    for (const data::SessionRow& s : loaded->sessions)
        reports += s.leaks;
    QCOMPARE(std::uint64_t(loaded->leaks.size()), reports); // one report per leaked block
}

QTEST_MAIN(TestLeakAccounting)
#include "tst_leakaccounting.moc"
