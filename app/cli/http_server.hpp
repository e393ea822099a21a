// A small HTTP/1.1 server with keep-alive for `memlife serve`.
//
// Why epoll and not a library: the server is a demonstration fixture (one thread, loopback),
// Linux-only like the rest of memlife, and the point of it is the connection lifecycle —
// accept = session open, each parsed request = one trip through the filter host, close =
// END_OF_NET_SESSION — which is explicit in a 300-line epoll loop and hidden in a framework.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace memlife::cli {

struct HttpRequest {
    std::string method, target, version;
    std::map<std::string, std::string> headers; // names lower-cased
    std::string body;
    bool keep_alive = true; // what the client asked for (HTTP/1.1 default, Connection header)
};

struct HttpResponse {
    int status = 200;
    std::string reason = "OK";
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    bool close = false; // the handler wants the connection closed after this response
};

class HttpHandler {
public:
    virtual ~HttpHandler() = default;
    // Returns an opaque per-connection state.
    virtual void* on_open(const std::string& peer) = 0;
    virtual HttpResponse on_request(void* connection, const HttpRequest& request) = 0;
    virtual void on_close(void* connection) = 0;
};

struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;    // 0 = ephemeral
    bool allow_remote = false; // refuse non-loopback addresses unless set
    std::size_t max_request_bytes = 1 << 20;
};

class HttpServer {
public:
    // Binds and listens; throws std::runtime_error("HOST:PORT: reason").
    HttpServer(ServerOptions options, HttpHandler& handler);
    ~HttpServer();
    std::uint16_t port() const { return port_; }
    // Serves until SIGINT or SIGTERM (blocked and read through a signalfd), then closes every
    // connection through the handler.
    void run();

private:
    struct Connection;
    void accept_all();
    void on_readable(Connection& c);
    void close_connection(int fd);
    bool flush(Connection& c);

    ServerOptions options_;
    HttpHandler& handler_;
    int listen_fd_ = -1, epoll_fd_ = -1, signal_fd_ = -1;
    std::uint16_t port_ = 0;
    std::map<int, std::unique_ptr<Connection>> connections_;
};

} // namespace memlife::cli
