// File > Import: the real nginx capture and a JSON-lines export of a recorded trace imported
// on the worker and opened; a malformed log gives the error dialog with "FILE:LINE: reason",
// no output file and the previous trace still open; lenient mode skips and counts; cancel
// (the status bar's button, or the flag seen by the progress callback) leaves no file;
// dropped logs are imported next to themselves.
#include <QApplication>
#include <QDir>
#include <QDropEvent>
#include <QFileInfo>
#include <QLabel>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <map>

#include "memlife/data/import.hpp"
#include "memlife/data/reader.hpp"
#include "models/sessionsmodel.hpp"
#include "pages/overviewpage.hpp"
#include "trace_fixture.hpp"
#include "window/importtask.hpp"
#include "window/mainwindow.hpp"
#include "window/tracedocument.hpp"

using namespace memlife;
using namespace memlife::ui;

namespace {

// Not from __FILE__: a compiler cache may make that path relative to the build.
QString fixture(const char* name) {
    return QStringLiteral(MEMLIFE_SOURCE_DIR "/tests/fixtures/") + QString::fromLatin1(name);
}

QByteArray readAll(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeAll(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

} // namespace

class TestImport : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void outputNamesAndKinds();
    void nginxCaptureOpensItsSessions();
    void malformedLogKeepsThePreviousTrace();
    void lenientImportSkipsAndCounts();
    void missingInputNamesTheFile();
    void jsonLinesRoundTrip();
    void progressReachesTheStatusBar();
    void cancelButtonLeavesNoFile();
    void cancelFromTheProgressCallback();
    void droppedLogIsImported();

private:
    // Runs importFile and waits for the imported trace to be loaded (or the import to fail).
    bool importAndOpen(ImportKind kind, const QString& input, const QString& output,
                       bool lenient = false);
    QStringList filesIn(const QString& folder) const;
    QString peerAt(int row) const;
    QString overviewCell(int row, int column) const;
    QMessageBox* waitForErrorDialog();
    void dropFile(const QString& path);
    QString statusText() const {
        return window_->statusBar()->findChild<QLabel*>(QStringLiteral("statusText"))->text();
    }

    QTemporaryDir dir_;
    QString capture_;   // tests/fixtures/nginx-debug-keepalive.log
    QString previous_;  // a recorded trace, open before each import
    QString malformed_; // the capture with one malloc line broken
    int malformedLine_ = 0;
    QString big_; // the capture repeated: an import that takes a while
    std::unique_ptr<MainWindow> window_;
};

void TestImport::initTestCase() {
    QVERIFY(dir_.isValid());
    capture_ = fixture("nginx-debug-keepalive.log");
    const QByteArray capture = readAll(capture_);
    QVERIFY2(!capture.isEmpty(), qPrintable(capture_));

    previous_ = dir_.filePath(QStringLiteral("previous.memlife"));
    test::writeKeepAliveTrace(previous_.toStdString());

    // A malloc line whose address and size do not parse, in the middle of a connection.
    QList<QByteArray> lines = capture.split('\n');
    for (int i = 0; i < lines.size() && malformedLine_ == 0; ++i) {
        if (lines[i].contains("*2 malloc: ")) {
            lines[i] = lines[i].left(lines[i].indexOf("malloc: ") + 8) + "0000XYZ:abc";
            malformedLine_ = i + 1;
        }
    }
    QVERIFY(malformedLine_ > 0);
    QDir().mkpath(dir_.filePath(QStringLiteral("malformed")));
    malformed_ = dir_.filePath(QStringLiteral("malformed/bad-address.log"));
    QVERIFY(writeAll(malformed_, lines.join('\n')));

    // About 32 MiB: several progress reports, and time to cancel.
    QDir().mkpath(dir_.filePath(QStringLiteral("big")));
    big_ = dir_.filePath(QStringLiteral("big/repeated.log"));
    QFile big(big_);
    QVERIFY(big.open(QIODevice::WriteOnly));
    while (big.size() < 32 * 1024 * 1024)
        QCOMPARE(big.write(capture), capture.size());
}

void TestImport::init() {
    window_ = std::make_unique<MainWindow>(/*persistent=*/false);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    QSignalSpy loaded(window_.get(), &MainWindow::traceLoaded);
    window_->openTrace(previous_);
    QVERIFY(loaded.wait(10000));
    QTRY_VERIFY_WITH_TIMEOUT(!window_->isBusy(), 10000); // the pages' first fetches
}

void TestImport::cleanup() {
    window_.reset();
}

bool TestImport::importAndOpen(ImportKind kind, const QString& input, const QString& output,
                               bool lenient) {
    QSignalSpy loaded(window_.get(), &MainWindow::traceLoaded);
    QSignalSpy failed(window_.get(), &MainWindow::importFailed);
    if (!window_->importFile(kind, input, output, lenient)) return false;
    return QTest::qWaitFor([&] { return loaded.count() + failed.count() > 0; }, 20000) &&
           loaded.count() == 1 && window_->document()->trace()->path == output;
}

QStringList TestImport::filesIn(const QString& folder) const {
    return QDir(folder).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
}

QString TestImport::overviewCell(int row, int column) const {
    auto* overview = qobject_cast<OverviewPage*>(window_->page(QStringLiteral("overview")));
    return overview->model()->index(row, column).data().toString();
}

QString TestImport::peerAt(int row) const {
    return overviewCell(row, SessionsModel::Peer);
}

void TestImport::dropFile(const QString& path) {
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(path)});
    // As a real drag: Qt delivers the drop to the widget that accepted the drag's entry.
    QDragEnterEvent enter(QPoint(100, 100), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(window_.get(), &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(100, 100), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(window_.get(), &drop);
    QVERIFY(drop.isAccepted());
}

QMessageBox* TestImport::waitForErrorDialog() {
    if (!QTest::qWaitFor(
            [&] { return window_->errorDialog() && window_->errorDialog()->isVisible(); }, 5000))
        return nullptr;
    return window_->errorDialog();
}

void TestImport::outputNamesAndKinds() {
    QCOMPARE(ImportTask::defaultOutput(QStringLiteral("/var/log/nginx/error.log")),
             QStringLiteral("/var/log/nginx/error.memlife"));
    QCOMPARE(ImportTask::defaultOutput(QStringLiteral("/tmp/events.2026.jsonl")),
             QStringLiteral("/tmp/events.2026.memlife"));

    const QString folder = dir_.filePath(QStringLiteral("names"));
    QVERIFY(QDir().mkpath(folder));
    const QString log = folder + QStringLiteral("/error.log");
    QVERIFY(QFile::copy(capture_, log));
    QCOMPARE(ImportTask::unusedOutput(log), folder + QStringLiteral("/error.memlife"));
    QVERIFY(writeAll(folder + QStringLiteral("/error.memlife"), "x"));
    QVERIFY(writeAll(folder + QStringLiteral("/error-2.memlife"), "x"));
    QCOMPARE(ImportTask::unusedOutput(log), folder + QStringLiteral("/error-3.memlife"));

    QVERIFY(ImportTask::kindOf(log) == ImportKind::NginxLog);
    QVERIFY(ImportTask::kindOf(QStringLiteral("/nowhere/x.JSONL")) == ImportKind::JsonLines);
    QVERIFY(!ImportTask::kindOf(QStringLiteral("/nowhere/notes.txt")));
    QVERIFY(!ImportTask::kindOf(previous_));
    // A trace is opened whatever its name.
    const QString traceNamedLog = folder + QStringLiteral("/trace.log");
    QVERIFY(QFile::copy(previous_, traceNamedLog));
    QVERIFY(!ImportTask::kindOf(traceNamedLog));
}

void TestImport::nginxCaptureOpensItsSessions() {
    const QString output = dir_.filePath(QStringLiteral("capture.memlife"));
    QVERIFY(importAndOpen(ImportKind::NginxLog, capture_, output));
    QVERIFY(window_->lastError().isEmpty());

    const TracePtr& trace = window_->document()->trace();
    QCOMPARE(QString::fromStdString(trace->info.source), QStringLiteral("nginx"));
    QCOMPARE(window_->lastImportStats().sessions, std::uint64_t(3));
    QCOMPARE(window_->lastImportStats().malformed_lines, std::uint64_t(0));
    QVERIFY(window_->lastImportStats().skipped_lines > 500);

    // The probe, the keep-alive connection with three requests, the single request.
    auto* overview = qobject_cast<OverviewPage*>(window_->page(QStringLiteral("overview")));
    QCOMPARE(overview->model()->rowCount(), 3);
    std::map<QString, int> requestsByPeer;
    for (int row = 0; row < 3; ++row)
        requestsByPeer[peerAt(row)] = overviewCell(row, SessionsModel::Requests).toInt();
    const std::map<QString, int> expected{{QStringLiteral("127.0.0.1:38672 (*1 4643#4643)"), 1},
                                          {QStringLiteral("127.0.0.1:38686 (*2 4643#4643)"), 3},
                                          {QStringLiteral("127.0.0.1:38696 (*3 4643#4643)"), 1}};
    QVERIFY(requestsByPeer == expected);

    // The status bar gives the import's counts with the trace's summary.
    const QString status = statusText();
    QVERIFY2(status.contains(QStringLiteral("Imported nginx-debug-keepalive.log: 3 sessions")),
             qPrintable(status));
    QVERIFY2(status.contains(QStringLiteral("0 malformed")), qPrintable(status));
    QVERIFY2(status.contains(QStringLiteral("times to 1")), qPrintable(status)); // 1-s stamps
    QVERIFY(window_->recentFiles().contains(QFileInfo(output).absoluteFilePath()));
}

void TestImport::malformedLogKeepsThePreviousTrace() {
    const TracePtr before = window_->document()->trace();
    const QString folder = QFileInfo(malformed_).path();
    const QString output = folder + QStringLiteral("/strict.memlife");
    QSignalSpy failed(window_.get(), &MainWindow::importFailed);
    QSignalSpy loaded(window_.get(), &MainWindow::traceLoaded);
    QVERIFY(window_->importFile(ImportKind::NginxLog, malformed_, output, /*lenient=*/false));
    QVERIFY(failed.wait(20000));

    const QString expected =
        QStringLiteral("%1:%2: malformed malloc line").arg(malformed_).arg(malformedLine_);
    QCOMPARE(failed.front().front().toString(), expected);
    QCOMPARE(window_->lastError(), expected);
    QMessageBox* box = waitForErrorDialog();
    QVERIFY(box);
    QCOMPARE(box->icon(), QMessageBox::Critical);
    QCOMPARE(box->text(), expected);
    QCOMPARE(QApplication::activeModalWidget(), box);
    box->accept();
    QTRY_VERIFY(!window_->errorDialog());

    // Nothing written, nothing else changed.
    QCOMPARE(filesIn(folder), QStringList{QFileInfo(malformed_).fileName()});
    QCOMPARE(loaded.count(), 0);
    QVERIFY(window_->document()->trace() == before);
    QCOMPARE(window_->document()->trace()->path, previous_);
    QVERIFY(!window_->importer()->isRunning());
    QTRY_VERIFY(!window_->isBusy());
    QVERIFY(!window_->statusBar()->findChild<QProgressBar*>()->isVisible());
}

void TestImport::lenientImportSkipsAndCounts() {
    // The menu's option is off by default; importFile takes it as an argument.
    QVERIFY(window_->lenientImportAction()->isCheckable());
    QVERIFY(!window_->lenientImportAction()->isChecked());
    const QString output = dir_.filePath(QStringLiteral("lenient.memlife"));
    QVERIFY(importAndOpen(ImportKind::NginxLog, malformed_, output, /*lenient=*/true));
    QCOMPARE(window_->lastImportStats().malformed_lines, std::uint64_t(1));
    QCOMPARE(window_->document()->trace()->info.malformed_lines, std::uint64_t(1));
    QCOMPARE(window_->document()->trace()->sessions.size(), std::size_t(3));
    const QString status = statusText();
    QVERIFY2(status.contains(QStringLiteral("1 malformed")), qPrintable(status));
}

void TestImport::missingInputNamesTheFile() {
    const QString missing = dir_.filePath(QStringLiteral("no-such.log"));
    const QString output = dir_.filePath(QStringLiteral("no-such.memlife"));
    QSignalSpy failed(window_.get(), &MainWindow::importFailed);
    QVERIFY(window_->importFile(ImportKind::NginxLog, missing, output, false));
    QVERIFY(failed.wait(10000));
    const QString message = failed.front().front().toString();
    QCOMPARE(message, missing + QStringLiteral(": No such file or directory"));
    QVERIFY(waitForErrorDialog());
    QVERIFY(!QFileInfo::exists(output));
    QCOMPARE(window_->document()->trace()->path, previous_);

    // A file that is not a log at all: the whole file is refused, in one line.
    QSignalSpy failedAgain(window_.get(), &MainWindow::importFailed);
    QVERIFY(window_->importFile(ImportKind::JsonLines, capture_, output, false));
    QVERIFY(failedAgain.wait(10000));
    const QString foreign = failedAgain.front().front().toString();
    QVERIFY2(foreign.startsWith(capture_ + QLatin1Char(':')), qPrintable(foreign));
    QVERIFY(!foreign.contains(QLatin1Char('\n')));
    QVERIFY(!QFileInfo::exists(output));

    // An output that cannot be written: the output's path and the reason.
    const QString unwritable = dir_.filePath(QStringLiteral("no-such-folder/out.memlife"));
    QSignalSpy failedOutput(window_.get(), &MainWindow::importFailed);
    QVERIFY(window_->importFile(ImportKind::NginxLog, capture_, unwritable, false));
    QVERIFY(failedOutput.wait(10000));
    const QString outputError = failedOutput.front().front().toString();
    QVERIFY2(outputError.startsWith(unwritable + QLatin1Char(':')), qPrintable(outputError));
    QVERIFY(!outputError.contains(QLatin1Char('\n')));
    QCOMPARE(window_->document()->trace()->path, previous_);
}

void TestImport::jsonLinesRoundTrip() {
    const QString folder = dir_.filePath(QStringLiteral("jsonl"));
    QVERIFY(QDir().mkpath(folder));
    const QString recorded = folder + QStringLiteral("/recorded.memlife");
    test::writeKeepAliveTrace(recorded.toStdString(), 50);
    const QString jsonl = folder + QStringLiteral("/events.jsonl");
    {
        data::TraceReader reader(recorded.toStdString());
        std::ofstream out(jsonl.toStdString(), std::ios::binary);
        data::export_jsonl(reader, out);
        QVERIFY(out.good());
    }
    const QString output = folder + QStringLiteral("/events.memlife");
    QVERIFY(importAndOpen(ImportKind::JsonLines, jsonl, output));
    QCOMPARE(QString::fromStdString(window_->document()->trace()->info.source),
             QStringLiteral("jsonl"));

    // The window shows the recorded sessions, with the same summaries.
    const std::vector<data::SessionRow> original =
        data::TraceReader(recorded.toStdString()).sessions();
    const std::vector<data::SessionRow>& shown = window_->document()->trace()->sessions;
    QCOMPARE(shown.size(), original.size());
    QCOMPARE(shown.size(), std::size_t(5));
    for (std::size_t i = 0; i < shown.size(); ++i) {
        QCOMPARE(shown[i].id, original[i].id);
        QCOMPARE(QString::fromStdString(shown[i].peer), QString::fromStdString(original[i].peer));
        QCOMPARE(shown[i].requests, original[i].requests);
        QCOMPARE(shown[i].peak_bytes, original[i].peak_bytes);
        QCOMPARE(shown[i].corruptions, original[i].corruptions);
        QCOMPARE(shown[i].leaks, original[i].leaks);
        QCOMPARE(shown[i].events, original[i].events);
    }
    auto* overview = qobject_cast<OverviewPage*>(window_->page(QStringLiteral("overview")));
    QCOMPARE(overview->model()->rowCount(), 5);
    QCOMPARE(peerAt(0), QStringLiteral("10.0.0.7:51234"));
    QCOMPARE(window_->document()->trace()->corruptions.size(), std::size_t(1));
}

void TestImport::progressReachesTheStatusBar() {
    const QString output = dir_.filePath(QStringLiteral("big/progress.memlife"));
    auto* bar = window_->statusBar()->findChild<QProgressBar*>();
    auto* cancel = window_->statusBar()->findChild<QPushButton*>(QStringLiteral("cancelButton"));
    QVERIFY(bar && cancel);
    QSignalSpy progress(window_->importer(), &ImportTask::progressChanged);
    QSignalSpy finished(window_.get(), &MainWindow::importFinished);
    QSignalSpy loaded(window_.get(), &MainWindow::traceLoaded);
    QVERIFY(window_->importFile(ImportKind::NginxLog, big_, output, false));
    // The same progress bar and Cancel as loading, while the worker runs.
    QVERIFY(bar->isVisible());
    QVERIFY(cancel->isVisible());
    QVERIFY(window_->isBusy());
    // A second import waits for the first.
    QVERIFY(!window_->importFile(ImportKind::NginxLog, capture_, output, false));

    QVERIFY(finished.wait(60000));
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 20000);
    QVERIFY(progress.count() >= 2); // one report per MiB, coalesced to changed percents
    int last = -1;
    for (const QList<QVariant>& report : progress) {
        QVERIFY(report.front().toInt() >= last);
        last = report.front().toInt();
    }
    QCOMPARE(last, 100);
    QCOMPARE(window_->document()->trace()->path, output);
    QCOMPARE(window_->lastImportStats().sessions % 3, std::uint64_t(0));
    QVERIFY(window_->lastImportStats().sessions > 3);
    QTRY_VERIFY(!bar->isVisible());
    QVERIFY(QFile::remove(output));
}

