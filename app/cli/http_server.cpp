#include "http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fmt/format.h>
#include <optional>
#include <stdexcept>

namespace memlife::cli {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kListenId = 0, kSignalId = 1; // epoll ids; connections count from 2
// One read per connection and wake-up: a client that sends without pause gets its turn like
// everyone else, and the loop comes back to the signalfd within milliseconds.
constexpr std::size_t kReadChunk = 64 * 1024;
// Past this much unsent output a connection is neither read nor answered until it drains.
constexpr std::size_t kOutputHighWater = 1 << 20;
// Requests answered per connection and round of the loop: a client that pipelines
// thousands waits for the others' turn (and the signalfd's) between rounds.
constexpr std::size_t kRequestsPerRound = 64;
constexpr std::size_t kAcceptsPerWakeup = 64;
// Descriptors kept out of the connection cap: stdio, the listening socket, epoll, the
// signalfd, the trace and its WAL and shared-memory files, and some to spare.
constexpr std::size_t kReservedFds = 32;
constexpr auto kLingerTime = 2s; // after the last response: reading what is left, then close

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// RFC 9110 tchar: what a method or a header name is made of.
bool is_tchar(char c) {
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

bool is_token(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

bool equals_nocase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// What the head says about the body.
struct Framing {
    std::size_t content_length = 0;
    bool expect_continue = false;
};

struct HeadError {
    int status;
    std::string why;
};

std::optional<HeadError> parse_request_line(std::string_view line, HttpRequest& r) {
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return HeadError{400, "malformed request line"};
    const std::string_view method = line.substr(0, sp1),
                           target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                           version = line.substr(sp2 + 1);
    if (!is_token(method)) return HeadError{400, "invalid method"};
    if (target.empty() || std::any_of(target.begin(), target.end(), [](char c) {
            return static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f;
        }))
        return HeadError{400, "invalid request target"};
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && is_digit(version[5]) &&
            version[6] == '.' && is_digit(version[7]))
            return HeadError{505, "only HTTP/1.0 and HTTP/1.1 are served"};
        return HeadError{400, "malformed request line"};
    }
    r.method = method;
    r.target = target;
    r.version = version;
    return std::nullopt;
}

// Content-Length: 1*DIGIT, nothing else (RFC 9112 6.3: anything else is unrecoverable).
std::optional<HeadError> parse_content_length(std::string_view value, std::size_t max_body,
                                              std::size_t& length) {
    if (value.empty() || !std::all_of(value.begin(), value.end(), is_digit))
        return HeadError{400, "invalid Content-Length"};
    length = 0;
    for (char c : value) {
        length = length * 10 + static_cast<std::size_t>(c - '0');
        if (length > max_body)
            return HeadError{413, fmt::format("request body larger than {} bytes", max_body)};
    }
    return std::nullopt;
}

// A request head (request line, header lines, the blank line), strictly per RFC 9112: CRLF
// or LF line ends, no bare CR, no obsolete line folding, token names with the colon right
// after them, no control characters in values, exactly one Host (HTTP/1.1), at most one
// valid Content-Length, no Transfer-Encoding (not implemented: 501).
std::optional<HeadError> parse_head(std::string_view head, std::size_t max_body, HttpRequest& r,
                                    Framing& framing) {
    int hosts = 0, lengths = 0;
    bool transfer_encoding = false, close_token = false, keep_alive_token = false;
    bool first = true;
    for (std::size_t pos = 0; pos < head.size();) {
        const std::size_t nl = head.find('\n', pos);
        std::string_view line = head.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find('\r') != std::string_view::npos)
            return HeadError{400, "bare CR in the request head"};
        if (first) {
            first = false;
            if (auto error = parse_request_line(line, r)) return error;
            continue;
        }
        if (line.empty()) break; // the blank line
        if (line.front() == ' ' || line.front() == '\t')
            return HeadError{400, "obsolete line folding"};
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || !is_token(line.substr(0, colon)))
            return HeadError{400, "malformed header line"};
        const std::string_view name = line.substr(0, colon),
                               value = trim_ows(line.substr(colon + 1));
        if (std::any_of(value.begin(), value.end(), [](char c) {
                return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
            }))
            return HeadError{400, "control character in a header value"};
        r.headers.emplace_back(name, value);
        if (equals_nocase(name, "host")) {
            ++hosts;
        } else if (equals_nocase(name, "content-length")) {
            if (++lengths > 1) return HeadError{400, "more than one Content-Length"};
            if (auto error = parse_content_length(value, max_body, framing.content_length))
                return error;
        } else if (equals_nocase(name, "transfer-encoding")) {
            transfer_encoding = true;
        } else if (equals_nocase(name, "connection")) {
            for (std::size_t b = 0; b <= value.size();) {
                const std::size_t e = std::min(value.find(',', b), value.size());
                const std::string_view option = trim_ows(value.substr(b, e - b));
                close_token = close_token || equals_nocase(option, "close");
                keep_alive_token = keep_alive_token || equals_nocase(option, "keep-alive");
                b = e + 1;
            }
        } else if (equals_nocase(name, "expect")) {
            framing.expect_continue = equals_nocase(value, "100-continue");
        }
    }
    const bool http11 = r.version == "HTTP/1.1";
    if (hosts > 1 || (http11 && hosts == 0))
        return HeadError{400, "an HTTP/1.1 request needs exactly one Host header"};
    if (transfer_encoding) {
        if (lengths != 0 || !http11)
            return HeadError{400, "Transfer-Encoding with Content-Length or in HTTP/1.0"};
        return HeadError{501, "Transfer-Encoding is not supported (send Content-Length)"};
    }
    r.keep_alive = http11 ? !close_token : keep_alive_token && !close_token;
    return std::nullopt;
}

