// memlife-gui --screenshot, as docs and CI run it: a 1400x900 PNG (or --screenshot-size) and
// exit 0 for a trace; exit 2, one line on stderr naming the file and no PNG for a file it
// cannot open. The batch modes and --help, --version need no display: run without DISPLAY
// and QT_QPA_PLATFORM, they pick Qt's offscreen platform themselves.
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "stack_fixture.hpp"
#include "trace_fixture.hpp"

class TestScreenshot : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void screenshot_data();
    void screenshot();
    void badTrace();
    void unknownView();
    void headless_data();
    void headless();
    void screenshotSize();
    void compareMode();

private:
    struct Result {
        int exitCode = -1;
        QString stderrText;
        QString stdoutText;
    };
    // With headless set, DISPLAY, WAYLAND_DISPLAY and QT_QPA_PLATFORM are removed from the
    // environment (a machine without a display); otherwise QT_QPA_PLATFORM=offscreen.
    Result run(const QStringList& arguments, bool headless = false);
    QTemporaryDir dir_;
    QString trace_;
    QString sitesTrace_; // with call stacks
};

TestScreenshot::Result TestScreenshot::run(const QStringList& arguments, bool headless) {
    QProcess gui;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    if (headless) {
        for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
            env.remove(QString::fromLatin1(name));
    } else {
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    }
    gui.setProcessEnvironment(env);
    gui.start(QStringLiteral(MEMLIFE_GUI), arguments);
    if (!gui.waitForFinished(120000)) {
        gui.kill();
        gui.waitForFinished();
        return {};
    }
    if (gui.exitStatus() != QProcess::NormalExit) return {};
    return {gui.exitCode(), QString::fromUtf8(gui.readAllStandardError()),
            QString::fromUtf8(gui.readAllStandardOutput())};
}

void TestScreenshot::initTestCase() {
    QVERIFY(dir_.isValid());
    trace_ = dir_.filePath(QStringLiteral("keepalive.memlife"));
    memlife::test::writeKeepAliveTrace(trace_.toStdString(), 200);
    sitesTrace_ = dir_.filePath(QStringLiteral("sites.memlife"));
    memlife::test::writeSitesTrace(sitesTrace_.toStdString());
}

void TestScreenshot::screenshot_data() {
    QTest::addColumn<QString>("view");
    QTest::addColumn<bool>("stacks"); // the trace has call stacks
    for (const char* view : {"overview", "growth", "leaks", "sites", "blocks", "events"})
        QTest::newRow(view) << QString::fromLatin1(view) << false;
    for (const char* view : {"sites", "blocks", "leaks"})
        QTest::newRow(qPrintable(QStringLiteral("%1 with stacks").arg(QLatin1String(view))))
            << QString::fromLatin1(view) << true;
}

void TestScreenshot::screenshot() {
    QFETCH(QString, view);
    QFETCH(bool, stacks);
    const QString png =
        dir_.filePath(view + (stacks ? QStringLiteral("-stacks.png") : QStringLiteral(".png")));
    const Result result = run({QStringLiteral("--view"), view, QStringLiteral("--screenshot"), png,
                               stacks ? sitesTrace_ : trace_});
    QVERIFY2(result.exitCode == 0, qPrintable(result.stderrText));
    const QImage image(png);
    QVERIFY(!image.isNull());
    QCOMPARE(image.size(), QSize(1400, 900));
    if (view == QStringLiteral("sites")) {
        // The flame graph (lower half) is painted with stacks: warm bars; without: nothing.
        int warm = 0;
        for (int y = 450; y < 850; y += 4)
            for (int x = 0; x < 1400; x += 4) {
                const QColor c = image.pixelColor(x, y);
                warm += c.red() > 200 && c.blue() < 130 && c.red() - c.blue() > 100;
            }
        if (stacks)
            QVERIFY2(warm > 1000, qPrintable(QString::number(warm)));
        else
            QCOMPARE(warm, 0);
    }
}

