// A small HTTP/1.1 server with keep-alive for `memlife serve`.
//
// Why epoll and not a library: the server is a demonstration fixture (one thread, loopback),
// Linux-only like the rest of memlife, and the point of it is the connection lifecycle —
// accept = session open, each parsed request = one trip through the filter host, close =
// END_OF_NET_SESSION — which is explicit in an epoll loop and hidden in a framework.
//
// What keeps one client from stalling the others (docs/cli.md, "serve"): requests are parsed
// in place (no copy of the buffer per request), each round of the loop reads at most one
// chunk and answers at most 64 requests per connection, a connection whose responses are not
// read stops being read, idle / header / body timeouts, one header-size limit, a connection
// cap (the longest-idle connection gives way to a new client), and strict RFC 9112 framing.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "memlife/filter_host.hpp"

namespace memlife::cli {

struct HttpRequest {
    std::string method, target, version;
    HeaderList headers; // as sent (names keep their case), in order
    std::string head;   // the request line and header lines as read, blank line included
    std::string body;
    bool keep_alive = true; // what the client asked for (HTTP/1.1 default, Connection header)
};

// The handler's answer: the bytes go to the client exactly as they are.
struct HttpReply {
    std::string wire;
    bool close = false; // close the connection once these bytes are out
};

class HttpHandler {
public:
    virtual ~HttpHandler() = default;
    // Returns an opaque per-connection state.
    virtual void* on_open(const std::string& peer) = 0;
    virtual HttpReply on_request(void* connection, const HttpRequest& request) = 0;
    virtual void on_close(void* connection) = 0;
};

struct ServerLimits {
    std::size_t max_connections = 1024;       // also bounded by the open-file limit (RLIMIT_NOFILE)
    std::size_t max_header_bytes = 64 * 1024; // request line + header lines
    std::size_t max_body_bytes = 1 << 20;
    // Idle: no request in progress and nothing to send, or the client does not read what it
    // is sent. Header: from a request's first byte to its blank line. Body: from there to
    // the body's last byte.
    std::chrono::milliseconds idle_timeout{60'000}, header_timeout{10'000}, body_timeout{30'000};
};

struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;    // 0 = ephemeral
    bool allow_remote = false; // refuse non-loopback addresses unless set
    ServerLimits limits;
};

// "A.B.C.D:PORT" (an IPv4 address, PORT 0..65535 in decimal digits only). Throws
// std::invalid_argument naming what is wrong.
void parse_listen_address(std::string_view text, std::string& host, std::uint16_t& port);
bool is_loopback(const std::string& ipv4);

class HttpServer {
public:
    // Binds and listens; throws std::runtime_error("HOST:PORT: reason"). Blocks SIGINT,
    // SIGTERM and SIGHUP in the calling thread (threads started later inherit that), read
    // through a signalfd by run().
    explicit HttpServer(ServerOptions options);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;
    std::uint16_t port() const { return port_; }
    std::size_t connection_cap() const { return cap_; }
    // Serves until SIGINT, SIGTERM or SIGHUP, then closes every connection through the
    // handler.
    void run(HttpHandler& handler);

private:
    struct Connection;
    using Clock = std::chrono::steady_clock;

    void accept_ready(Clock::time_point now);
    void pause_accept(bool paused);
    Connection* idle_victim(Clock::time_point now);
    void on_event(Connection& c, std::uint32_t events, Clock::time_point now);
    void read_some(Connection& c);
    void process(Connection& c, Clock::time_point now, std::size_t& budget);
    bool parse_next(Connection& c, Clock::time_point now);
    void reject(Connection& c, int status, std::string_view why);
    bool flush(Connection& c, Clock::time_point now);
    void settle(Connection& c, Clock::time_point now);
    void end_session(Connection& c);
    void close_connection(Connection& c);
    void sweep(Clock::time_point now);
    void watch(Connection& c);
    void close_all();
    void serve(); // the event loop of run()

    ServerOptions options_;
    HttpHandler* handler_ = nullptr;
    int listen_fd_ = -1, epoll_fd_ = -1, signal_fd_ = -1;
    std::uint16_t port_ = 0;
    std::size_t initial_cap_ = 0, cap_ = 0; // cap_ drops to what is open after EMFILE
    std::size_t live_ = 0;                  // open connections
    bool accept_paused_ = false;
    std::uint64_t next_id_ = 2; // epoll ids 0 and 1: the listening socket and the signalfd
    std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
    std::vector<std::uint64_t> closed_;     // closed during this wake-up, freed at its end
    std::vector<std::uint64_t> next_round_; // connections with requests left to answer
    std::vector<char> scratch_;             // one read's bytes
};

} // namespace memlife::cli
