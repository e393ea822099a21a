// memlife-gui on a 10-million-event keep-alive-leak trace: milliseconds from process start
// to the first painted chart (the GUI's --report-first-paint) and its peak RSS (VmHWM),
// against a baseline measured in the same run: the sqlite3 shell reading the trace's
// sessions table. Targets: first paint <= 1.0 s, peak RSS <= 300 MB. In the same runs, the
// time from a zoom on the last millisecond of the longest session to the chart repainted
// with that window's series, against the first paint: gui_zoom_last_ms_vs_first_paint,
// target <= 0.2 (a zoom costs what the window shows, not what the session holds).
//
//   bench_gui [--events N] [--runs N] [--trace PATH]
//
// The trace is made by `memlife simulate` and cached in /tmp, keyed by a version string and
// the event count (making it takes a while).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <random>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "figures.hpp"
#include "memlife/data/reader.hpp"

extern char** environ;

namespace {

struct Options {
    std::uint64_t events = 10'000'000;
    int runs = 5;
    std::string trace;
};

// `memlife simulate --scenario mixed`: keep-alive connections of 100 requests through the
// real filter host, allocator and recorder (about 18 events per request: the notifications,
// request begin/end, the filters' allocations, corruptions and leaks).
void makeTrace(const std::string& path, std::uint64_t targetEvents) {
    const std::string partial = path + ".partial";
    constexpr std::uint64_t kRequests = 100, kEventsPerRequest = 18;
    const std::uint64_t connections = targetEvents / (kRequests * kEventsPerRequest) + 1;
    const std::string cmd = std::string("'") + MEMLIFE_CLI_PATH +
                            "' simulate --scenario mixed --threads 2 --seed 1 --connections " +
                            std::to_string(connections) + " --requests-per-connection " +
                            std::to_string(kRequests) + " -o '" + partial + "'";
    std::fprintf(stderr, "bench_gui: making %s with memlife simulate\n", path.c_str());
    if (std::system(cmd.c_str()) != 0) {
        std::fprintf(stderr, "bench_gui: %s failed\n", cmd.c_str());
        std::exit(1);
    }
    std::filesystem::rename(partial, path);
}

struct Child {
    double wall_ms = 0;
    double max_rss_mb = 0;
    int status = -1;
    std::string out;
};

// Runs argv with stdout captured (or discarded), returns wall time, peak RSS and output.
Child run(const std::vector<std::string>& args, bool capture, const std::vector<std::string>& env) {
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> envStrings(env);
    for (char** e = environ; *e; ++e)
        envStrings.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : envStrings)
        envp.push_back(e.data());
    envp.push_back(nullptr);

    int pipefd[2] = {-1, -1};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (capture) {
        if (pipe(pipefd) != 0) std::abort();
        posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, pipefd[0]);
    } else {
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    }
    Child child;
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = 0;
    if (posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), envp.data()) != 0) {
        std::fprintf(stderr, "bench_gui: cannot run %s\n", argv[0]);
        std::exit(1);
    }
    posix_spawn_file_actions_destroy(&actions);
    if (capture) {
        close(pipefd[1]);
        char buffer[4096];
        ssize_t n;
        while ((n = read(pipefd[0], buffer, sizeof buffer)) > 0)
            child.out.append(buffer, static_cast<std::size_t>(n));
        close(pipefd[0]);
    }
    rusage usage{};
    wait4(pid, &child.status, 0, &usage);
    child.wall_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    child.max_rss_mb = double(usage.ru_maxrss) / 1024.0; // KiB on Linux
    return child;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--events" && i + 1 < argc)
            o.events = std::strtoull(argv[++i], nullptr, 10);
        else if (arg == "--runs" && i + 1 < argc)
            o.runs = std::max(1, std::atoi(argv[++i]));
        else if (arg == "--trace" && i + 1 < argc)
            o.trace = argv[++i];
        // Anything else (scripts/bench.sh passes --benchmark_min_time) is not ours.
    }
    if (o.trace.empty())
        o.trace = "/tmp/memlife-bench-gui-" MEMLIFE_BENCH_TRACE_VERSION "-" +
                  std::to_string(o.events) + ".memlife";
    return o;
}

} // namespace

int main(int argc, char** argv) {
    const Options options = parse(argc, argv);
    if (!std::filesystem::exists(options.trace)) makeTrace(options.trace, options.events);
    const auto info = memlife::data::TraceReader(options.trace).info();
    std::fprintf(stderr, "bench_gui: %s: %llu events, %llu sessions\n", options.trace.c_str(),
                 static_cast<unsigned long long>(info.events),
                 static_cast<unsigned long long>(info.sessions));

    std::vector<double> sqliteMs;
    for (int i = 0; i < options.runs; ++i) {
        const Child c = run({"sqlite3", options.trace, "SELECT * FROM sessions"}, false, {});
        if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) {
            std::fprintf(stderr, "bench_gui: sqlite3 failed on %s\n", options.trace.c_str());
            return 1;
        }
        sqliteMs.push_back(c.wall_ms);
    }

    std::vector<double> paintMs, wallMs, rssMb, zoomMs;
    for (int i = 0; i < options.runs; ++i) {
        const Child c =
            run({MEMLIFE_GUI_PATH, "--report-first-paint", "--report-zoom", options.trace}, true,
                {"QT_QPA_PLATFORM=offscreen"});
        const auto at = c.out.find("first_paint_ms=");
        if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0 || at == std::string::npos) {
            std::fprintf(stderr, "bench_gui: memlife-gui failed (status %d): %s\n", c.status,
                         c.out.c_str());
            return 1;
        }
        paintMs.push_back(std::strtod(c.out.c_str() + at + 15, nullptr));
        const auto zoom = c.out.find("zoom_last_ms_ms=");
        if (zoom == std::string::npos) {
            std::fprintf(stderr, "bench_gui: memlife-gui reported no zoom: %s\n", c.out.c_str());
            return 1;
        }
        zoomMs.push_back(std::strtod(c.out.c_str() + zoom + 16, nullptr));
        wallMs.push_back(c.wall_ms);
        // The GUI's own VmHWM: wait4's ru_maxrss also counts this process's pages, which
        // the child shared until exec (posix_spawn is vfork-like).
        const auto rss = c.out.find("peak_rss_mb=");
        rssMb.push_back(rss != std::string::npos ? std::strtod(c.out.c_str() + rss + 12, nullptr)
                                                 : c.max_rss_mb);
    }
    std::fprintf(stderr, "bench_gui: first paint ms:");
    for (double v : paintMs)
        std::fprintf(stderr, " %.0f", v);
    std::fprintf(stderr, " (process wall ms: %.0f median); sqlite3 sessions ms: %.1f median\n",
                 median(wallMs), median(sqliteMs));
    std::fprintf(stderr, "bench_gui: zoom to the last ms of the longest session, ms:");
    for (double v : zoomMs)
        std::fprintf(stderr, " %.1f", v);
    std::fprintf(stderr, "\n");

    memlife::bench::print_figure("gui_first_paint_vs_sqlite_sessions", median(paintMs), "ms",
                                 median(sqliteMs));
    memlife::bench::print_figure("gui_first_paint_vs_target", median(paintMs), "ms", 1000.0);
    memlife::bench::print_figure("gui_zoom_last_ms_vs_first_paint", median(zoomMs), "ms",
                                 median(paintMs));
    memlife::bench::print_figure("gui_peak_rss_mb", *std::max_element(rssMb.begin(), rssMb.end()),
                                 "MB", 300.0);
    return 0;
}
