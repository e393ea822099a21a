// `memlife serve` against hostile and careless clients, all with raw sockets on a real server
// process: a client pipelining without reading, a half-closed client, slow and oversized
// heads, bad framing, idle connections, more connections than descriptors, signals under
// load. No client may stall the others, and SIGTERM always ends the server with a complete
// trace.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "process.hpp"
#include "serve_process.hpp"

using namespace memlife::test;

namespace {

constexpr std::string_view kGet = "GET / HTTP/1.1\r\nHost: memlife.test\r\n\r\n";

// The trace's meta.complete (1 once the recorder committed), or "" when unreadable.
std::string trace_complete(const std::string& trace, const TempDir& dir) {
    const auto r = run_memlife(
        "sql " + quote(trace) + " \"SELECT value FROM meta WHERE key='complete'\"", dir);
    if (r.exit_code != 0) return "";
    return r.out.substr(r.out.find('\n') + 1, 1);
}

// Splits a stream of responses framed by Content-Length; the count of whole ones, and the
// bytes left over.
std::size_t count_responses(std::string_view stream, std::vector<std::string>* bodies,
                            std::string_view* rest) {
    std::size_t n = 0;
    for (;;) {
        const auto end = stream.find("\r\n\r\n");
        if (end == std::string_view::npos) break;
        const auto cl = stream.find("Content-Length: ");
        if (cl == std::string_view::npos || cl > end) break;
        const std::size_t length = std::stoul(std::string(stream.substr(cl + 16, 12)));
        if (stream.size() < end + 4 + length) break;
        if (bodies != nullptr) bodies->emplace_back(stream.substr(end + 4, length));
        stream.remove_prefix(end + 4 + length);
        ++n;
    }
    if (rest != nullptr) *rest = stream;
    return n;
}

// Sends `data` from a thread that never reads; stop() unblocks it.
struct Flood {
    Socket socket;
    std::atomic<std::uint64_t> sent{0};
    std::thread thread;
    Flood(int port, std::string chunk, std::uint64_t total, int receive_buffer = 0)
        : socket(connect_to(port, receive_buffer)) {
        thread = std::thread([this, chunk = std::move(chunk), total] {
            while (sent.load() < total) {
                const ssize_t n = ::send(socket, chunk.data(), chunk.size(), MSG_NOSIGNAL);
                if (n <= 0) return;
                sent += static_cast<std::uint64_t>(n);
            }
        });
    }
    // Until the sender has made no progress for `quiet` (the server stopped reading).
    bool wait_until_blocked(std::chrono::milliseconds quiet, std::chrono::milliseconds limit) {
        const auto until = Clock::now() + limit;
        std::uint64_t last = sent.load();
        auto since = Clock::now();
        while (Clock::now() < until) {
            std::this_thread::sleep_for(20ms);
            if (sent.load() != last) {
                last = sent.load();
                since = Clock::now();
            } else if (Clock::now() - since >= quiet) {
                return true;
            }
        }
        return false;
    }
    void stop() {
        ::shutdown(socket, SHUT_RDWR);
        if (thread.joinable()) thread.join();
    }
    ~Flood() { stop(); }
};

std::string pipelined_requests(std::size_t bytes) {
    std::string chunk;
    while (chunk.size() < bytes)
        chunk += kGet;
    return chunk;
}

} // namespace

// Acceptance: under a client pipelining 64 MB without reading, another client's request is
// answered within 100 ms, the server stops reading the flood (back-pressure), and SIGTERM
// ends it within 1 s with a complete trace.
TEST(ServeHostile, PipeliningClientDoesNotStallOthers) {
    TempDir dir;
    const std::string trace = dir / "flood.trace";
    ServeProcess server;
    ASSERT_TRUE(server.start({"-o", trace})) << server.first_line;
    constexpr std::uint64_t kFlood = 64u << 20;
    Flood flood(server.port, pipelined_requests(1 << 20), kFlood);

    // While the flood runs and after it stalls: fresh clients, one request each.
    std::vector<std::int64_t> latencies;
    const auto until = Clock::now() + 3s;
    while (Clock::now() < until) {
        const auto start = Clock::now();
        const std::string response = request_once(server.port, kGet, 8000ms);
        latencies.push_back(ms_since(start));
        EXPECT_EQ(status_line(response), "HTTP/1.1 200 OK");
        std::this_thread::sleep_for(50ms);
    }
    std::sort(latencies.begin(), latencies.end());
    const std::int64_t worst = latencies.back(), median = latencies[latencies.size() / 2];
    std::printf("flood: %zu requests by other clients, median %lld ms, worst %lld ms\n",
                latencies.size(), static_cast<long long>(median), static_cast<long long>(worst));
    EXPECT_LT(worst, 100) << "median " << median;

    // Back-pressure: the flood's sender is blocked well before 64 MB, the server's memory
    // did not take it in.
    EXPECT_TRUE(flood.wait_until_blocked(500ms, 10s));
    EXPECT_LT(flood.sent.load(), kFlood);
    EXPECT_LT(server.rss_kib(), 256 * 1024) << "KiB resident";
    std::printf("flood: the client got %llu of 64 MiB in; server resident %ld KiB\n",
                static_cast<unsigned long long>(flood.sent.load()), server.rss_kib());

    std::int64_t took = 0;
    EXPECT_EQ(server.stop(SIGTERM, &took), 0);
    EXPECT_LT(took, 1000) << "ms from SIGTERM to exit";
    EXPECT_EQ(trace_complete(trace, dir), "1");
}

