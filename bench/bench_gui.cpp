// memlife-gui on a 10-million-event keep-alive-leak trace: milliseconds from process start
// to the first painted chart (the GUI's --report-first-paint) and its peak RSS (VmHWM),
// against a baseline measured in the same run: the sqlite3 shell reading the trace's
// sessions table. Targets: first paint <= 1.0 s, peak RSS <= 300 MB.
//
//   bench_gui [--events N] [--runs N] [--trace PATH]
//
// The trace is made in-process by the real allocator and recorder and cached in /tmp,
// keyed by a version string and the event count (making it takes a while).
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
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"

extern char** environ;

namespace {

struct Options {
    std::uint64_t events = 10'000'000;
    int runs = 5;
    std::string trace;
};

// Keep-alive connections whose filter calls AllocMem on every request: each request is 6
// events (begin, URL_MAP, alloc_mem, alloc_request, END_OF_REQUEST, end). A few sessions
// overrun a block or leak a noted block, so the views have something to mark.
void makeTrace(const std::string& path, std::uint64_t targetEvents) {
    const std::string partial = path + ".partial";
    std::mt19937 rng(20261125);
    std::uint64_t events = 0, sessions = 0;
    {
        memlife::data::RecorderOptions options;
        options.source = "bench_gui";
        memlife::data::Recorder recorder(partial, options);
        memlife::Runtime runtime(memlife::Config{}, &recorder);
        static char noted[512];
        while (events < targetEvents) {
            const std::string peer = "10.1." + std::to_string((sessions >> 8) & 255) + "." +
                                     std::to_string(sessions & 255) + ":" +
                                     std::to_string(40000 + sessions % 20000);
            memlife::Session* s = runtime.open(peer);
            const std::uint32_t requests = 20 + rng() % 150;
            const std::uint32_t leak = 64 + rng() % 960;
            for (std::uint32_t r = 0; r < requests; ++r) {
                s->request_begin();
                s->set_notification(memlife::Notification::UrlMap);
                auto* block = static_cast<char*>(s->alloc_mem(leak));
                s->alloc_request(512 + rng() % 3584);
                if (sessions % 997 == 13 && r == requests / 2) block[leak] = 0; // overrun
                if (sessions % 499 == 7 && r == 1)
                    s->note_alloc(noted, sizeof noted, memlife::Scope::Request); // leak
                s->set_notification(memlife::Notification::EndOfRequest);
                s->request_end();
            }
            runtime.close(s);
            events += 2 + 6ull * requests;
            ++sessions;
            if (sessions % 2000 == 0)
                std::fprintf(stderr, "bench_gui: making %s: %llu events\r", path.c_str(),
                             static_cast<unsigned long long>(events));
        }
        recorder.commit();
    }
    std::fprintf(stderr, "\nbench_gui: %llu sessions, ~%llu events\n",
                 static_cast<unsigned long long>(sessions),
                 static_cast<unsigned long long>(events));
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

    std::vector<double> sqliteMs;
    for (int i = 0; i < options.runs; ++i) {
        const Child c = run({"sqlite3", options.trace, "SELECT * FROM sessions"}, false, {});
        if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) {
            std::fprintf(stderr, "bench_gui: sqlite3 failed on %s\n", options.trace.c_str());
            return 1;
        }
        sqliteMs.push_back(c.wall_ms);
    }

    std::vector<double> paintMs, wallMs, rssMb;
    for (int i = 0; i < options.runs; ++i) {
        const Child c = run({MEMLIFE_GUI_PATH, "--report-first-paint", options.trace}, true,
                            {"QT_QPA_PLATFORM=offscreen"});
        const auto at = c.out.find("first_paint_ms=");
        if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0 || at == std::string::npos) {
            std::fprintf(stderr, "bench_gui: memlife-gui failed (status %d): %s\n", c.status,
                         c.out.c_str());
            return 1;
        }
        paintMs.push_back(std::strtod(c.out.c_str() + at + 15, nullptr));
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

    memlife::bench::print_figure("gui_first_paint_vs_sqlite_sessions", median(paintMs), "ms",
                                 median(sqliteMs));
    memlife::bench::print_figure("gui_first_paint_vs_target", median(paintMs), "ms", 1000.0);
    memlife::bench::print_figure("gui_peak_rss_mb", *std::max_element(rssMb.begin(), rssMb.end()),
                                 "MB", 300.0);
    return 0;
}
