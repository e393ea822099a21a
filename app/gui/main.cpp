// memlife-gui [--view NAME] [--palette NAME] [--compare BASE]
// [--screenshot FILE [--screenshot-size WxH]] [TRACE | --follow TRACE]
// Opens the trace explorer; a trace being recorded is followed (--follow also waits for a
// trace that does not exist yet: a recorder starting); --compare opens it in compare mode
// (File > Compare with...) against BASE. With --screenshot, renders the window at 1400x900 (or
// WxH) with the view in front, saves a PNG and exits (0; 2 when a trace cannot be opened, the
// reason on stderr). The batch modes (--screenshot, --report-first-paint) and --help, --version
// need no display: they run on Qt's offscreen platform unless QT_QPA_PLATFORM names another.
// --report-first-paint (hidden, for the benchmark) prints first_paint_ms=N, the milliseconds from
// process start to the first paint of the main chart, and peak_rss_mb=M, then exits. With
// --report-zoom (hidden too) it then zooms the chart to the last millisecond of the longest session
// and prints zoom_last_ms_ms=N, the milliseconds from that zoom request on the settled chart (the
// query started at once, without the debounce meant for wheel clicks) to the chart repainted with
// the window's series, and exits.
// --teaching-step N and --teaching-what-if (hidden, for the teaching view's
// screenshots) choose the lesson's step and turn on its what-if; with --screenshot the
// teaching view otherwise opens on a mid-lesson step. --inspect-tail (hidden, for the docs)
// saves the tail inspector of the block the blocks view opened on instead of the window.
#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFile>
#include <QPixmap>
#include <QSize>
#include <QTableView>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string_view>
#include <unistd.h>
#include <utility>

#include "charts/livebyteschart.hpp"
#include "pages/blockspage.hpp"
#include "pages/overviewpage.hpp"
#include "style/style.hpp"
#include "teaching/teachingpage.hpp"
#include "window/mainwindow.hpp"
#include "window/tracedocument.hpp"
#include "window/viewregistry.hpp"

namespace {

constexpr int kExitBadInput = 2;
constexpr int kScreenshotWidth = 1400, kScreenshotHeight = 900;
constexpr int kSettleTimeoutMs = 60'000;

// Milliseconds since the kernel started this process (so the dynamic loader and Qt's own
// start-up count too); the fallback is the time since main().
qint64 msSinceProcessStart(const QElapsedTimer& sinceMain) {
    QFile stat(QStringLiteral("/proc/self/stat"));
    timespec now{};
    if (stat.open(QIODevice::ReadOnly) && clock_gettime(CLOCK_BOOTTIME, &now) == 0) {
        const QByteArray line = stat.readAll();
        const qsizetype paren = line.lastIndexOf(')');
        const QList<QByteArray> fields = line.mid(paren + 2).split(' ');
        // Field 22 of stat(5) is starttime; fields[0] here is field 3.
        bool ok = false;
        const qint64 ticks = fields.size() > 19 ? fields[19].toLongLong(&ok) : 0;
        const long hz = sysconf(_SC_CLK_TCK);
        if (ok && hz > 0) {
            const qint64 nowMs = qint64(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
            return nowMs - ticks * 1000 / hz;
        }
    }
    return sinceMain.elapsed();
}

// The peak resident set (VmHWM) in MiB, or -1. A parent's wait4() rusage would count the
// parent's own pages when it spawned us with vfork semantics.
double peakRssMiB() {
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly)) return -1;
    for (const QByteArray& line : status.readAll().split('\n'))
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').front().toDouble() / 1024.0;
    return -1;
}

// The last millisecond (or less, for a shorter one) of the session that lasts longest.
std::pair<std::uint64_t, std::uint64_t>
lastMillisecondOfLongestSession(const memlife::ui::LoadedTrace& trace) {
    std::uint64_t begin = trace.firstNs(), end = trace.lastNs(), longest = 0;
    for (const auto& s : trace.sessions) {
        const std::uint64_t close = s.closed() ? s.close_ns : trace.lastNs();
        if (close > s.open_ns && close - s.open_ns > longest)
            longest = close - s.open_ns, begin = s.open_ns, end = close;
    }
    constexpr std::uint64_t kMillisecond = 1'000'000;
    return {end - std::min(end - begin, kMillisecond), end};
}