void TestImport::cancelButtonLeavesNoFile() {
    const QString folder = QFileInfo(big_).path();
    const QStringList before = filesIn(folder);
    const QString output = folder + QStringLiteral("/canceled.memlife");
    auto* cancel = window_->statusBar()->findChild<QPushButton*>(QStringLiteral("cancelButton"));
    QSignalSpy canceled(window_.get(), &MainWindow::importCanceled);
    QSignalSpy finished(window_.get(), &MainWindow::importFinished);
    QVERIFY(window_->importFile(ImportKind::NginxLog, big_, output, false));
    QVERIFY(cancel->isVisible());
    // The worker sees the flag at its next progress report (about every MiB).
    cancel->click();
    QVERIFY(canceled.wait(20000));
    QCOMPARE(finished.count(), 0);
    QCOMPARE(canceled.front().front().toString(), big_);
    QCOMPARE(filesIn(folder), before); // neither the trace nor a temporary
    QCOMPARE(window_->document()->trace()->path, previous_);
    QVERIFY(!cancel->isVisible());
    QVERIFY(!window_->importer()->isRunning());
    QTRY_VERIFY(!window_->isBusy());
    QVERIFY(statusText().contains(QStringLiteral("canceled")));
}

void TestImport::cancelFromTheProgressCallback() {
    const QString folder = QFileInfo(big_).path();
    const QStringList before = filesIn(folder);
    std::atomic<bool> canceled{false};
    std::vector<int> reports;
    const ImportRequest request{ImportKind::NginxLog, big_,
                                folder + QStringLiteral("/from-callback.memlife"), false};
    // The first report (after the first MiB) cancels; the next one aborts the import.
    const std::optional<data::ImportStats> stats = ImportTask::importNow(
        request,
        [&](int percent) {
            reports.push_back(percent);
            canceled = true;
        },
        canceled);
    QVERIFY(!stats);
    QCOMPARE(reports.size(), std::size_t(1));
    QVERIFY(reports.front() >= 0 && reports.front() < 100);
    QCOMPARE(filesIn(folder), before);
}

