#include "http_server.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace memlife::cli {
namespace {

std::string lower(std::string s) {
    for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t");
    const auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

enum class Parse { Incomplete, Done, Bad };

// Parses one request from the front of `in`; on Done, erases it from `in`.
Parse parse_request(std::string& in, HttpRequest& r, std::size_t max_bytes) {
    const auto end = in.find("\r\n\r\n");
    if (end == std::string::npos) return in.size() > max_bytes ? Parse::Bad : Parse::Incomplete;
    std::size_t pos = in.find("\r\n");
    const std::string line = in.substr(0, pos);
    const auto sp1 = line.find(' ');
    const auto sp2 = line.rfind(' ');
    if (sp1 == std::string::npos || sp2 == sp1) return Parse::Bad;
    r = HttpRequest{};
    r.method = line.substr(0, sp1);
    r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    r.version = line.substr(sp2 + 1);
    if (r.version != "HTTP/1.1" && r.version != "HTTP/1.0") return Parse::Bad;
    while (pos < end) {
        const std::size_t next = in.find("\r\n", pos + 2);
        const std::string header = in.substr(pos + 2, next - pos - 2);
        pos = next;
        if (header.empty()) continue;
        const auto colon = header.find(':');
        if (colon == std::string::npos) return Parse::Bad;
        r.headers[lower(trim(header.substr(0, colon)))] = trim(header.substr(colon + 1));
    }
    std::size_t length = 0;
    if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
        try {
            length = std::stoul(it->second);
        } catch (const std::exception&) {
            return Parse::Bad;
        }
        if (length > max_bytes) return Parse::Bad;
    }
    if (r.headers.count("transfer-encoding")) return Parse::Bad; // chunked bodies: not served
    if (in.size() < end + 4 + length) return Parse::Incomplete;
    r.body = in.substr(end + 4, length);
    const std::string connection =
        lower(r.headers.count("connection") ? r.headers["connection"] : "");
    r.keep_alive = r.version == "HTTP/1.1" ? connection != "close" : connection == "keep-alive";
    in.erase(0, end + 4 + length);
    return Parse::Done;
}

std::string serialize(const HttpResponse& r, bool keep_alive) {
    return fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
                       "Connection: {}\r\nServer: memlife-serve\r\n\r\n{}",
                       r.status, r.reason, r.content_type, r.body.size(),
                       keep_alive ? "keep-alive" : "close", r.body);
}

} // namespace

struct HttpServer::Connection {
    int fd = -1;
    void* state = nullptr;
    std::string in, out;
    bool close_after_write = false;
};

HttpServer::HttpServer(ServerOptions options, HttpHandler& handler)
    : options_(std::move(options)), handler_(handler) {
    const std::string where = fmt::format("{}:{}", options_.host, options_.port);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(options_.port);
    if (inet_pton(AF_INET, options_.host.c_str(), &addr.sin_addr) != 1)
        throw std::runtime_error(where + ": not an IPv4 address");
    if ((ntohl(addr.sin_addr.s_addr) >> 24) != 127 && !options_.allow_remote)
        throw std::runtime_error(where + ": refusing a non-loopback address (use --allow-remote)");

    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 512) != 0) {
        const std::string reason = std::strerror(errno);
        ::close(listen_fd_);
        throw std::runtime_error(where + ": " + reason);
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &signals, nullptr);
    signal_fd_ = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    std::signal(SIGPIPE, SIG_IGN);

    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
    ev.data.fd = signal_fd_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, signal_fd_, &ev);
}

HttpServer::~HttpServer() {
    while (!connections_.empty())
        close_connection(connections_.begin()->first);
    for (int fd : {listen_fd_, epoll_fd_, signal_fd_})
        if (fd >= 0) ::close(fd);
}

void HttpServer::run() {
    epoll_event events[64];
    for (;;) {
        const int n = ::epoll_wait(epoll_fd_, events, 64, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == signal_fd_) {
                while (!connections_.empty())
                    close_connection(connections_.begin()->first);
                return;
            }
            if (fd == listen_fd_) {
                accept_all();
                continue;
            }
            auto it = connections_.find(fd);
            if (it == connections_.end()) continue;
            Connection& c = *it->second;
            if (events[i].events & (EPOLLERR | EPOLLHUP)) {
                close_connection(fd);
                continue;
            }
            if (events[i].events & EPOLLOUT) {
                if (!flush(c)) continue;
            }
            if (events[i].events & EPOLLIN) on_readable(c);
        }
    }
}

void HttpServer::accept_all() {
    for (;;) {
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
        auto c = std::make_unique<Connection>();
        c->fd = fd;
        c->state = handler_.on_open(fmt::format("{}:{}", ip, ntohs(peer.sin_port)));
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.fd = fd;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
        connections_[fd] = std::move(c);
    }
}

void HttpServer::on_readable(Connection& c) {
    char buffer[16384];
    bool eof = false;
    for (;;) {
        const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            c.in.append(buffer, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0)
            eof = true;
        else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            eof = true;
        break;
    }
    // Every complete request in the buffer (pipelining), in order.
    while (!c.close_after_write) {
        HttpRequest request;
        const Parse p = parse_request(c.in, request, options_.max_request_bytes);
        if (p == Parse::Incomplete) break;
        if (p == Parse::Bad) {
            HttpResponse bad{400, "Bad Request", "text/plain; charset=utf-8", "bad request\n",
                             true};
            c.out += serialize(bad, false);
            c.close_after_write = true;
            break;
        }
        HttpResponse response = handler_.on_request(c.state, request);
        const bool keep = request.keep_alive && !response.close;
        c.out += serialize(response, keep);
        if (!keep) c.close_after_write = true;
    }
    if (!flush(c)) return;
    if (eof) close_connection(c.fd);
}

// Writes what it can; returns false when the connection was closed.
bool HttpServer::flush(Connection& c) {
    while (!c.out.empty()) {
        const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n > 0) {
            c.out.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
            ev.data.fd = c.fd;
            ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
            return true;
        }
        close_connection(c.fd);
        return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = c.fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
    if (c.close_after_write) {
        close_connection(c.fd);
        return false;
    }
    return true;
}

void HttpServer::close_connection(int fd) {
    auto it = connections_.find(fd);
    if (it == connections_.end()) return;
    handler_.on_close(it->second->state); // END_OF_NET_SESSION
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    connections_.erase(it);
}

} // namespace memlife::cli
