// memlife serve under wrk on loopback (keep-alive, 50 connections): throughput with the
// recorder attached against the same server without it, in one run.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "figures.hpp"

namespace {

struct Server {
    pid_t pid = -1;
    int port = 0;
    explicit Server(const std::string& trace) {
        int out[2];
        if (::pipe(out) != 0) return;
        pid = ::fork();
        if (pid == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            ::close(out[0]);
            if (trace.empty())
                ::execl(MEMLIFE_CLI, MEMLIFE_CLI, "serve", "--listen", "127.0.0.1:0",
                        static_cast<char*>(nullptr));
            else
                ::execl(MEMLIFE_CLI, MEMLIFE_CLI, "serve", "--listen", "127.0.0.1:0", "-o",
                        trace.c_str(), "--filters", "leaky,clean", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(out[1]);
        std::string line;
        char c;
        while (::read(out[0], &c, 1) == 1 && c != '\n')
            line += c;
        ::close(out[0]);
        const auto at = line.find("127.0.0.1:");
        if (at != std::string::npos) port = std::atoi(line.c_str() + at + 10);
    }
    ~Server() {
        if (pid > 0) {
            ::kill(pid, SIGTERM);
            ::waitpid(pid, nullptr, 0);
        }
    }
};

// Requests per second reported by wrk, or 0.
double wrk(int port, int seconds) {
    const std::string cmd = "wrk -t2 -c50 -d" + std::to_string(seconds) +
                            "s http://127.0.0.1:" + std::to_string(port) + "/bench 2>/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return 0;
    char line[512];
    double rps = 0;
    while (std::fgets(line, sizeof line, p) != nullptr)
        if (std::sscanf(line, "Requests/sec: %lf", &rps) == 1) break;
    ::pclose(p);
    return rps;
}

} // namespace

int main() {
    if (std::system("command -v wrk >/dev/null 2>&1") != 0) {
        std::fprintf(stderr, "bench_serve: wrk not installed\n");
        return 1;
    }
    const std::string trace = std::filesystem::temp_directory_path() /
                              ("memlife-bench-serve-" + std::to_string(::getpid()) + ".trace");
    double off = 0, on = 0;
    // Alternate the two a few times and keep the best of each: the machine is shared.
    for (int round = 0; round < 3; ++round) {
        {
            Server plain("");
            off = std::max(off, wrk(plain.port, 3));
        }
        {
            Server recording(trace);
            on = std::max(on, wrk(recording.port, 3));
        }
        std::filesystem::remove(trace);
        std::filesystem::remove(trace + "-wal");
        std::filesystem::remove(trace + "-shm");
    }
    memlife::bench::print_figure("serve_recording_vs_plain", on, "req/s", off);
    return 0;
}
