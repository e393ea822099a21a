// Hostile and unfinished traces in the window (issue 18, classes 3 and 4): an incomplete
// recording and a trace whose batches contradict its summary are said in the status bar;
// values that open but are absurd (a session lasting 9e18 ns, 2^63-1 live bytes, request
// number 2^32-1, a growth of 1e300 bytes per request) are shown in every view with the
// sessions selected, without the memory growing with the values.
// tests/hostile/run-set.sh --gui takes screenshots of every view on the whole hostile set.
#include <QFile>
#include <QLabel>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include "trace_fixture.hpp"
#include "window/mainwindow.hpp"
#include "window/tracedocument.hpp"

using namespace memlife;
using namespace memlife::ui;

namespace {

bool execSql(const QString& path, const char* sql) {
    sqlite3* db = nullptr;
    const bool ok = sqlite3_open(path.toUtf8().constData(), &db) == SQLITE_OK &&
                    sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
    sqlite3_close(db);
    return ok;
}

// The most memory this process has had resident (VmHWM), in MiB.
double peakResidentMib() {
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly)) return -1;
    for (const QByteArray& line : status.readAll().split('\n'))
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').front().toDouble() / 1024.0;
    return -1;
}

QString statusText(const MainWindow& window) {
    const auto* label = window.findChild<QLabel*>(QStringLiteral("statusText"));
    return label ? label->text() : QString();
}

} // namespace

class TestHostile : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void incompleteRecordingIsSaid();
    void damagedTraceIsSaid();
    void absurdValuesInEveryView();

private:
    // A copy of the good trace with `sql` applied.
    QString changed(const QString& name, const char* sql);
    // Opens `path` in `window` and waits until it is loaded and checked.
    QString open(MainWindow& window, const QString& path);
    QTemporaryDir dir_;
    QString good_;
};

void TestHostile::initTestCase() {
    QVERIFY(dir_.isValid());
    good_ = dir_.filePath(QStringLiteral("good.memlife"));
    test::writeKeepAliveTrace(good_.toStdString(), 300);
}

QString TestHostile::changed(const QString& name, const char* sql) {
    const QString path = dir_.filePath(name);
    QFile::remove(path);
    if (!QFile::copy(good_, path) || !execSql(path, sql)) return {};
    return path;
}

QString TestHostile::open(MainWindow& window, const QString& path) {
    QSignalSpy checked(&window, &MainWindow::traceChecked);
    window.openTrace(path);
    if (!checked.wait(20000)) return QStringLiteral("<not checked>");
    return checked.front().front().toString();
}

void TestHostile::incompleteRecordingIsSaid() {
    MainWindow window(/*persistent=*/false);
    window.show();
    QCOMPARE(open(window, good_), QString());
    QVERIFY2(!statusText(window).contains(QStringLiteral("WARNING")),
             qPrintable(statusText(window)));

    const QString path = changed(QStringLiteral("incomplete.memlife"),
                                 "UPDATE meta SET value = 0 WHERE key = 'complete'");
    QVERIFY(!path.isEmpty());
    QCOMPARE(open(window, path), QString()); // incomplete is not damaged
    QVERIFY2(statusText(window).startsWith(QStringLiteral("WARNING: incomplete recording (")),
             qPrintable(statusText(window)));
}

void TestHostile::damagedTraceIsSaid() {
    // Opens (the summary agrees with the batches' index) but a session counts one event
    // fewer than its batches hold: only the full check, run after loading, sees it.
    const QString path = changed(QStringLiteral("damaged.memlife"),
                                 "UPDATE sessions SET events = events - 1 WHERE id = 1");
    QVERIFY(!path.isEmpty());
    MainWindow window(/*persistent=*/false);
    window.show();
    const QString damage = open(window, path);
    QVERIFY2(damage.contains(path + QStringLiteral(": damaged trace (session 1 counts ")),
             qPrintable(damage));
    QCOMPARE(window.damage(), damage);
    QVERIFY2(statusText(window).startsWith(QStringLiteral("WARNING: ") + damage),
             qPrintable(statusText(window)));
    QVERIFY(window.document()->trace()); // still open: the views show what they can
}

void TestHostile::absurdValuesInEveryView() {
    // Every value here passes the checks at open (the full check refuses the first ones).
    const QString path = changed(
        QStringLiteral("absurd.memlife"),
        "UPDATE meta SET value = 9000000000000000000 WHERE key = 'last_ns';"
        "UPDATE sessions SET close_ns = 9000000000000000000;"
        "UPDATE sessions SET peak_bytes = 4000000000000000000, growth_bytes_per_request = 1e300 "
        "WHERE id = 1;"
        "UPDATE sessions SET growth_bytes_per_request = -1e300 WHERE id = 2;"
        "UPDATE event_batches SET live_bytes_at_start = 9223372036854775807 WHERE id IN "
        "(SELECT max(id) FROM event_batches GROUP BY session);"
        "UPDATE request_batches SET count = 2, last_number = 4294967295, data = "
        "x'000000feffffffffffffffff010000000000fdffffff0f000001000000000000' WHERE batch = 0;"
        "UPDATE sessions SET peer = CAST(substr(CAST(replace(hex(zeroblob(240)), '00', "
        "CAST(x'1b5b33316d0a0d09ff' AS TEXT)) AS BLOB), 1, 1024) AS TEXT) WHERE id = 2;");
    QVERIFY(!path.isEmpty());
    MainWindow window(/*persistent=*/false);
    window.resize(1400, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const double before = peakResidentMib();
    QVERIFY2(open(window, path).contains(QStringLiteral("damaged trace")), "the full check");
    std::vector<std::uint64_t> all;
    for (const data::SessionRow& s : window.document()->trace()->sessions)
        all.push_back(s.id);
    for (const auto& selection :
         {std::vector<std::uint64_t>{}, all, std::vector<std::uint64_t>{all.front()}}) {
        window.document()->setSelection(selection);
        for (const char* view : {"overview", "growth", "leaks", "blocks", "events", "teaching"}) {
            QVERIFY(window.setCurrentView(QString::fromLatin1(view)));
            QTRY_VERIFY_WITH_TIMEOUT(!window.isBusy(), 20000);
            QCoreApplication::processEvents(); // paint
        }
    }
    QVERIFY(window.isVisible());
    const double grown = peakResidentMib() - before;
    qInfo("peak resident memory grew by %.0f MiB over every view with absurd values", grown);
    QVERIFY2(grown < 300, qPrintable(QStringLiteral("%1 MiB").arg(grown)));
}

QTEST_MAIN(TestHostile)
#include "tst_hostile.moc"