// Where the head that starts before `scan_from` ends (just past its blank line), or npos.
// `scan_from` moves on so that bytes arriving later are not searched again.
std::size_t find_head_end(const std::string& in, std::size_t& scan_from) {
    std::size_t p = scan_from;
    for (;;) {
        const void* hit = std::memchr(in.data() + p, '\n', in.size() - p);
        if (hit == nullptr) {
            scan_from = in.size();
            return std::string::npos;
        }
        const auto q = static_cast<std::size_t>(static_cast<const char*>(hit) - in.data());
        if (q + 1 < in.size() && in[q + 1] == '\n') return q + 2;
        if (q + 2 < in.size() && in[q + 1] == '\r' && in[q + 2] == '\n') return q + 3;
        if (q + 1 == in.size() || (q + 2 == in.size() && in[q + 1] == '\r')) {
            scan_from = q; // undecided until more bytes arrive
            return std::string::npos;
        }
        p = q + 1;
    }
}

} // namespace

void parse_listen_address(std::string_view text, std::string& host, std::uint16_t& port) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) throw std::invalid_argument("expected HOST:PORT");
    const std::string_view port_text = text.substr(colon + 1);
    if (port_text.empty() || port_text.size() > 5 ||
        !std::all_of(port_text.begin(), port_text.end(), is_digit))
        throw std::invalid_argument("the port must be a number from 0 to 65535");
    const unsigned long value = std::stoul(std::string(port_text));
    if (value > 65535) throw std::invalid_argument("the port must be a number from 0 to 65535");
    const std::string address(text.substr(0, colon));
    in_addr parsed{};
    if (inet_pton(AF_INET, address.c_str(), &parsed) != 1)
        throw std::invalid_argument("'" + address + "' is not an IPv4 address (A.B.C.D)");
    host = address;
    port = static_cast<std::uint16_t>(value);
}

