// Files that are not traces: each gives an error dialog naming the file (found without a
// nested event loop), never a crash, and the window still opens a good trace afterwards.
#include <QApplication>
#include <QMessageBox>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <random>
#include <sqlite3.h>

#include "memlife/ui/mainwindow.hpp"
#include "memlife/ui/tracedocument.hpp"
#include "trace_fixture.hpp"

using namespace memlife;
using namespace memlife::ui;

class TestBadFiles : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void badFile_data();
    void badFile();

private:
    QString write(const QString& name, const QByteArray& bytes);
    QTemporaryDir dir_;
    QString good_;
};

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
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(foreign.toUtf8().constData(), &db), SQLITE_OK);
    QCOMPARE(sqlite3_exec(db,
                          "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT);"
                          "INSERT INTO customers(name) VALUES ('ada'), ('grace');",
                          nullptr, nullptr, nullptr),
             SQLITE_OK);
    sqlite3_close(db);
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

QTEST_MAIN(TestBadFiles)
#include "tst_badfiles.moc"