void fail(const QString& message) {
    std::fprintf(stderr, "%s\n", qPrintable(message));
}

// Batch modes (screenshot, first paint) promise one line on stderr for a bad file; Qt's
// own chatter (platform plugin notes, XDG warnings) would bury it, so only criticals pass.
void quietMessages(QtMsgType type, const QMessageLogContext&, const QString& message) {
    if (type == QtCriticalMsg || type == QtFatalMsg) fail(message);
}

bool batchMode(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg.starts_with("--screenshot") || arg == "--report-first-paint") return true;
    }
    return false;
}

// Modes that print (--help, --version) or render into a file: none of them shows a window.
bool headlessMode(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h" || arg == "-?" || arg == "--help-all" ||
            arg == "--version" || arg == "-v")
            return true;
    }
    return batchMode(argc, argv);
}

// "1024x768" -> its size; an invalid size otherwise.
QSize parseSize(const QString& text) {
    const QStringList parts = text.split(QLatin1Char('x'));
    bool okWidth = false, okHeight = false;
    const QSize size =
        parts.size() == 2 ? QSize(parts[0].toInt(&okWidth), parts[1].toInt(&okHeight)) : QSize();
    return okWidth && okHeight && size.width() >= 320 && size.height() >= 240 &&
                   size.width() <= 8192 && size.height() <= 8192
               ? size
               : QSize();
}

} // namespace