bool is_loopback(const std::string& ipv4) {
    in_addr a{};
    return inet_pton(AF_INET, ipv4.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

struct HttpServer::Connection {
    enum class Phase { Idle, Head, Body, Lingering };
    std::uint64_t id = 0;
    int fd = -1; // -1 once closed (the object goes at the end of the wake-up)
    void* state = nullptr;
    bool session_open = false;
    Phase phase = Phase::Idle;
    Clock::time_point deadline;   // of the phase: idle, header, body or linger timeout
    Clock::time_point last_write; // output pending since, or the last byte sent
    // Input: requests are parsed where they lie; consumed bytes go when they are half.
    std::string in;
    std::size_t in_begin = 0;  // the next request starts here
    std::size_t scan_from = 0; // Head: the search for the blank line goes on here
    std::size_t head_end = 0;  // Body: the body starts here
    HttpRequest request;       // Body: the parsed head
    Framing framing;
    std::string out;
    std::size_t out_begin = 0;
    bool read_closed = false; // the client will send nothing more
    bool closing = false;     // close once the output is out
    bool backlog = false;     // complete requests wait for the next round
    bool queued = false;      // in next_round_
    std::uint32_t watched = 0;

    std::size_t pending_out() const { return out.size() - out_begin; }
    bool evictable() const {
        return phase == Phase::Lingering ||
               (phase == Phase::Idle && !closing && pending_out() == 0 && in_begin == in.size());
    }
};

HttpServer::HttpServer(ServerOptions options) : options_(std::move(options)), scratch_(kReadChunk) {
    const std::string where = fmt::format("{}:{}", options_.host, options_.port);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(options_.port);
    if (inet_pton(AF_INET, options_.host.c_str(), &addr.sin_addr) != 1)
        throw std::runtime_error(where + ": not an IPv4 address");
    if (!is_loopback(options_.host) && !options_.allow_remote)
        throw std::runtime_error(where + ": refusing a non-loopback address (use --allow-remote)");

    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error(where + ": " + std::strerror(errno));
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, SOMAXCONN) != 0) {
        const std::string reason = std::strerror(errno);
        ::close(listen_fd_);
        throw std::runtime_error(where + ": " + reason);
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);

    // The cap stays below the open-file limit, so that accept() rarely meets EMFILE.
    rlimit files{};
    std::size_t fd_room = options_.limits.max_connections;
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY)
        fd_room =
            files.rlim_cur > 2 * kReservedFds ? files.rlim_cur - kReservedFds : files.rlim_cur / 2;
    initial_cap_ = cap_ =
        std::max<std::size_t>(1, std::min(options_.limits.max_connections, fd_room));

    sigset_t signals;
    sigemptyset(&signals);
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        sigaddset(&signals, sig);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    signal_fd_ = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    std::signal(SIGPIPE, SIG_IGN);

    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (signal_fd_ < 0 || epoll_fd_ < 0) {
        const std::string reason = std::strerror(errno);
        for (int fd : {listen_fd_, signal_fd_, epoll_fd_})
            if (fd >= 0) ::close(fd);
        throw std::runtime_error(where + ": " + reason);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenId;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
    ev.data.u64 = kSignalId;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, signal_fd_, &ev);
}

HttpServer::~HttpServer() {
    for (auto& [id, c] : connections_) // run() ended them all unless it never ran
        if (c->fd >= 0) ::close(c->fd);
    for (int fd : {listen_fd_, epoll_fd_, signal_fd_})
        if (fd >= 0) ::close(fd);
}

void HttpServer::close_all() {
    for (auto& [id, c] : connections_) // END_OF_NET_SESSION for each
        close_connection(*c);
    connections_.clear();
    closed_.clear();
}

void HttpServer::run(HttpHandler& handler) {
    handler_ = &handler;
    try {
        serve();
    } catch (...) {
        close_all();
        throw;
    }
    close_all();
}

void HttpServer::serve() {
    const ServerLimits& limits = options_.limits;
    // Deadlines are checked by a sweep a few times per shortest timeout.
    const auto tick = std::clamp<std::chrono::milliseconds>(
        std::min({limits.idle_timeout, limits.header_timeout, limits.body_timeout}) / 4, 10ms,
        1000ms);
    auto next_sweep = Clock::now() + tick;
    epoll_event events[256];
    for (;;) {
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_sweep - Clock::now());
        const int n = ::epoll_wait(
            epoll_fd_, events, 256,
            next_round_.empty() ? static_cast<int>(std::max<std::int64_t>(0, wait.count())) : 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
        for (int i = 0; i < n; ++i)
            if (events[i].data.u64 == kSignalId) return; // SIGINT / SIGTERM / SIGHUP
        const auto now = Clock::now();
        for (int i = 0; i < n; ++i) {
            const std::uint64_t id = events[i].data.u64;
            if (id == kListenId) {
                accept_ready(now);
            } else if (auto it = connections_.find(id); it != connections_.end()) {
                on_event(*it->second, events[i].events, now);
            }
        }
        // Connections with requests left from the last round get their next share.
        std::vector<std::uint64_t> round;
        round.swap(next_round_);
        for (std::uint64_t id : round) {
            if (auto it = connections_.find(id); it != connections_.end()) {
                it->second->queued = false;
                settle(*it->second, now);
            }
        }
        if (now >= next_sweep) {
            sweep(now);
            next_sweep = now + tick;
        }
        for (std::uint64_t id : closed_)
            connections_.erase(id);
        closed_.clear();
    }
}