void TestScreenshot::badTrace() {
    const QString png = dir_.filePath(QStringLiteral("bad.png"));
    const QString missing = dir_.filePath(QStringLiteral("missing.memlife"));
    const Result result = run({QStringLiteral("--screenshot"), png, missing});
    QCOMPARE(result.exitCode, 2);
    const QStringList lines = result.stderrText.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 1);
    QVERIFY2(lines.front().startsWith(missing), qPrintable(result.stderrText));
    QVERIFY(!QFile::exists(png));
}

void TestScreenshot::unknownView() {
    const Result result =
        run({QStringLiteral("--view"), QStringLiteral("nope"), QStringLiteral("--screenshot"),
             dir_.filePath(QStringLiteral("x.png")), trace_});
    QCOMPARE(result.exitCode, 2);
    QVERIFY(result.stderrText.contains(QStringLiteral("unknown view 'nope'")));
}

// --compare BASE: the window in compare mode, waited for; a base that cannot be opened is
// exit 2 and one line, as a trace is; --compare alone has nothing to compare.
void TestScreenshot::compareMode() {
    const QString png = dir_.filePath(QStringLiteral("compare.png"));
    const QString base = dir_.filePath(QStringLiteral("base.memlife"));
    memlife::test::writeKeepAliveTrace(base.toStdString(), 100);
    Result result = run({QStringLiteral("--compare"), base, QStringLiteral("--view"),
                         QStringLiteral("growth"), QStringLiteral("--screenshot"), png, trace_});
    QVERIFY2(result.exitCode == 0, qPrintable(result.stderrText));
    QCOMPARE(QImage(png).size(), QSize(1400, 900));

    const QString missing = dir_.filePath(QStringLiteral("missing-base.memlife"));
    const QString none = dir_.filePath(QStringLiteral("none.png"));
    result =
        run({QStringLiteral("--compare"), missing, QStringLiteral("--screenshot"), none, trace_});
    QCOMPARE(result.exitCode, 2);
    const QStringList lines = result.stderrText.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 1);
    QVERIFY2(lines.front().startsWith(missing), qPrintable(result.stderrText));
    QVERIFY(!QFile::exists(none));

    result = run({QStringLiteral("--compare"), base, QStringLiteral("--screenshot"), none});
    QCOMPARE(result.exitCode, 2);
    QVERIFY2(result.stderrText.contains(QStringLiteral("needs a TRACE")),
             qPrintable(result.stderrText));
}

void TestScreenshot::headless_data() {
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("output"); // on stdout
    QTest::newRow("help") << QStringList{QStringLiteral("--help")} << QStringLiteral("Usage:");
    QTest::newRow("version") << QStringList{QStringLiteral("--version")}
                             << QStringLiteral("memlife-gui ");
    QTest::newRow("screenshot") << QStringList{QStringLiteral("--screenshot"),
                                               dir_.filePath(QStringLiteral("headless.png")),
                                               trace_}
                                << QString();
}

void TestScreenshot::headless() {
    QFETCH(QStringList, arguments);
    QFETCH(QString, output);
    const Result result = run(arguments, /*headless=*/true);
    QVERIFY2(result.exitCode == 0, qPrintable(result.stderrText));
    QVERIFY2(result.stdoutText.contains(output), qPrintable(result.stdoutText));
    if (arguments.front() == QLatin1String("--screenshot")) {
        const QImage image(arguments.at(1));
        QVERIFY(!image.isNull());
        QCOMPARE(image.size(), QSize(1400, 900));
    }
}

void TestScreenshot::screenshotSize() {
    const QString png = dir_.filePath(QStringLiteral("small.png"));
    Result result = run({QStringLiteral("--screenshot"), png, QStringLiteral("--screenshot-size"),
                         QStringLiteral("1024x768"), trace_});
    QVERIFY2(result.exitCode == 0, qPrintable(result.stderrText));
    QCOMPARE(QImage(png).size(), QSize(1024, 768));
    result = run({QStringLiteral("--screenshot"), png, QStringLiteral("--screenshot-size"),
                  QStringLiteral("big"), trace_});
    QCOMPARE(result.exitCode, 2);
    QVERIFY(result.stderrText.contains(QStringLiteral("--screenshot-size")));
}

QTEST_GUILESS_MAIN(TestScreenshot)
#include "tst_screenshot.moc"
