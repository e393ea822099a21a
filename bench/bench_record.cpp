// memlife record's cost, each figure against a baseline measured in the same run:
//   record_nginx_vs_plain      nginx (Debian's; one process, keep-alive, loopback) under wrk
//                              for a bounded time: requests/s recorded against plain (>= 0.7)
//   record_nginx_vs_heaptrack  the same run under heaptrack: recorded against it (>= 2)
//   record_malloc_free_cpu_vs_plain   the hooks' hot path: a malloc+free pair inside a
//                                     connection (Alloc and Release recorded, the address map),
//                                     CPU time of the calling thread, against the same loop
//                                     without the library
//   record_malloc_free_wall_vs_plain  the same in wall time: it includes waiting for the
//                                     recording pipeline (sender, receiver, writer), which a
//                                     loop of nothing but allocations outruns on two cores
//   record_process_malloc_free_vs_plain  a pair outside any connection (counted only), CPU
// The nginx runs alternate for a few rounds and the best of each counts: the machine is
// shared.
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "figures.hpp"
#include "nginx_prefix.hpp" // tests/record/

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using memlife::test::kNginx;
constexpr int kSeconds = 3, kRounds = 3;

// A prefix with nginx's configuration: one process, daemon off, everything inside it.
struct Prefix {
    fs::path dir;
    int port = memlife::test::free_port();
    std::vector<std::string> argv;
    Prefix() {
        char pattern[] = "/tmp/memlife-bench-record-XXXXXX";
        dir = ::mkdtemp(pattern);
        argv = memlife::test::nginx_prefix(dir, port, {.keepalive_requests = 100000});
    }
    ~Prefix() { fs::remove_all(dir); }
};

// Runs `wrapper... nginx` until stop(); output to /dev/null.
class Server {
public:
    Server(const Prefix& prefix, std::vector<std::string> argv) : prefix_(prefix) {
        argv.insert(argv.end(), prefix.argv.begin(), prefix.argv.end());
        pid_ = ::fork();
        if (pid_ == 0) {
            std::freopen("/dev/null", "w", stdout);
            std::freopen("/dev/null", "w", stderr);
            std::vector<char*> args;
            for (auto& a : argv)
                args.push_back(a.data());
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            ::_exit(127);
        }
        ready_ = memlife::test::wait_until_accepts(prefix.port);
    }
    ~Server() { // SIGTERM to nginx (its pid file); the wrapper ends with it
        std::ifstream pidfile(prefix_.dir / "logs/nginx.pid");
        int nginx = 0;
        if (pidfile >> nginx && nginx > 0) ::kill(nginx, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
        fs::remove(prefix_.dir / "logs/nginx.pid");
    }
    bool ready() const { return ready_; }

private:
    const Prefix& prefix_;
    pid_t pid_ = -1;
    bool ready_ = false;
};

// Requests per second reported by wrk (keep-alive), or 0.
double wrk(int port) {
    const std::string cmd = "wrk -t1 -c32 -d" + std::to_string(kSeconds) +
                            "s http://127.0.0.1:" + std::to_string(port) +
                            "/index.html 2>/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return 0;
    char line[512];
    double rps = 0;
    while (std::fgets(line, sizeof line, p) != nullptr)
        if (std::sscanf(line, "Requests/sec: %lf", &rps) == 1) break;
    ::pclose(p);
    return rps;
}

// ---- the hooks' hot path ------------------------------------------------------------

constexpr int kPairs = 2'000'000;

struct LoopTime {
    double wall_ns = 1e9; // per malloc+free pair, as the program sees it
    double cpu_ns = 1e9;  // per pair, CPU time of the calling thread (the hooks' own cost)
};

double clock_ns(clockid_t clock) {
    timespec t{};
    clock_gettime(clock, &t);
    return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

// 64 blocks live at a time, sizes 64..1023.
LoopTime alloc_loop() {
    void* live[64] = {};
    const double wall = clock_ns(CLOCK_MONOTONIC), cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < kPairs; ++i) {
        void*& slot = live[i & 63];
        std::free(slot);
        slot = std::malloc(64 + static_cast<std::size_t>(i * 37) % 960);
        asm volatile("" : : "r"(slot) : "memory");
    }
    LoopTime t{(clock_ns(CLOCK_MONOTONIC) - wall) / kPairs,
               (clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu) / kPairs};
    for (void* p : live)
        std::free(p);
    return t;
}

// `bench_record --alloc-loop`: the loop inside an accepted loopback connection (the
// thread's current one: every block recorded), then outside any (counted only).
int alloc_loop_main() {
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener, 1) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return 1;
    const int client = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 1;
    const int connection = ::accept(listener, nullptr, nullptr);
    char c = 'x';
    if (::write(client, &c, 1) != 1 || ::read(connection, &c, 1) != 1) return 1; // a request
    const LoopTime inside = alloc_loop();
    ::close(connection);
    const LoopTime outside = alloc_loop();
    ::close(client);
    ::close(listener);
    std::printf("%f %f %f %f\n", inside.wall_ns, inside.cpu_ns, outside.wall_ns, outside.cpu_ns);
    return 0;
}

