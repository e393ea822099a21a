// Following a recording in the GUI (issue 16). A recorder in a child process writes about
// 1M events/s for --seconds (default 30) while this process runs memlife-gui's window
// (offscreen) following the trace; the same recording is made once more without a follower.
// Figures, each against a baseline of the same run:
//   follow_latency_p95_ms    commit (the recorder's flush returned) to the overview chart
//                            repainted from a trace that holds it, 95th percentile, against
//                            the 1000 ms target (<= 0.5)
//   follow_gui_cpu_vs_core   the GUI process' CPU time (every thread: polls, jobs, painting)
//                            while following, as a share of one core (wall time) (<= 0.25)
//   follow_wal_vs_alone      the largest TRACE-wal while followed, against the largest
//                            without a follower (< 2)
//   follow_events_per_s      what the recorder reached, against the 1M events/s asked for
//
//   bench_follow [--seconds N]
#include <QApplication>
#include <QTimer>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "charts/livebyteschart.hpp"
#include "figures.hpp"
#include "follow/followcontroller.hpp"
#include "memlife/data/reader.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "pages/overviewpage.hpp"
#include "window/mainwindow.hpp"
#include "window/tracedocument.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// What the child tells the parent after each commit (steady clock: one per machine).
struct CommitMark {
    std::int64_t at_ns = 0;         // Clock::now() when flush() returned
    std::uint64_t last_session = 0; // the largest session id committed
};

// The recorder child: connections of 20 keep-alive requests (about 120 events each), 100 of
// them per 12 ms (about 1M events/s), plus 4 connections open throughout, a request each
// round; a commit (flush) every 100 ms, as the recorder's own cadence, marked on `out`.
[[noreturn]] void record(const std::string& path, double seconds, int out) {
    memlife::data::Recorder recorder(path);
    memlife::Runtime rt(memlife::Config{}, &recorder);
    std::uint64_t id = 0;
    std::vector<memlife::Session*> kept;
    for (int k = 0; k < 4; ++k) {
        kept.push_back(rt.open("10.9.0." + std::to_string(k) + ":443"));
        ++id;
    }
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration<double>(seconds);
    auto next = start, nextCommit = start + 100ms;
    while (Clock::now() < end) {
        for (int c = 0; c < 100; ++c) {
            memlife::Session* s = rt.open("10.0." + std::to_string(++id % 250) + ".1:80");
            for (int r = 0; r < 20; ++r) {
                s->request_begin();
                s->set_notification(memlife::Notification::UrlMap);
                for (int k = 0; k < 3; ++k)
                    s->alloc_request(32 + static_cast<std::uint32_t>((id + k) % 64));
                s->request_end();
            }
            rt.close(s);
        }
        for (memlife::Session* s : kept) {
            s->request_begin();
            s->alloc_mem(64);
            s->alloc_request(128);
            s->request_end();
        }
        std::this_thread::sleep_until(next += 12ms);
        if (Clock::now() >= nextCommit) {
            recorder.flush();
            const CommitMark mark{std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      Clock::now().time_since_epoch())
                                      .count(),
                                  id};
            (void)!::write(out, &mark, sizeof mark);
            nextCommit += 100ms;
        }
    }
    for (memlife::Session* s : kept)
        rt.close(s);
    recorder.commit();
    ::_exit(0);
}

// The largest size TRACE-wal reaches while `running`, sampled every 5 ms.
class WalWatch {
public:
    explicit WalWatch(std::string wal) : wal_(std::move(wal)), thread_([this] { run(); }) {}
    std::uintmax_t stop() {
        running_ = false;
        thread_.join();
        return largest_;
    }

private:
    void run() {
        while (running_) {
            std::error_code ec;
            const auto size = std::filesystem::file_size(wal_, ec);
            if (!ec) largest_ = std::max(largest_, size);
            std::this_thread::sleep_for(5ms);
        }
    }
    std::string wal_;
    std::atomic<bool> running_{true};
    std::uintmax_t largest_ = 0;
    std::thread thread_;
};

pid_t startRecorder(const std::string& path, double seconds, int& marks) {
    int pipefd[2];
    if (::pipe(pipefd) != 0) std::exit(1);
    const pid_t child = ::fork();
    if (child == 0) {
        ::close(pipefd[0]);
        record(path, seconds, pipefd[1]);
    }
    ::close(pipefd[1]);
    marks = pipefd[0];
    return child;
}

std::vector<CommitMark> readMarks(int fd) {
    std::vector<CommitMark> marks;
    CommitMark mark;
    while (::read(fd, &mark, sizeof mark) == static_cast<ssize_t>(sizeof mark))
        marks.push_back(mark);
    ::close(fd);
    return marks;
}

double cpuSeconds() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

std::int64_t nowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

} // namespace