// A client that stops reading is not read either; once it reads again, everything it sent
// is answered.
TEST(ServeHostile, ReadingResumesWhenTheClientDrains) {
    ServeProcess server;
    ASSERT_TRUE(server.start({})) << server.first_line;
    const std::string requests = pipelined_requests(8u << 20);
    const std::size_t count = requests.size() / kGet.size();
    Flood flood(server.port, requests, requests.size());
    ASSERT_TRUE(flood.wait_until_blocked(300ms, 10s));
    EXPECT_LT(flood.sent.load(), requests.size()) << "the server kept reading";
    std::string got;
    std::size_t answered = 0;
    while (answered < count) {
        bool closed = false;
        const std::string more = read_until_close(flood.socket, 2000ms, &closed);
        if (more.empty()) break;
        got += more;
        std::string_view rest;
        answered += count_responses(got, nullptr, &rest);
        got = std::string(rest);
        if (closed) break;
    }
    EXPECT_EQ(answered, count);
    EXPECT_EQ(server.stop(SIGINT), 0);
}

// shutdown(SHUT_WR) after 20,000 pipelined requests: every response arrives whole, in
// order, then the server closes.
TEST(ServeHostile, HalfClosedClientGetsEveryResponse) {
    ServeProcess server;
    ASSERT_TRUE(server.start({})) << server.first_line;
    constexpr int kRequests = 20'000;
    std::string requests;
    for (int i = 0; i < kRequests; ++i)
        requests += "GET /r" + std::to_string(i) + " HTTP/1.1\r\nHost: memlife.test\r\n\r\n";
    Socket client(connect_to(server.port));
    std::thread writer([&] {
        EXPECT_TRUE(send_all(client, requests));
        ::shutdown(client, SHUT_WR);
    });
    bool closed = false;
    const std::string stream = read_until_close(client, 30s, &closed);
    writer.join();
    EXPECT_TRUE(closed);
    std::vector<std::string> bodies;
    std::string_view rest;
    ASSERT_EQ(count_responses(stream, &bodies, &rest), static_cast<std::size_t>(kRequests));
    EXPECT_TRUE(rest.empty()) << rest.size() << " bytes of a cut response";
    for (int i = 0; i < kRequests; i += 997)
        EXPECT_EQ(bodies[i], "memlife serve: GET /r" + std::to_string(i) + "\n");
    EXPECT_EQ(server.stop(), 0);
}