// Runs `command` (this program with --alloc-loop, maybe recorded), keeping the best times.
void run_alloc_loop(const std::string& command, LoopTime& inside, LoopTime& outside) {
    FILE* p = ::popen((command + " 2>/dev/null").c_str(), "r");
    if (p == nullptr) return;
    LoopTime in, out;
    if (std::fscanf(p, "%lf %lf %lf %lf", &in.wall_ns, &in.cpu_ns, &out.wall_ns, &out.cpu_ns) ==
        4) {
        inside = {std::min(inside.wall_ns, in.wall_ns), std::min(inside.cpu_ns, in.cpu_ns)};
        outside = {std::min(outside.wall_ns, out.wall_ns), std::min(outside.cpu_ns, out.cpu_ns)};
    }
    ::pclose(p);
}

void hot_path_figures() {
    const std::string self = fs::read_symlink("/proc/self/exe").string() + " --alloc-loop";
    const std::string trace = fs::temp_directory_path() /
                              ("memlife-bench-alloc-" + std::to_string(::getpid()) + ".mltrace");
    LoopTime plain_in, plain_out, rec_in, rec_out;
    for (int round = 0; round < kRounds; ++round) {
        run_alloc_loop(self, plain_in, plain_out);
        run_alloc_loop(std::string(MEMLIFE_CLI) + " record -o " + trace + " -- " + self, rec_in,
                       rec_out);
        fs::remove(trace);
    }
    using memlife::bench::print_figure;
    print_figure("record_malloc_free_cpu_vs_plain", rec_in.cpu_ns, "ns", plain_in.cpu_ns);
    print_figure("record_malloc_free_wall_vs_plain", rec_in.wall_ns, "ns", plain_in.wall_ns);
    print_figure("record_process_malloc_free_vs_plain", rec_out.cpu_ns, "ns", plain_out.cpu_ns);
}

double measure(const Prefix& prefix, const std::vector<std::string>& wrapper) {
    Server server(prefix, wrapper);
    return server.ready() ? wrk(prefix.port) : 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "--alloc-loop") return alloc_loop_main();
    hot_path_figures();
    for (const char* tool : {"wrk", "heaptrack"})
        if (std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) != 0) {
            std::fprintf(stderr, "bench_record: %s is not installed\n", tool);
            return 1;
        }
    if (::access(kNginx, X_OK) != 0) {
        std::fprintf(stderr, "bench_record: %s is not installed\n", kNginx);
        return 1;
    }
    Prefix prefix;
    const std::string trace = (prefix.dir / "nginx.mltrace").string();
    const std::string heaptrack_out = (prefix.dir / "heaptrack").string();
    double plain = 0, recorded = 0, heaptrack = 0;
    for (int round = 0; round < kRounds; ++round) {
        plain = std::max(plain, measure(prefix, {}));
        recorded = std::max(recorded, measure(prefix, {MEMLIFE_CLI, "record", "-o", trace, "--"}));
        heaptrack = std::max(heaptrack, measure(prefix, {"heaptrack", "-o", heaptrack_out}));
        fs::remove(trace);
        fs::remove(heaptrack_out + ".zst");
        fs::remove(heaptrack_out + ".gz");
    }
    std::fprintf(stderr,
                 "bench_record: nginx requests/s: plain %.0f, memlife record %.0f, "
                 "heaptrack %.0f\n",
                 plain, recorded, heaptrack);
    memlife::bench::print_figure("record_nginx_vs_plain", recorded, "req/s", plain);
    memlife::bench::print_figure("record_nginx_vs_heaptrack", recorded, "req/s", heaptrack);
    return 0;
}