void HttpServer::accept_ready(Clock::time_point now) {
    for (std::size_t i = 0; i < kAcceptsPerWakeup; ++i) {
        // At the cap the longest-idle connection gives way, once a new client is really
        // there; with none idle, new clients wait in the listen backlog until one ends.
        Connection* victim = nullptr;
        if (live_ >= cap_ && (victim = idle_victim(now)) == nullptr) return pause_accept(true);
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
            // EMFILE / ENFILE: the cap becomes what the process holds now (the sweep tries
            // the configured cap again). Anything else (ENOBUFS, ENOMEM): retry at the sweep.
            if (errno == EMFILE || errno == ENFILE) {
                if (victim != nullptr) close_connection(*victim);
                cap_ = std::max<std::size_t>(1, live_);
                if (victim != nullptr) continue;
                return pause_accept(true);
            }
            return pause_accept(true);
        }
        if (victim != nullptr) close_connection(*victim);
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto c = std::make_unique<Connection>();
        c->id = next_id_++;
        c->fd = fd;
        c->deadline = now + options_.limits.idle_timeout;
        c->last_write = now;
        epoll_event ev{};
        ev.events = c->watched = EPOLLIN;
        ev.data.u64 = c->id;
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            ::close(fd);
            continue;
        }
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
        c->state = handler_->on_open(fmt::format("{}:{}", ip, ntohs(peer.sin_port)));
        c->session_open = true;
        ++live_;
        connections_.emplace(c->id, std::move(c));
    }
}

void HttpServer::pause_accept(bool paused) {
    if (paused == accept_paused_) return;
    epoll_event ev{};
    ev.events = paused ? 0u : std::uint32_t{EPOLLIN};
    ev.data.u64 = kListenId;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
    accept_paused_ = paused;
}

