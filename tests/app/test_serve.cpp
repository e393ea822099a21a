// `memlife serve` for real: a server process on an ephemeral loopback port, curl as the
// client (one keep-alive connection with 3 requests, a second with 1), SIGTERM, report.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <thread>

#include "process.hpp"

using memlife::test::quote;
using memlife::test::run_memlife;
using memlife::test::TempDir;

namespace {

struct Server {
    pid_t pid = -1;
    int port = 0;
    ~Server() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    // Starts `memlife serve` and reads the port from its first line.
    bool start(const std::string& trace, const std::string& filters) {
        int out[2];
        if (::pipe(out) != 0) return false;
        pid = ::fork();
        if (pid == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            ::close(out[0]);
            ::execl(MEMLIFE_CLI, MEMLIFE_CLI, "serve", "--listen", "127.0.0.1:0", "-o",
                    trace.c_str(), "--filters", filters.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(out[1]);
        std::string line;
        char c;
        while (::read(out[0], &c, 1) == 1 && c != '\n')
            line += c;
        ::close(out[0]);
        const auto colon = line.rfind(':', line.find(','));
        if (line.find("listening on 127.0.0.1:") == std::string::npos) return false;
        port = std::stoi(line.substr(colon + 1));
        return port > 0;
    }
    int stop() { // SIGTERM, as an init system would
        ::kill(pid, SIGTERM);
        int status = 0;
        ::waitpid(pid, &status, 0);
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
};

int curl(const std::string& args) {
    return std::system(("curl -sS --max-time 10 -o /dev/null " + args).c_str());
}

} // namespace

TEST(Serve, KeepAliveConnectionsBecomeSessionsAndCloseReleasesEverything) {
    ASSERT_EQ(std::system("command -v curl >/dev/null"), 0)
        << "curl is needed (scripts/test.sh installs it)";
    TempDir dir;
    const std::string trace = dir / "serve.trace";
    Server server;
    ASSERT_TRUE(server.start(trace, "leaky,clean"));
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port);
    // Several URLs on one curl command line share one keep-alive connection.
    ASSERT_EQ(curl(base + "/one " + base + "/two " + base + "/three"), 0);
    ASSERT_EQ(curl(base + "/single"), 0);
    EXPECT_EQ(server.stop(), 0);

    auto r = run_memlife("report --json " + quote(trace), dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["sessions"].size(), 2u) << r.out;
    std::vector<int> requests;
    for (const auto& s : j["sessions"])
        requests.push_back(s["requests"]);
    std::sort(requests.begin(), requests.end());
    EXPECT_EQ(requests, (std::vector<int>{1, 3}));
    for (const auto& s : j["sessions"]) {
        EXPECT_TRUE(s["closed"].get<bool>());
        EXPECT_GT(s["released_at_close_bytes"].get<long>(), 0);
        if (s["requests"] == 3) {
            EXPECT_GT(s["growth_bytes_per_request"].get<double>(), 50.0) << "the leaky filter";
        }
    }
    EXPECT_EQ(j["totals"]["order_violations"], 0);
    // Everything the sessions held was released at END_OF_NET_SESSION.
    auto live =
        run_memlife("sql " + quote(trace) + " \"SELECT sum(live_bytes) FROM sessions\"", dir);
    ASSERT_EQ(live.exit_code, 0) << live.err;
    EXPECT_NE(live.out.find("\n0\n"), std::string::npos) << live.out;
}

TEST(Serve, OverrunFilterIsCaughtAtEndOfNetSession) {
    TempDir dir;
    const std::string trace = dir / "overrun.trace";
    Server server;
    ASSERT_TRUE(server.start(trace, "clean,overrun"));
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port);
    ASSERT_EQ(curl(base + "/fine " + base + "/overrun"), 0);
    EXPECT_EQ(server.stop(), 0);
    auto check = run_memlife("check " + quote(trace), dir);
    EXPECT_EQ(check.exit_code, 1) << check.out;
    EXPECT_NE(check.out.find("1 corruption"), std::string::npos) << check.out;
}

TEST(Serve, RefusesNonLoopbackUnlessAllowed) {
    TempDir dir;
    auto r = run_memlife("serve --listen 0.0.0.0:0", dir);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("non-loopback"), std::string::npos) << r.err;
    EXPECT_EQ(run_memlife("serve --listen nonsense", dir).exit_code, 2);
}