int main(int argc, char** argv) {
    QElapsedTimer sinceMain;
    sinceMain.start();
    if (batchMode(argc, argv)) qInstallMessageHandler(quietMessages);
    // Chosen before the QApplication exists: it connects to the display when constructed
    // (and aborts without one).
    if (headlessMode(argc, argv) && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("memlife"));
    QApplication::setApplicationName(QStringLiteral("memlife-gui"));
    QApplication::setApplicationVersion(QStringLiteral(MEMLIFE_VERSION));

    using memlife::ui::MainWindow;
    const QStringList viewNames = memlife::ui::viewNames();
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("memlife trace explorer"));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption viewOption(
        QStringLiteral("view"),
        QStringLiteral("The view in front: %1.").arg(viewNames.join(QStringLiteral(", "))),
        QStringLiteral("NAME"));
    QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Render the window (1400x900), save it as a PNG to FILE and exit. Needs "
                       "no display."),
        QStringLiteral("FILE"));
    QCommandLineOption screenshotSizeOption(
        QStringLiteral("screenshot-size"),
        QStringLiteral("The window's size for --screenshot (default 1400x900)."),
        QStringLiteral("WIDTHxHEIGHT"));
    QCommandLineOption followOption(
        QStringLiteral("follow"),
        QStringLiteral("Follow TRACE while it is recorded (waiting up to 30 s for it to appear)."),
        QStringLiteral("TRACE"));
    QCommandLineOption paletteOption(QStringLiteral("palette"),
                                     QStringLiteral("Colour palette: system, light or dark."),
                                     QStringLiteral("NAME"));
    QCommandLineOption compareOption(
        QStringLiteral("compare"),
        QStringLiteral("Compare TRACE with BASE (the trace before a fix), as File > Compare "
                       "with... does."),
        QStringLiteral("BASE"));
    QCommandLineOption firstPaintOption(QStringLiteral("report-first-paint"));
    firstPaintOption.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption zoomOption(QStringLiteral("report-zoom"));
    zoomOption.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption teachingStepOption(QStringLiteral("teaching-step"), QString(),
                                          QStringLiteral("N"));
    teachingStepOption.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption teachingWhatIfOption(QStringLiteral("teaching-what-if"));
    teachingWhatIfOption.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption inspectTailOption(QStringLiteral("inspect-tail"));
    inspectTailOption.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOptions({viewOption, screenshotOption, screenshotSizeOption, followOption,
                       paletteOption, compareOption, firstPaintOption, zoomOption,
                       teachingStepOption, teachingWhatIfOption, inspectTailOption});
    parser.addPositionalArgument(QStringLiteral("TRACE"), QStringLiteral("A memlife trace file."),
                                 QStringLiteral("[TRACE]"));

    if (!parser.parse(QApplication::arguments())) {
        fail(QStringLiteral("memlife-gui: %1").arg(parser.errorText()));
        return kExitBadInput;
    }
    if (parser.isSet(QStringLiteral("help"))) parser.showHelp(0);
    if (parser.isSet(QStringLiteral("version"))) parser.showVersion();
    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1) {
        fail(QStringLiteral("memlife-gui: one trace at a time (got %1)").arg(positional.size()));
        return kExitBadInput;
    }
    const bool follow = parser.isSet(followOption);
    if (follow && !positional.isEmpty()) {
        fail(QStringLiteral("memlife-gui: one trace at a time (--follow and %1)")
                 .arg(positional.front()));
        return kExitBadInput;
    }
    const QString trace = follow ? parser.value(followOption) : positional.value(0);
    const QString base = parser.value(compareOption);
    if (!base.isEmpty() && trace.isEmpty()) {
        fail(QStringLiteral("memlife-gui: --compare BASE needs a TRACE to compare"));
        return kExitBadInput;
    }
    const QString view = parser.value(viewOption);
    if (!view.isEmpty() && !viewNames.contains(view)) {
        fail(QStringLiteral("memlife-gui: unknown view '%1' (views: %2)")
                 .arg(view, viewNames.join(QStringLiteral(", "))));
        return kExitBadInput;
    }
    if (parser.isSet(paletteOption) && !memlife::ui::applyPalette(parser.value(paletteOption))) {
        fail(QStringLiteral("memlife-gui: unknown palette '%1' (system, light, dark)")
                 .arg(parser.value(paletteOption)));
        return kExitBadInput;
    }

    const QString screenshot = parser.value(screenshotOption);
    QSize screenshotSize(kScreenshotWidth, kScreenshotHeight);
    if (parser.isSet(screenshotSizeOption)) {
        screenshotSize = parseSize(parser.value(screenshotSizeOption));
        if (!screenshotSize.isValid()) {
            fail(QStringLiteral("memlife-gui: --screenshot-size wants WIDTHxHEIGHT, from 320x240 "
                                "to 8192x8192 (got '%1')")
                     .arg(parser.value(screenshotSizeOption)));
            return kExitBadInput;
        }
    }
    const bool reportFirstPaint = parser.isSet(firstPaintOption);
    MainWindow window(/*persistent=*/screenshot.isEmpty() && !reportFirstPaint);
    if (!view.isEmpty()) window.setCurrentView(view);
    if (auto* teaching =
            qobject_cast<memlife::ui::TeachingPage*>(window.page(QStringLiteral("teaching")))) {
        bool ok = true;
        const int step = parser.value(teachingStepOption).toInt(&ok) - 1; // 1-based, as shown
        if (parser.isSet(teachingStepOption) && (!ok || step < 0)) {
            fail(QStringLiteral("memlife-gui: --teaching-step wants a step number from 1"));
            return kExitBadInput;
        }
        if (parser.isSet(teachingWhatIfOption)) teaching->setWhatIf(true);
        if (parser.isSet(teachingStepOption))
            teaching->setStartStep(step);
        else if (!screenshot.isEmpty())
            teaching->setStartStep(memlife::ui::TeachingPage::kShowcaseStep);
    }

    if (!screenshot.isEmpty() || reportFirstPaint) {
        // Fail fast with the reader's one-line message; no dialog waits for a click.
        for (auto failed : {&MainWindow::traceFailed, &MainWindow::baseFailed})
            QObject::connect(&window, failed, &app, [](const QString& message) {
                fail(message);
                QApplication::exit(kExitBadInput);
            });
    }

    QElapsedTimer zoomClock;
    QTimer zoomWhenIdle; // the zoom is timed on a settled chart, as a user's would be
    zoomWhenIdle.setInterval(10);
    if (reportFirstPaint) {
        window.setCurrentView(QStringLiteral("overview"));
        auto* overview =
            static_cast<memlife::ui::OverviewPage*>(window.page(QStringLiteral("overview")));
        memlife::ui::LiveBytesChart* chart = overview->chart();
        const bool reportZoom = parser.isSet(zoomOption);
        QObject::connect(chart, &memlife::ui::LiveBytesChart::firstPainted, &app, [&, chart] {
            std::printf("first_paint_ms=%lld\npeak_rss_mb=%.1f\n",
                        static_cast<long long>(msSinceProcessStart(sinceMain)), peakRssMiB());
            std::fflush(stdout);
            if (!reportZoom) {
                QApplication::exit(0);
                return;
            }
            zoomWhenIdle.start();
        });
        QObject::connect(&zoomWhenIdle, &QTimer::timeout, &app, [&, chart] {
            if (window.isBusy()) return;
            zoomWhenIdle.stop();
            const auto [begin, end] = lastMillisecondOfLongestSession(*window.document()->trace());
            zoomClock.start();
            chart->zoomToWindow(begin, end);
            chart->requeryNow();
        });
        QObject::connect(chart, &memlife::ui::LiveBytesChart::requeried, &app, [&, chart] {
            if (!zoomClock.isValid() || chart->isPending()) return;
            chart->repaint();
            std::printf("zoom_last_ms_ms=%.1f\n", double(zoomClock.nsecsElapsed()) / 1e6);
            std::fflush(stdout);
            QApplication::exit(0);
        });
    }

    QTimer settle;
    QElapsedTimer settleClock;
    int quietPolls = 0;
    if (!screenshot.isEmpty()) {
        window.resize(screenshotSize);
        // Polls until the loader and the page in front are idle for a few rounds (charts
        // re-query after layout), then grabs the window.
        settle.setInterval(50);
        settleClock.start();
        QObject::connect(&settle, &QTimer::timeout, &app, [&] {
            if (settleClock.elapsed() > kSettleTimeoutMs) {
                fail(QStringLiteral("memlife-gui: %1: still loading after %2 s")
                         .arg(trace)
                         .arg(kSettleTimeoutMs / 1000));
                QApplication::exit(1);
                return;
            }
            const bool waiting = window.isBusy() ||
                                 (!trace.isEmpty() && !window.document()->trace()) ||
                                 (!base.isEmpty() && !window.document()->baseTrace());
            quietPolls = waiting ? 0 : quietPolls + 1;
            if (quietPolls < 3) return;
            settle.stop();
            QPixmap image = window.grab();
            // --inspect-tail (hidden, for the docs): the tail inspector of the block the
            // blocks view opened on, instead of the window.
            auto* blocks =
                qobject_cast<memlife::ui::BlocksPage*>(window.page(QStringLiteral("blocks")));
            if (parser.isSet(inspectTailOption) && blocks) {
                if (memlife::ui::TailInspector* inspector =
                        blocks->inspect(blocks->table()->currentIndex().row())) {
                    QApplication::processEvents();
                    image = inspector->grab();
                }
            }
            if (!image.save(screenshot, "PNG")) {
                fail(QStringLiteral("memlife-gui: %1: cannot write the PNG").arg(screenshot));
                QApplication::exit(1);
                return;
            }
            QApplication::exit(0);
        });
        settle.start();
    }

    window.show();
    if (follow)
        window.followTrace(trace);
    else if (!trace.isEmpty())
        window.openTrace(trace);
    if (!base.isEmpty()) window.compareWith(base);
    return QApplication::exec();
}
