// Files that are not traces: each gives an error dialog naming the file (found without a
// nested event loop), never a crash, and the window still opens a good trace afterwards.
// A trace that opens but has damaged batches: every view says so, none crashes.
#include <QApplication>
#include <QLabel>
#include <QMessageBox>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <random>
#include <sqlite3.h>

#include "charts/growthchart.hpp"
#include "charts/livebyteschart.hpp"
#include "pages/growthpage.hpp"
#include "pages/overviewpage.hpp"
#include "trace_fixture.hpp"
#include "window/mainwindow.hpp"
#include "window/tracedocument.hpp"
#include "window/warningbar.hpp"

using namespace memlife;
using namespace memlife::ui;

class TestBadFiles : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void badFile_data();
    void badFile();
    void damagedBatchesAfterOpen();
    void damagedBatchWarnsInTheOverview();

private:
    QString write(const QString& name, const QByteArray& bytes);
    // A copy of the good trace with `sql` run on it ("" if that failed).
    QString damagedCopy(const QString& name, const char* sql);
    QTemporaryDir dir_;
    QString good_;
};

// Runs SQL on the SQLite file at `path` (created if missing).
static bool execSql(const QString& path, const char* sql) {
    sqlite3* db = nullptr;
    const bool ok = sqlite3_open(path.toUtf8().constData(), &db) == SQLITE_OK &&
                    sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
    sqlite3_close(db);
    return ok;
}

QString TestBadFiles::damagedCopy(const QString& name, const char* sql) {
    const QString path = dir_.filePath(name);
    QFile::remove(path);
    return QFile::copy(good_, path) && execSql(path, sql) ? path : QString();
}

QString TestBadFiles::write(const QString& name, const QByteArray& bytes) {
    const QString path = dir_.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size()) return {};
    return path;
}

void TestBadFiles::initTestCase() {
    QVERIFY(dir_.isValid());
    good_ = dir_.filePath(QStringLiteral("good.memlife"));
    test::writeKeepAliveTrace(good_.toStdString(), 500);
}

void TestBadFiles::badFile_data() {
    QTest::addColumn<QString>("path");
    QTest::newRow("missing") << dir_.filePath(QStringLiteral("no-such-trace.memlife"));
    QTest::newRow("empty") << write(QStringLiteral("empty.memlife"), {});
    QByteArray noise(64 * 1024, '\0');
    std::mt19937 rng(7);
    for (char& c : noise)
        c = static_cast<char>(rng());
    QTest::newRow("random bytes") << write(QStringLiteral("random.memlife"), noise);
    QTest::newRow("text") << write(QStringLiteral("notes.txt"),
                                   "GET / HTTP/1.1\r\nHost: x\r\n\r\n");

    // An SQLite database of another application.
    const QString foreign = dir_.filePath(QStringLiteral("foreign.sqlite"));
    QVERIFY(execSql(foreign, "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT);"
                             "INSERT INTO customers(name) VALUES ('ada'), ('grace');"));
    QTest::newRow("foreign sqlite") << foreign;

    // A real trace cut short.
    QFile good(good_);
    QVERIFY(good.open(QIODevice::ReadOnly));
    const QByteArray bytes = good.readAll();
    QTest::newRow("truncated trace")
        << write(QStringLiteral("truncated.memlife"), bytes.left(bytes.size() / 3));
    QTest::newRow("directory") << dir_.path();
}

void TestBadFiles::badFile() {
    QFETCH(QString, path);
    QVERIFY(!path.isEmpty());
    MainWindow window(/*persistent=*/false);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QSignalSpy failed(&window, &MainWindow::traceFailed);
    QSignalSpy loaded(&window, &MainWindow::traceLoaded);
    window.openTrace(path);
    QTRY_VERIFY_WITH_TIMEOUT(failed.count() + loaded.count() > 0, 10000);
    QCOMPARE(loaded.count(), 0);
    const QString message = failed.front().front().toString();
    QVERIFY2(message.contains(path), qPrintable(message));
    QVERIFY2(!message.contains(QLatin1Char('\n')), qPrintable(message));

    // The dialog is up, window-modal, and can be found and closed from outside.
    QMessageBox* box = window.errorDialog();
    QVERIFY(box);
    QTRY_VERIFY(box->isVisible());
    QCOMPARE(QApplication::activeModalWidget(), box);
    QCOMPARE(box->icon(), QMessageBox::Critical);
    QVERIFY(box->text().contains(path));
    box->accept();
    QTRY_VERIFY(!window.errorDialog());
    QVERIFY(!window.document()->trace());

    // Nothing is left broken: the same window opens a good trace.
    window.openTrace(good_);
    QVERIFY(loaded.wait(10000));
    QVERIFY(window.document()->trace());
}

