// A real nginx (Debian's, built --with-debug; scripts/test.sh installs it): this test writes
// its own configuration into a temporary prefix (127.0.0.1, an ephemeral port, daemon off,
// master_process off, debug error log), makes one keep-alive connection with three requests
// and a second one with a single request using curl, stops nginx by its PID, imports the log
// and checks sessions, requests, block sizes and pool lifetimes in the trace.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "memlife/data/import.hpp"
#include "memlife/data/reader.hpp"
#include "test_import_sink.hpp"

using namespace memlife;
using namespace memlife::data;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* kNginx = "/usr/sbin/nginx";
constexpr const char* kCurl = "/usr/bin/curl";

// A port nobody listens on now: bind port 0, read the port, close.
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        if (fd >= 0) ::close(fd);
        return 0;
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

bool accepts(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// fork + exec with stdout/stderr to `output`; returns the child's PID (or -1).
pid_t spawn(const std::vector<std::string>& argv, const std::string& output) {
    std::vector<char*> args;
    for (const std::string& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

int run(const std::vector<std::string>& argv, const std::string& output) {
    const pid_t pid = spawn(argv, output);
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Owns the temporary prefix and the nginx process: whatever happens, nginx is stopped
// (SIGTERM, SIGKILL after 5 s) and the prefix removed.
class NginxInstance {
public:
    NginxInstance() {
        char pattern[] = "/tmp/memlife-nginx-XXXXXX";
        if (::mkdtemp(pattern) != nullptr) prefix_ = pattern;
    }
    ~NginxInstance() {
        stop();
        if (!prefix_.empty()) fs::remove_all(prefix_);
    }
    NginxInstance(const NginxInstance&) = delete;
    NginxInstance& operator=(const NginxInstance&) = delete;

    const fs::path& prefix() const { return prefix_; }
    std::string log() const { return (prefix_ / "logs/debug.log").string(); }
    int port() const { return port_; }

    // Writes the configuration and the site, starts nginx, waits until the port accepts.
    ::testing::AssertionResult start() {
        if (prefix_.empty()) return ::testing::AssertionFailure() << "mkdtemp failed";
        port_ = free_port();
        if (port_ == 0) return ::testing::AssertionFailure() << "no free port";
        for (const char* d : {"logs", "html", "tmp"})
            fs::create_directories(prefix_ / d);
        std::ofstream(prefix_ / "html/index.html") << "memlife live test\n";
        std::ofstream(prefix_ / "html/big.bin") << std::string(30000, 'x');
        const std::string p = prefix_.string();
        std::ofstream(prefix_ / "nginx.conf") << "daemon off;\n"
                                                 "master_process off;\n"
                                                 "worker_processes 1;\n"
                                                 "error_log "
                                              << p << "/logs/debug.log debug;\n"
                                              << "pid " << p << "/logs/nginx.pid;\n"
                                              << "events { worker_connections 64; }\n"
                                                 "http {\n"
                                                 "  access_log off;\n"
                                                 "  keepalive_timeout 10s;\n"
                                                 "  client_body_temp_path "
                                              << p << "/tmp/client_body;\n"
                                              << "  proxy_temp_path " << p << "/tmp/proxy;\n"
                                              << "  fastcgi_temp_path " << p << "/tmp/fastcgi;\n"
                                              << "  uwsgi_temp_path " << p << "/tmp/uwsgi;\n"
                                              << "  scgi_temp_path " << p << "/tmp/scgi;\n"
                                              << "  server {\n"
                                                 "    listen 127.0.0.1:"
                                              << port_ << ";\n"
                                              << "    root " << p << "/html;\n"
                                              << "  }\n"
                                                 "}\n";
        pid_ = spawn({kNginx, "-p", p + "/", "-c", p + "/nginx.conf", "-e", p + "/logs/error.log"},
                     p + "/logs/stdout.log");
        if (pid_ < 0) return ::testing::AssertionFailure() << "fork failed";
        for (auto deadline = std::chrono::steady_clock::now() + 10s;
             std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return ::testing::AssertionFailure()
                       << "nginx exited at start: " << test::read_file(p + "/logs/stdout.log")
                       << test::read_file(p + "/logs/error.log");
            }
            if (accepts(port_)) return ::testing::AssertionSuccess(); // the readiness probe
        }
        return ::testing::AssertionFailure() << "nginx does not accept on port " << port_;
    }

    // Waits until the log shows `count` closed connections (nginx logs a client's close
    // asynchronously, after curl has exited).
    bool wait_for_closes(std::size_t count) const {
        for (auto deadline = std::chrono::steady_clock::now() + 10s;
             std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
            const std::string text = test::read_file(log());
            std::size_t n = 0;
            for (std::size_t at = 0; (at = text.find("close http connection", at)) != text.npos;
                 ++at)
                ++n;
            if (n >= count) return true;
        }
        return false;
    }

    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int status = 0;
        for (auto deadline = std::chrono::steady_clock::now() + 5s;
             std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms))
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }

private:
    fs::path prefix_;
    int port_ = 0;
    pid_t pid_ = -1;
};

TEST(ImportNginxLive, KeepAliveConnectionsOfARealNginx) {
    if (::access(kNginx, X_OK) != 0)
        GTEST_SKIP() << kNginx << " is not installed (scripts/test.sh installs Debian's nginx)";
    ASSERT_EQ(::access(kCurl, X_OK), 0) << kCurl << " is missing (Debian package curl)";
    NginxInstance nginx;
    ASSERT_TRUE(nginx.start());
    const std::string base = "http://127.0.0.1:" + std::to_string(nginx.port());
    const std::string out = (nginx.prefix() / "logs/curl.log").string();
    // Several URLs on one command line share one keep-alive connection; the last is a 404.
    ASSERT_EQ(run({kCurl, "-s", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
                   base + "/index.html", base + "/big.bin", base + "/missing"},
                  out),
              0)
        << test::read_file(out);
    ASSERT_EQ(run({kCurl, "-s", "-o", "/dev/null", base + "/index.html"}, out), 0)
        << test::read_file(out);
    ASSERT_TRUE(nginx.wait_for_closes(3)) << "nginx did not log the three closes";
    nginx.stop();

    const std::string trace = (nginx.prefix() / "nginx.trace").string();
    const ImportStats stats = import_nginx_to_trace(nginx.log(), trace); // strict
    EXPECT_EQ(stats.malformed_lines, 0u);
    EXPECT_EQ(stats.sessions, 3u); // the readiness probe and the two curl connections
    EXPECT_EQ(stats.open_sessions, 0u);
    EXPECT_EQ(stats.leaks, 0u);

    TraceReader reader(trace);
    std::vector<SessionRow> sessions = reader.sessions();
    ASSERT_EQ(sessions.size(), 3u);
    std::sort(sessions.begin(), sessions.end(),
              [](const SessionRow& a, const SessionRow& b) { return a.requests < b.requests; });
    EXPECT_EQ(sessions[0].requests, 0u); // the probe: connected and closed
    EXPECT_EQ(sessions[1].requests, 1u);
    EXPECT_EQ(sessions[2].requests, 3u);
    for (std::size_t i = 1; i < 3; ++i) {
        const SessionRow& s = sessions[i];
        SCOPED_TRACE("session " + s.peer);
        EXPECT_TRUE(s.closed());
        EXPECT_EQ(s.peer.rfind("127.0.0.1:", 0), 0u);
        EXPECT_EQ(s.leaks, 0u);
        const std::vector<RequestRow> requests = reader.requests(s.id);
        ASSERT_EQ(requests.size(), s.requests);
        int connection_pools = 0, big_buffers = 0;
        std::vector<int> request_pools(requests.size(), 0);
        reader.for_each_block(s.id, [&](const BlockRow& b) {
            EXPECT_NE(b.release_ns, 0u) << "block of " << b.size << " bytes never released";
            if (b.id == 1) { // the connection pool, created at accept
                ++connection_pools;
                EXPECT_EQ(b.size, 512u);
                EXPECT_EQ(b.scope, Scope::Session);
                EXPECT_GT(b.release_ns, requests.back().end_ns) << "connection pool freed early";
                EXPECT_LE(b.release_ns, s.close_ns);
            }
            if (b.scope == Scope::Request) {
                if (b.request == 0 || b.request > requests.size()) {
                    ADD_FAILURE() << "request block outside any request: " << b.request;
                    return true;
                }
                const RequestRow& r = requests.at(b.request - 1);
                EXPECT_GE(b.alloc_ns, r.begin_ns);
                EXPECT_LE(b.release_ns, r.end_ns) << "request block outlives its request";
                request_pools[b.request - 1] += b.size == 4096;
                big_buffers += b.size == 30000;
            }
            return true;
        });
        EXPECT_EQ(connection_pools, 1);
        for (std::size_t r = 0; r < requests.size(); ++r) {
            EXPECT_GE(request_pools[r], 1) << "request " << r + 1 << " has no 4096-byte pool";
            EXPECT_NE(requests[r].end_ns, 0u);
        }
        // The 30000-byte file is read into a request buffer of its size.
        EXPECT_EQ(big_buffers, s.requests == 3 ? 1 : 0);
    }
}

} // namespace