// The connection to close for a new client: a lingering one, else the one idle longest
// (between requests, or connected and silent). One with bytes waiting in the socket is not
// idle: it is served first and the search goes on.
HttpServer::Connection* HttpServer::idle_victim(Clock::time_point now) {
    for (int round = 0; round < 8; ++round) {
        Connection* oldest = nullptr;
        for (auto& [id, c] : connections_) {
            if (c->fd < 0 || !c->evictable()) continue;
            if (c->phase == Connection::Phase::Lingering) return c.get();
            if (oldest == nullptr || c->deadline < oldest->deadline ||
                (c->deadline == oldest->deadline && c->id < oldest->id))
                oldest = c.get();
        }
        if (oldest == nullptr) return nullptr;
        char byte;
        if (::recv(oldest->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) return oldest;
        read_some(*oldest);
        settle(*oldest, now);
    }
    return nullptr;
}

void HttpServer::on_event(Connection& c, std::uint32_t events, Clock::time_point now) {
    if (c.fd < 0) return;
    if (events & EPOLLERR) return close_connection(c);
    if (events & (EPOLLIN | EPOLLHUP)) read_some(c);
    settle(c, now);
}

void HttpServer::read_some(Connection& c) {
    if (c.fd < 0 || c.read_closed) return;
    const ssize_t n = ::recv(c.fd, scratch_.data(), scratch_.size(), 0);
    if (n > 0) {
        if (c.phase != Connection::Phase::Lingering)
            c.in.append(scratch_.data(), static_cast<std::size_t>(n));
    } else if (n == 0) {
        c.read_closed = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        close_connection(c); // reset by the peer
    }
}

// Answers what the input holds, sends what it can, and decides what to wait for next.
void HttpServer::settle(Connection& c, Clock::time_point now) {
    if (c.fd < 0) return;
    if (c.phase == Connection::Phase::Lingering) {
        if (c.read_closed) return close_connection(c);
        return watch(c);
    }
    std::size_t budget = kRequestsPerRound;
    for (;;) {
        process(c, now, budget);
        if (!flush(c, now)) return close_connection(c);
        // Back-pressure: above the mark nothing more is answered until EPOLLOUT.
        if (c.closing || c.pending_out() >= kOutputHighWater || c.in_begin == c.in.size() ||
            c.phase != Connection::Phase::Idle || budget == 0)
            break;
    }
    // Requests left after this round's share: answered in the next round, without reading
    // more meanwhile.
    c.backlog =
        budget == 0 && !c.closing && c.in_begin < c.in.size() && c.pending_out() < kOutputHighWater;
    if (c.backlog && !c.queued) {
        c.queued = true;
        next_round_.push_back(c.id);
    }
    if (c.pending_out() == 0) {
        if (c.closing) {
            end_session(c);
            if (c.read_closed) return close_connection(c);
            // Half-close and read on for a while: closing with unread input would reset the
            // connection and could destroy the last response before the client reads it.
            ::shutdown(c.fd, SHUT_WR);
            c.phase = Connection::Phase::Lingering;
            c.deadline = now + std::min<std::chrono::milliseconds>(kLingerTime,
                                                                   options_.limits.idle_timeout);
            std::string().swap(c.in);
            c.in_begin = 0;
        } else if (c.read_closed) {
            return close_connection(c); // all answered; a partial request cannot complete
        }
    }
    watch(c);
}

// Parses and answers complete requests in order until the output is backed up, the input
// holds no complete request, the connection is to close, or `budget` requests are answered.
void HttpServer::process(Connection& c, Clock::time_point now, std::size_t& budget) {
    while (budget > 0 && !c.closing && c.pending_out() < kOutputHighWater && parse_next(c, now))
        --budget;
    // Drop consumed input once it is at least half the buffer: linear overall.
    if (c.in_begin == 0 || (c.in_begin < c.in.size() && c.in_begin < c.in.size() / 2)) return;
    const std::size_t consumed = c.in_begin;
    if (consumed == c.in.size()) {
        if (c.in.capacity() > 4 * kReadChunk)
            std::string().swap(c.in);
        else
            c.in.clear();
    } else {
        c.in.erase(0, consumed);
    }
    c.in_begin = 0;
    c.scan_from = c.scan_from > consumed ? c.scan_from - consumed : 0;
    c.head_end = c.head_end > consumed ? c.head_end - consumed : 0;
}

// One step: true when a request was answered (another may follow).
bool HttpServer::parse_next(Connection& c, Clock::time_point now) {
    using Phase = Connection::Phase;
    const ServerLimits& limits = options_.limits;
    if (c.phase == Phase::Idle) {
        // Empty lines before a request line are ignored (RFC 9112 2.2).
        while (c.in_begin < c.in.size() && (c.in[c.in_begin] == '\r' || c.in[c.in_begin] == '\n'))
            ++c.in_begin;
        if (c.in_begin == c.in.size()) return false;
        c.phase = Phase::Head;
        c.deadline = now + limits.header_timeout;
        c.scan_from = c.in_begin;
    }
    if (c.phase == Phase::Head) {
        // One limit however the bytes arrive: counted on the head, found or not.
        const std::size_t end = find_head_end(c.in, c.scan_from);
        const std::size_t head_bytes = (end == std::string::npos ? c.in.size() : end) - c.in_begin;
        if (head_bytes > limits.max_header_bytes) {
            reject(c, 431,
                   fmt::format("request head larger than {} bytes", limits.max_header_bytes));
            return false;
        }
        if (end == std::string::npos) return false;
        c.request = HttpRequest{};
        c.framing = Framing{};
        const std::string_view head(c.in.data() + c.in_begin, end - c.in_begin);
        if (auto error = parse_head(head, limits.max_body_bytes, c.request, c.framing)) {
            reject(c, error->status, error->why);
            return false;
        }
        c.head_end = end;
        c.phase = Phase::Body;
        c.deadline = now + limits.body_timeout;
        if (c.framing.expect_continue && c.in.size() - end < c.framing.content_length)
            c.out += "HTTP/1.1 100 Continue\r\n\r\n"; // an interim response, no body
    }
    if (c.in.size() - c.head_end < c.framing.content_length) return false;
    c.request.head.assign(c.in, c.in_begin, c.head_end - c.in_begin);
    c.request.body.assign(c.in, c.head_end, c.framing.content_length);
    c.in_begin = c.head_end + c.framing.content_length;
    c.phase = Phase::Idle;
    c.deadline = now + limits.idle_timeout;
    HttpReply reply = handler_->on_request(c.state, c.request);
    if (c.pending_out() == 0) c.last_write = now;
    c.out += reply.wire;
    if (reply.close || !c.request.keep_alive) c.closing = true;
    return true;
}

// A request the server refuses itself (bad framing, too large, too slow): the answer goes
// through the same serialiser as the filter host's (Response::wire), then the connection
// closes; what the client sent after it is not read.
void HttpServer::reject(Connection& c, int status, std::string_view why) {
    Response response;
    response.status = status;
    response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    response.body = std::string(why) + "\n";
    if (c.pending_out() == 0) c.last_write = Clock::now();
    c.out += response.wire(false);
    c.closing = true;
    c.phase = Connection::Phase::Idle;
    c.in_begin = c.in.size();
}

// Sends what the socket takes; false when the client is gone.
bool HttpServer::flush(Connection& c, Clock::time_point now) {
    while (c.pending_out() > 0) {
        const ssize_t n =
            ::send(c.fd, c.out.data() + c.out_begin, c.pending_out(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.out_begin += static_cast<std::size_t>(n);
            c.last_write = now;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            return false;
        }
    }
    if (c.out_begin == c.out.size()) {
        if (c.out.capacity() > 2 * kOutputHighWater)
            std::string().swap(c.out);
        else
            c.out.clear();
        c.out_begin = 0;
    } else if (c.out_begin >= kOutputHighWater) {
        c.out.erase(0, c.out_begin);
        c.out_begin = 0;
    }
    return true;
}

// Reads while the output is not backed up; writes while there is output.
void HttpServer::watch(Connection& c) {
    std::uint32_t want = 0;
    if (!c.read_closed && (c.phase == Connection::Phase::Lingering ||
                           (!c.closing && !c.backlog && c.pending_out() < kOutputHighWater)))
        want |= EPOLLIN;
    if (c.pending_out() > 0) want |= EPOLLOUT;
    if (want == c.watched) return;
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = c.id;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
    c.watched = want;
}

void HttpServer::end_session(Connection& c) {
    if (!c.session_open) return;
    c.session_open = false;
    handler_->on_close(c.state); // END_OF_NET_SESSION
    c.state = nullptr;
}

void HttpServer::close_connection(Connection& c) {
    if (c.fd < 0) return;
    end_session(c);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    --live_;
    closed_.push_back(c.id);
    if (accept_paused_ && live_ < cap_) pause_accept(false);
}

void HttpServer::sweep(Clock::time_point now) {
    using Phase = Connection::Phase;
    const ServerLimits& limits = options_.limits;
    cap_ = initial_cap_;
    pause_accept(false);
    for (auto& [id, cp] : connections_) {
        Connection& c = *cp;
        if (c.fd < 0) continue;
        if (c.pending_out() > 0) {
            // A client that does not read what it is sent is idle too.
            if (now - c.last_write >= limits.idle_timeout) close_connection(c);
            continue;
        }
        if (now < c.deadline) continue;
        if (c.phase == Phase::Head || c.phase == Phase::Body) {
            reject(c, 408,
                   c.phase == Phase::Head ? "request head timeout" : "request body timeout");
            settle(c, now);
        } else {
            close_connection(c); // idle keep-alive connection, or lingering long enough
        }
    }
}

} // namespace memlife::cli