void TestBadFiles::damagedBatchesAfterOpen() {
    // Opens (the loader reads only the summary tables); the batches behind the charts and
    // the event log do not decode.
    const QString path = damagedCopy(QStringLiteral("damaged-batches.memlife"),
                                     "UPDATE event_batches SET count = count + 1;"
                                     "UPDATE request_batches SET data = x'ff';");
    QVERIFY(!path.isEmpty());

    MainWindow window(/*persistent=*/false);
    window.resize(1200, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QSignalSpy loaded(&window, &MainWindow::traceLoaded);
    window.openTrace(path);
    QVERIFY(loaded.wait(10000));
    auto expectReadError = [&](const QString& title) {
        QVERIFY2(title.startsWith(QStringLiteral("Cannot read this trace: ")), qPrintable(title));
        QVERIFY2(title.contains(path), qPrintable(title));
    };

    LiveBytesChart* live =
        qobject_cast<OverviewPage*>(window.page(QStringLiteral("overview")))->chart();
    live->requeryNow();
    QTRY_VERIFY_WITH_TIMEOUT(!live->isPending(), 10000);
    expectReadError(live->chart()->title());
    const std::uint64_t first = window.document()->trace()->sessions.front().id;
    window.document()->setSelection({first}); // request marks: the request batches
    live->requeryNow();
    QTRY_VERIFY_WITH_TIMEOUT(!live->isPending(), 10000);
    expectReadError(live->chart()->title());

    QVERIFY(window.setCurrentView(QStringLiteral("growth")));
    GrowthChart* growth = qobject_cast<GrowthPage*>(window.page(QStringLiteral("growth")))->chart();
    QTRY_VERIFY_WITH_TIMEOUT(!window.isBusy(), 10000);
    expectReadError(growth->chart()->title());

    QVERIFY(window.setCurrentView(QStringLiteral("events")));
    QTRY_VERIFY_WITH_TIMEOUT(!window.isBusy(), 10000);
    auto* eventCount = window.findChild<QLabel*>(QStringLiteral("eventCount"));
    QVERIFY(eventCount);
    QTRY_VERIFY_WITH_TIMEOUT(eventCount->text().startsWith(QStringLiteral("Cannot read")), 10000);
    expectReadError(eventCount->text());

    for (const char* view : {"teaching", "blocks", "leaks"}) {
        QVERIFY(window.setCurrentView(QString::fromLatin1(view)));
        QTRY_VERIFY_WITH_TIMEOUT(!window.isBusy(), 10000);
    }
    QVERIFY(window.isVisible());

    // The window says so above every view and in the status bar, whatever view is open.
    WarningBar* warnings = window.warnings();
    QVERIFY(warnings->hasWarning(QStringLiteral("damaged")));
    QVERIFY(warnings->isVisible());
    QVERIFY2(warnings->texts().front().contains(path), qPrintable(warnings->texts().front()));
    QVERIFY(warnings->statusLabel()->isVisible());
    QVERIFY(warnings->statusLabel()->text().contains(QStringLiteral("Damaged trace")));
    // A good trace opened next clears it.
    window.openTrace(good_);
    QVERIFY(loaded.wait(10000));
    QTRY_VERIFY_WITH_TIMEOUT(!window.isBusy(), 10000);
    QVERIFY(!warnings->hasWarning(QStringLiteral("damaged")));
    QVERIFY(!warnings->isVisible());
    QVERIFY(!warnings->statusLabel()->isVisible());
}

void TestBadFiles::damagedBatchWarnsInTheOverview() {
    // Only the request summaries of one session are damaged, and the overview without a
    // selection never reads them (its chart draws): the window's check of every batch finds
    // them anyway, without another view being opened.
    const QString path = damagedCopy(QStringLiteral("one-damaged-batch.memlife"),
                                     "UPDATE request_batches SET data = x'ff' WHERE session = "
                                     "(SELECT max(session) FROM request_batches);");
    QVERIFY(!path.isEmpty());
    MainWindow window(/*persistent=*/false);
    window.resize(1200, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QSignalSpy loaded(&window, &MainWindow::traceLoaded);
    window.openTrace(path);
    QVERIFY(loaded.wait(10000));
    QCOMPARE(window.currentView(), QStringLiteral("overview"));
    QTRY_VERIFY_WITH_TIMEOUT(!window.isBusy(), 10000);
    const QString title = qobject_cast<OverviewPage*>(window.page(QStringLiteral("overview")))
                              ->chart()
                              ->chart()
                              ->title();
    QVERIFY2(!title.startsWith(QStringLiteral("Cannot read")), qPrintable(title));
    QVERIFY(window.warnings()->hasWarning(QStringLiteral("damaged")));
    QVERIFY(window.warnings()->isVisible());
    QVERIFY(window.warnings()->statusLabel()->isVisible());
}

QTEST_MAIN(TestBadFiles)
#include "tst_badfiles.moc"