int main(int argc, char** argv) {
    double seconds = 30;
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = std::atof(argv[++i]);
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      ("memlife-bench-follow-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);

    // Without a follower (before Qt starts any thread: the children fork a plain process).
    std::uintmax_t walAlone = 0;
    {
        const std::string path = (dir / "alone.trace").string();
        int marks = -1;
        const pid_t child = startRecorder(path, seconds, marks);
        WalWatch watch(path + "-wal");
        readMarks(marks); // until the child closes the pipe: its end
        ::waitpid(child, nullptr, 0);
        walAlone = watch.stop();
    }

    const std::string path = (dir / "followed.trace").string();
    int marksFd = -1;
    const pid_t child = startRecorder(path, seconds, marksFd);
    std::vector<CommitMark> marks;
    std::thread markReader([&] { marks = readMarks(marksFd); });
    WalWatch watch(path + "-wal");

    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    memlife::ui::MainWindow window(false);
    window.resize(1400, 900);
    window.show();
    window.setCurrentView(QStringLiteral("overview"));
    auto* overview =
        static_cast<memlife::ui::OverviewPage*>(window.page(QStringLiteral("overview")));
    memlife::ui::LiveBytesChart* chart = overview->chart();
    // Each repaint of the chart from a followed trace: when, and its largest session.
    std::vector<std::pair<std::int64_t, std::uint64_t>> drawn;
    QObject::connect(chart, &memlife::ui::LiveBytesChart::requeried, &app, [&] {
        const memlife::ui::TracePtr& trace = chart->drawnTrace();
        if (!trace || chart->isPending()) return;
        chart->repaint();
        std::uint64_t largest = 0;
        for (const auto& s : trace->sessions)
            largest = std::max(largest, s.id);
        drawn.emplace_back(nowNs(), largest);
    });
    std::vector<std::int64_t> updated; // when each followed update reached the views
    QObject::connect(&window, &memlife::ui::MainWindow::traceUpdated, &app,
                     [&] { updated.push_back(nowNs()); });
    double cpuStart = 0, cpuEnd = 0;
    std::int64_t wallStart = 0, wallEnd = 0;
    bool following = false;
    QTimer drawnLast; // the recording ended: quit once the chart drew its last update
    drawnLast.setInterval(10);
    QObject::connect(&drawnLast, &QTimer::timeout, &app, [&] {
        if (!chart->isPending()) QApplication::quit();
    });
    QObject::connect(&window, &memlife::ui::MainWindow::followStateChanged, &app, [&] {
        if (window.follower()->isFollowing() && !following) {
            following = true;
            cpuStart = cpuSeconds();
            wallStart = nowNs();
        } else if (following && !window.follower()->isFollowing() && !drawnLast.isActive()) {
            cpuEnd = cpuSeconds();
            wallEnd = nowNs();
            drawnLast.start();
        }
    });
    window.followTrace(QString::fromStdString(path));
    app.exec();
    const double cpu = cpuEnd - cpuStart;
    const double wall = double(wallEnd - wallStart) / 1e9;
    ::waitpid(child, nullptr, 0);
    markReader.join();
    const std::uintmax_t walFollowed = watch.stop();

    // Commit -> the chart drawn from a trace that holds it.
    std::vector<double> latencies;
    for (const CommitMark& mark : marks) {
        if (mark.at_ns < wallStart) continue;
        const auto shown = std::find_if(drawn.begin(), drawn.end(), [&](const auto& d) {
            return d.first >= mark.at_ns && d.second >= mark.last_session;
        });
        if (shown != drawn.end())
            latencies.push_back(double(shown->first - mark.at_ns) / 1e6);
        else
            latencies.push_back(1e9); // never shown: counts as a miss
    }
    std::sort(latencies.begin(), latencies.end());
    const double p95 = latencies.empty()
                           ? 1e9
                           : latencies[std::min(latencies.size() - 1, latencies.size() * 95 / 100)];
    const double eventsPerS = double(memlife::data::TraceReader(path).info().events) / seconds;
    // Where the time goes: the updates' spacing, and an update to the next repaint.
    double toRepaint = 0;
    int counted = 0;
    for (std::int64_t u : updated) {
        const auto next =
            std::find_if(drawn.begin(), drawn.end(), [&](const auto& d) { return d.first >= u; });
        if (next == drawn.end()) continue;
        toRepaint += double(next->first - u) / 1e6;
        ++counted;
    }
    std::fprintf(
        stderr,
        "bench_follow: %zu updates, every %.1f ms; update to repaint %.1f ms; p50 %.1f ms\n",
        updated.size(),
        updated.size() > 1
            ? double(updated.back() - updated.front()) / 1e6 / double(updated.size() - 1)
            : 0.0,
        counted ? toRepaint / counted : 0.0,
        latencies.empty() ? 0.0 : latencies[latencies.size() / 2]);
    std::fprintf(stderr,
                 "bench_follow: %zu commits, %zu chart repaints, p95 %.1f ms, cpu %.2f s in %.2f "
                 "s, wal %ju / %ju bytes\n",
                 latencies.size(), drawn.size(), p95, cpu, wall, walFollowed, walAlone);
    memlife::bench::print_figure("follow_latency_p95_ms", p95, "ms", 1000.0);
    memlife::bench::print_figure("follow_gui_cpu_vs_core", wall > 0 ? cpu / wall : 0, "core", 1.0);
    memlife::bench::print_figure("follow_wal_vs_alone", double(walFollowed) / (1 << 20), "MiB",
                                 double(walAlone) / (1 << 20));
    memlife::bench::print_figure("follow_events_per_s", eventsPerS, "events/s", 1e6);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return 0;
}