// RFC 9112 framing: anything ambiguous is refused, and the connection closes after the
// refusal.
TEST(ServeHostile, StrictFraming) {
    ServeProcess server;
    ASSERT_TRUE(server.start({"--max-body-bytes", "1024"})) << server.first_line;
    struct Case {
        const char* what;
        std::string request;
        const char* status;
    };
    const std::string host = "Host: memlife.test\r\n";
    const std::vector<Case> cases{
        {"letters in Content-Length",
         "POST / HTTP/1.1\r\n" + host + "Content-Length: 3abc\r\n\r\nabc", "400 Bad Request"},
        {"two Content-Length",
         "POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
         "400 Bad Request"},
        {"a Content-Length list", "POST / HTTP/1.1\r\n" + host + "Content-Length: 3, 3\r\n\r\nabc",
         "400 Bad Request"},
        {"a signed Content-Length", "POST / HTTP/1.1\r\n" + host + "Content-Length: +3\r\n\r\nabc",
         "400 Bad Request"},
        {"NUL in the method", std::string("G\0T / HTTP/1.1\r\n", 16) + host + "\r\n",
         "400 Bad Request"},
        {"a space in the target", "GET /a b HTTP/1.1\r\n" + host + "\r\n", "400 Bad Request"},
        {"a control byte in the target", "GET /a\x01 HTTP/1.1\r\n" + host + "\r\n",
         "400 Bad Request"},
        {"two spaces in the request line", "GET  / HTTP/1.1\r\n" + host + "\r\n",
         "400 Bad Request"},
        {"obsolete line folding", "GET / HTTP/1.1\r\n" + host + "X-A: 1\r\n  folded\r\n\r\n",
         "400 Bad Request"},
        {"a space before the colon", "GET / HTTP/1.1\r\nHost : memlife.test\r\n\r\n",
         "400 Bad Request"},
        {"a control byte in a value", "GET / HTTP/1.1\r\n" + host + "X-A: a\x01z\r\n\r\n",
         "400 Bad Request"},
        {"a bare CR", "GET / HTTP/1.1\r\n" + host + "X-A: a\rX-B: b\r\n\r\n", "400 Bad Request"},
        {"no Host", "GET / HTTP/1.1\r\n\r\n", "400 Bad Request"},
        {"two Hosts", "GET / HTTP/1.1\r\n" + host + host + "\r\n", "400 Bad Request"},
        {"chunked", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         "501 Not Implemented"},
        {"Transfer-Encoding and Content-Length",
         "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
         "400 Bad Request"},
        {"HTTP/2.0", "GET / HTTP/2.0\r\n" + host + "\r\n", "505 HTTP Version Not Supported"},
        {"not HTTP", "GET / HTXP/1.1\r\n" + host + "\r\n", "400 Bad Request"},
        {"a body past 2^64",
         "POST / HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999999\r\n\r\n",
         "413 Content Too Large"},
        {"a body past --max-body-bytes",
         "POST / HTTP/1.1\r\n" + host + "Content-Length: 1025\r\n\r\n", "413 Content Too Large"},
    };
    for (const Case& c : cases) {
        Socket s(connect_to(server.port));
        ASSERT_TRUE(send_all(s, c.request)) << c.what;
        std::string pending;
        const auto response = read_response(s, pending);
        ASSERT_TRUE(response.has_value()) << c.what;
        EXPECT_EQ(status_line(*response), std::string("HTTP/1.1 ") + c.status) << c.what;
        EXPECT_NE(response->find("Connection: close\r\n"), std::string::npos) << c.what;
        bool closed = false;
        read_until_close(s, 3000ms, &closed);
        EXPECT_TRUE(closed) << c.what;
    }
    // Well-formed requests still work: a body of exactly the limit, HTTP/1.0, LF-only lines.
    EXPECT_EQ(status_line(request_once(server.port, "POST / HTTP/1.1\r\n" + host +
                                                        "Content-Length: 1024\r\n\r\n" +
                                                        std::string(1024, 'b'))),
              "HTTP/1.1 200 OK");
    EXPECT_EQ(status_line(request_once(server.port, "GET / HTTP/1.0\r\n\r\n")), "HTTP/1.1 200 OK");
    EXPECT_EQ(status_line(request_once(server.port, "GET / HTTP/1.1\nHost: x\n\n")),
              "HTTP/1.1 200 OK");
    EXPECT_EQ(server.stop(), 0);
}

// One limit for the head, whether it comes in one burst or a byte at a time.
TEST(ServeHostile, HeaderLimitHoweverTheBytesArrive) {
    ServeProcess server;
    ASSERT_TRUE(server.start({"--max-header-bytes", "16384"})) << server.first_line;
    const std::string head =
        "GET / HTTP/1.1\r\nHost: memlife.test\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n";
    EXPECT_EQ(status_line(request_once(server.port, head)),
              "HTTP/1.1 431 Request Header Fields Too Large");
    {
        Socket s(connect_to(server.port));
        for (std::size_t i = 0; i < head.size(); i += 512) {
            if (!send_all(s, std::string_view(head).substr(i, 512))) break;
            std::this_thread::sleep_for(1ms);
        }
        std::string pending;
        const auto response = read_response(s, pending);
        ASSERT_TRUE(response.has_value());
        EXPECT_EQ(status_line(*response), "HTTP/1.1 431 Request Header Fields Too Large");
    }
    {
        // 50 MB of header: refused after the limit, not read to the end.
        Socket s(connect_to(server.port));
        const auto start = Clock::now();
        std::thread sender([&] {
            send_all(s, "GET / HTTP/1.1\r\nHost: memlife.test\r\nX-Big: ");
            const std::string chunk(1 << 20, 'a');
            for (int i = 0; i < 50; ++i)
                if (!send_all(s, chunk)) break;
        });
        std::string pending;
        const auto response = read_response(s, pending, 5000ms);
        EXPECT_LT(ms_since(start), 2000);
        ::shutdown(s, SHUT_RDWR);
        sender.join();
        ASSERT_TRUE(response.has_value());
        EXPECT_EQ(status_line(*response), "HTTP/1.1 431 Request Header Fields Too Large");
    }
    // Just under the limit is served.
    EXPECT_EQ(
        status_line(request_once(server.port, "GET / HTTP/1.1\r\nHost: memlife.test\r\nX-A: " +
                                                  std::string(16000, 'a') + "\r\n\r\n")),
        "HTTP/1.1 200 OK");
    EXPECT_EQ(server.stop(), 0);
}

