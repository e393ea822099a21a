// `memlife serve` for real: a server process on an ephemeral loopback port, curl and raw
// sockets as clients, SIGTERM, report. What a filter makes reaches the client unchanged.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <thread>

#include "process.hpp"
#include "serve_process.hpp"

using memlife::test::quote;
using memlife::test::run_memlife;
using memlife::test::TempDir;

namespace {

using memlife::test::ServeProcess;

int curl(const std::string& args) {
    return std::system(("curl -sS --max-time 10 -o /dev/null " + args).c_str());
}

} // namespace

TEST(Serve, KeepAliveConnectionsBecomeSessionsAndCloseReleasesEverything) {
    ASSERT_EQ(std::system("command -v curl >/dev/null"), 0)
        << "curl is needed (scripts/test.sh installs it)";
    TempDir dir;
    const std::string trace = dir / "serve.trace";
    ServeProcess server;
    ASSERT_TRUE(server.start({"-o", trace, "--filters", "leaky,clean"})) << server.first_line;
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
    ServeProcess server;
    ASSERT_TRUE(server.start({"-o", trace, "--filters", "clean,overrun"})) << server.first_line;
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
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("non-loopback"), std::string::npos) << r.err;
    EXPECT_EQ(run_memlife("serve --listen nonsense", dir).exit_code, 2);
}

// The responder filter answers /private itself (401 with WWW-Authenticate), rewrites
// /teapot (its own reason phrase and a header) and /gone (410, the standard phrase), and
// fails /cut half-way through SEND_RAW_DATA: each reaches the client exactly as the filter
// host produced it.
TEST(Serve, FilterResponsesReachTheClientByteForByte) {
    using namespace memlife::test;
    ServeProcess server;
    ASSERT_TRUE(server.start({"--filters", "leaky,responder"})) << server.first_line;
    Socket s(connect_to(server.port));
    ASSERT_GE(s, 0);
    auto ask = [&](const std::string& path) {
        EXPECT_TRUE(send_all(s, "GET " + path + " HTTP/1.1\r\nHost: memlife.test\r\n\r\n"));
        std::string pending;
        auto response = read_response(s, pending);
        EXPECT_TRUE(pending.empty()) << pending;
        return response.value_or("(no response)");
    };
    EXPECT_EQ(ask("/private"), "HTTP/1.1 401 Unauthorized\r\n"
                               "WWW-Authenticate: Basic realm=\"memlife\"\r\n"
                               "Content-Type: text/plain; charset=utf-8\r\n"
                               "Content-Length: 24\r\n"
                               "Connection: keep-alive\r\n\r\n"
                               "authentication required\n");
    EXPECT_EQ(ask("/teapot"), "HTTP/1.1 418 Short And Stout\r\n"
                              "Content-Type: text/plain; charset=utf-8\r\n"
                              "Server: memlife-serve\r\n"
                              "X-Memlife-Filter: responder\r\n"
                              "Content-Length: 27\r\n"
                              "Connection: keep-alive\r\n\r\n"
                              "memlife serve: GET /teapot\n");
    EXPECT_EQ(ask("/gone"), "HTTP/1.1 410 Gone\r\n"
                            "Content-Type: text/plain; charset=utf-8\r\n"
                            "Server: memlife-serve\r\n"
                            "Content-Length: 25\r\n"
                            "Connection: keep-alive\r\n\r\n"
                            "memlife serve: GET /gone\n");
    // Cut off: the first of the two SEND_RAW_DATA pieces, then the connection closes.
    const std::string whole = "HTTP/1.1 200 OK\r\n"
                              "Content-Type: text/plain; charset=utf-8\r\n"
                              "Server: memlife-serve\r\n"
                              "Content-Length: 24\r\n"
                              "Connection: keep-alive\r\n\r\n"
                              "memlife serve: GET /cut\n";
    ASSERT_TRUE(send_all(s, "GET /cut HTTP/1.1\r\nHost: memlife.test\r\n\r\n"));
    bool closed = false;
    EXPECT_EQ(read_until_close(s, 5000ms, &closed), whole.substr(0, (whole.size() + 1) / 2));
    EXPECT_TRUE(closed);

    // A real client sees the same: curl shows the filter's status line and header.
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port);
    FILE* p = ::popen(("curl -sS -i --max-time 10 " + base + "/private").c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string shown;
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, p) != nullptr)
        shown += buffer;
    EXPECT_EQ(::pclose(p), 0);
    EXPECT_EQ(shown.rfind("HTTP/1.1 401 Unauthorized\r\n", 0), 0u) << shown;
    EXPECT_NE(shown.find("WWW-Authenticate: Basic realm=\"memlife\"\r\n"), std::string::npos)
        << shown;
    // ... and of the cut-off response only what came before the cut (no body).
    p = ::popen(("curl -sS -i --max-time 10 " + base + "/cut 2>/dev/null").c_str(), "r");
    ASSERT_NE(p, nullptr);
    shown.clear();
    while (std::fgets(buffer, sizeof buffer, p) != nullptr)
        shown += buffer;
    ::pclose(p);
    EXPECT_EQ(shown.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << shown;
    EXPECT_EQ(shown.find("memlife serve: GET /cut"), std::string::npos) << shown;
    EXPECT_EQ(server.stop(), 0);
}