void TestImport::droppedLogIsImported() {
    const QString folder = dir_.filePath(QStringLiteral("dropped"));
    QVERIFY(QDir().mkpath(folder));
    const QString log = folder + QStringLiteral("/access.log");
    QVERIFY(QFile::copy(capture_, log));
    QVERIFY(writeAll(folder + QStringLiteral("/access.memlife"), "someone else's file"));

    QSignalSpy finished(window_.get(), &MainWindow::importFinished);
    QSignalSpy loaded(window_.get(), &MainWindow::traceLoaded);
    dropFile(log);
    QVERIFY(finished.wait(20000));
    // Never over an existing file.
    const QString output = folder + QStringLiteral("/access-2.memlife");
    QCOMPARE(finished.front().front().toString(), output);
    QCOMPARE(readAll(folder + QStringLiteral("/access.memlife")),
             QByteArray("someone else's file"));
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 10000);
    QCOMPARE(window_->document()->trace()->path, output);
    QCOMPARE(window_->document()->trace()->sessions.size(), std::size_t(3));

    // A dropped trace is opened, not imported.
    dropFile(previous_);
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 2, 10000);
    QCOMPARE(finished.count(), 1);
    QCOMPARE(window_->document()->trace()->path, previous_);
}

QTEST_MAIN(TestImport)
#include "tst_import.moc"