TEST(ServeHostile, IdleHeaderAndBodyTimeouts) {
    ServeProcess server;
    ASSERT_TRUE(
        server.start({"--idle-timeout", "0.3", "--header-timeout", "0.3", "--body-timeout", "0.3"}))
        << server.first_line;
    auto closes_within = [&](int fd, std::string* got = nullptr) {
        const auto start = Clock::now();
        bool closed = false;
        const std::string bytes = read_until_close(fd, 3000ms, &closed);
        if (got != nullptr) *got = bytes;
        const auto took = ms_since(start);
        EXPECT_TRUE(closed);
        EXPECT_GE(took, 150);
        EXPECT_LT(took, 1500);
        return took;
    };
    { // connected, never sends
        Socket s(connect_to(server.port));
        std::string got;
        closes_within(s, &got);
        EXPECT_EQ(got, "");
    }
    { // idle after a request on a keep-alive connection
        Socket s(connect_to(server.port));
        ASSERT_TRUE(send_all(s, kGet));
        std::string pending;
        ASSERT_TRUE(read_response(s, pending).has_value());
        closes_within(s);
    }
    { // a head that never ends, sent a byte at a time: the header timeout does not restart
        Socket s(connect_to(server.port));
        std::atomic<bool> stop{false};
        std::thread dribble([&] {
            const std::string text = "GET / HTTP/1.1\r\nHost: memlife.test\r\nX-Slow: ";
            for (std::size_t i = 0; !stop; ++i) {
                if (!send_all(s, i < text.size() ? text.substr(i, 1) : "a")) break;
                std::this_thread::sleep_for(20ms);
            }
        });
        std::string got;
        closes_within(s, &got);
        stop = true;
        dribble.join();
        EXPECT_EQ(status_line(got), "HTTP/1.1 408 Request Timeout");
    }
    { // a body that stops short
        Socket s(connect_to(server.port));
        ASSERT_TRUE(send_all(
            s, "POST / HTTP/1.1\r\nHost: memlife.test\r\nContent-Length: 100\r\n\r\n0123456789"));
        std::string got;
        closes_within(s, &got);
        EXPECT_EQ(status_line(got), "HTTP/1.1 408 Request Timeout");
    }
    { // a client that does not read its responses: closed once nothing moves for the timeout
        Flood flood(server.port, pipelined_requests(1 << 20), 16u << 20, 16 * 1024);
        ASSERT_TRUE(flood.wait_until_blocked(200ms, 10s));
        pollfd p{flood.socket, POLLRDHUP, 0};
        EXPECT_EQ(::poll(&p, 1, 10'000), 1) << "the server kept a client that does not read";
    }
    EXPECT_EQ(server.stop(), 0);
}

// At the cap, the longest-idle keep-alive connection gives way to a new client; when every
// connection is busy, new clients wait until one ends.
TEST(ServeHostile, ConnectionCap) {
    ServeProcess server;
    ASSERT_TRUE(server.start({"--max-connections", "4"})) << server.first_line;
    std::vector<Socket> idle;
    for (int i = 0; i < 4; ++i) {
        idle.emplace_back(connect_to(server.port));
        std::string pending;
        ASSERT_TRUE(send_all(idle.back(), kGet));
        ASSERT_TRUE(read_response(idle.back(), pending).has_value());
        std::this_thread::sleep_for(10ms);
    }
    const auto start = Clock::now();
    EXPECT_EQ(status_line(request_once(server.port, kGet)), "HTTP/1.1 200 OK");
    EXPECT_LT(ms_since(start), 500);
    bool closed = false;
    read_until_close(idle.front(), 1000ms, &closed);
    EXPECT_TRUE(closed) << "the oldest idle connection made room";
    idle.clear();
    std::this_thread::sleep_for(100ms);

    std::vector<Socket> busy; // each in the middle of a request head
    for (int i = 0; i < 4; ++i) {
        busy.emplace_back(connect_to(server.port));
        ASSERT_TRUE(send_all(busy.back(), "GET / HTTP/1.1\r\n"));
    }
    std::this_thread::sleep_for(100ms);
    Socket waiting(connect_to(server.port)); // the kernel's backlog accepts it
    ASSERT_TRUE(send_all(waiting, kGet));
    std::string pending;
    EXPECT_FALSE(read_response(waiting, pending, 300ms).has_value());
    busy.erase(busy.begin()); // one ends: the waiting client gets its place
    const auto response = read_response(waiting, pending, 2000ms);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(status_line(*response), "HTTP/1.1 200 OK");
    EXPECT_EQ(server.stop(), 0);
}

// `ulimit -n 64` and 100 connections: no busy loop, and a new client is served: at once when
// the connections are idle (the longest-idle one gives way), after the header timeout when
// they all hold a partial request (the backlog is served in order, 32 per timeout).
TEST(ServeHostile, OutOfFileDescriptors) {
    TempDir dir;
    ServeProcess server;
    ASSERT_TRUE(server.start({"-o", dir / "fd.trace", "--header-timeout", "1"}, [] {
        const rlimit limit{64, 64};
        ::setrlimit(RLIMIT_NOFILE, &limit);
    })) << server.first_line;
    for (const bool busy : {false, true}) {
        std::vector<Socket> clients;
        for (int i = 0; i < 100; ++i) {
            clients.emplace_back(connect_to(server.port));
            if (busy) send_all(clients.back(), "GET / HTTP/1.1\r\n");
        }
        std::this_thread::sleep_for(200ms);
        const double cpu_before = server.cpu_seconds();
        const auto start = Clock::now();
        std::thread measure([&] { std::this_thread::sleep_for(500ms); });
        const std::string response = request_once(server.port, kGet, 8000ms);
        const auto served_ms = ms_since(start);
        measure.join();
        const double cpu = server.cpu_seconds() - cpu_before;
        std::printf("ulimit -n 64, 100 %s connections: a new client served in %lld ms, "
                    "server CPU %.3f s\n",
                    busy ? "busy" : "idle", static_cast<long long>(served_ms), cpu);
        EXPECT_EQ(status_line(response), "HTTP/1.1 200 OK") << (busy ? "busy" : "idle");
        EXPECT_LT(served_ms, busy ? 6000 : 200); // busy: ~4 header timeouts of 32 each
        EXPECT_LT(cpu, 0.3) << "no busy loop while the descriptors are used up";
    }
    EXPECT_EQ(server.stop(), 0);
    EXPECT_EQ(trace_complete(dir / "fd.trace", dir), "1");
}

TEST(ServeHostile, ListenAddressParsesStrictly) {
    TempDir dir;
    for (const char* bad : {"127.0.0.1:80abc", "127.0.0.1:", ":80", "127.0.0.1:65536",
                            "127.0.0.1:+80", "127.0.0.1: 80", "localhost:80", "127.1:80",
                            "127.0.0.1:8080:1", "127.0.0.1:0x50", "127.0.0.1:123456"}) {
        const auto r = run_memlife(std::string("serve --listen ") + quote(bad), dir);
        EXPECT_EQ(r.exit_code, 2) << bad;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_NE(r.err.find("--listen"), std::string::npos) << r.err;
    }
}

// SIGINT, SIGTERM and SIGHUP end the server within a second with every session closed, however
// many connections are open and busy.
TEST(ServeHostile, SignalsEndTheServerWithACompleteTrace) {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        TempDir dir;
        const std::string trace = dir / "signal.trace";
        ServeProcess server;
        ASSERT_TRUE(server.start({"-o", trace})) << server.first_line;
        std::vector<std::unique_ptr<Flood>> floods;
        for (int i = 0; i < 4; ++i)
            floods.push_back(
                std::make_unique<Flood>(server.port, pipelined_requests(1 << 20), 64u << 20));
        std::vector<Socket> idle;
        for (int i = 0; i < 50; ++i)
            idle.emplace_back(connect_to(server.port));
        std::this_thread::sleep_for(300ms);
        std::int64_t took = 0;
        EXPECT_EQ(server.stop(sig, &took), 0) << sig;
        EXPECT_LT(took, 1000) << "ms, signal " << sig;
        EXPECT_EQ(trace_complete(trace, dir), "1") << sig;
        const auto r = run_memlife("report --json " + quote(trace), dir);
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.out.find("\"open_sessions\": 0"), std::string::npos) << "signal " << sig;
    }
}
