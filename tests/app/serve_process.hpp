// A real `memlife serve` child process on an ephemeral loopback port, and raw-socket
// clients for it (what a hostile or a careful client sends, byte for byte).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace memlife::test {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline std::int64_t ms_since(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

struct ServeProcess {
    pid_t pid = -1;
    int port = 0;
    std::string first_line;

    ServeProcess() = default;
    ServeProcess(const ServeProcess&) = delete;
    ServeProcess& operator=(const ServeProcess&) = delete;
    ~ServeProcess() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }

    // Starts `memlife serve --listen 127.0.0.1:0 ARGS...` and reads the port from its first
    // line; `in_child` runs in the child before exec (e.g. setrlimit).
    bool start(const std::vector<std::string>& args, const std::function<void()>& in_child = {}) {
        int out[2];
        if (::pipe(out) != 0) return false;
        std::vector<std::string> argv{MEMLIFE_CLI, "serve", "--listen", "127.0.0.1:0"};
        argv.insert(argv.end(), args.begin(), args.end());
        std::vector<char*> cargv;
        for (auto& a : argv)
            cargv.push_back(a.data());
        cargv.push_back(nullptr);
        pid = ::fork();
        if (pid == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            ::close(out[0]);
            ::close(out[1]);
            if (in_child) in_child();
            ::execv(MEMLIFE_CLI, cargv.data());
            ::_exit(127);
        }
        ::close(out[1]);
        char c;
        pollfd p{out[0], POLLIN, 0};
        while (::poll(&p, 1, 10'000) == 1 && ::read(out[0], &c, 1) == 1 && c != '\n')
            first_line += c;
        ::close(out[0]);
        const auto at = first_line.find("listening on 127.0.0.1:");
        if (at == std::string::npos) return false;
        port = std::stoi(first_line.substr(at + 23));
        return port > 0;
    }

    // Sends `sig` and waits; the exit code, or 128 + the signal that ended it.
    int stop(int sig = SIGTERM, std::int64_t* took_ms = nullptr) {
        const auto start = Clock::now();
        ::kill(pid, sig);
        int status = 0;
        ::waitpid(pid, &status, 0);
        if (took_ms != nullptr) *took_ms = ms_since(start);
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

    // Whether it still runs after `wait`.
    bool running_after(std::chrono::milliseconds wait) {
        const auto until = Clock::now() + wait;
        do {
            if (::waitpid(pid, nullptr, WNOHANG) == pid) {
                pid = -1;
                return false;
            }
            ::usleep(10'000);
        } while (Clock::now() < until);
        return true;
    }

    // CPU seconds (user + system) used so far, from /proc.
    double cpu_seconds() const {
        FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
        if (f == nullptr) return -1;
        char buffer[1024] = {};
        const std::size_t n = std::fread(buffer, 1, sizeof buffer - 1, f);
        std::fclose(f);
        std::string stat(buffer, n);
        // Fields after the command name in parentheses: state is field 3; utime 14, stime 15.
        std::size_t pos = stat.rfind(')') + 2;
        unsigned long long utime = 0, stime = 0;
        for (int field = 3; field <= 15; ++field) {
            const std::size_t next = stat.find(' ', pos);
            if (field == 14) utime = std::stoull(stat.substr(pos, next - pos));
            if (field == 15) stime = std::stoull(stat.substr(pos, next - pos));
            pos = next + 1;
        }
        return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }

    // Resident memory in KiB, from /proc.
    long rss_kib() const {
        FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
        if (f == nullptr) return -1;
        char line[256];
        long kib = -1;
        while (std::fgets(line, sizeof line, f) != nullptr)
            if (std::sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
        std::fclose(f);
        return kib;
    }
};

// A blocking TCP connection to 127.0.0.1:port (-1 on failure); `receive_buffer` > 0 sets
// SO_RCVBUF (a small one fills after a few responses).
inline int connect_to(int port, int receive_buffer = 0) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer > 0)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

// Closes the descriptor at the end of the scope.
struct Socket {
    int fd = -1;
    explicit Socket(int f = -1) : fd(f) {}
    Socket(Socket&& o) noexcept : fd(o.fd) { o.fd = -1; }
    Socket& operator=(Socket&& o) noexcept {
        std::swap(fd, o.fd);
        return *this;
    }
    ~Socket() {
        if (fd >= 0) ::close(fd);
    }
    operator int() const { return fd; }
};

inline bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Reads whatever arrives within `timeout`, until the peer closes. `closed` tells whether it
// did (EOF or reset) in time.
inline std::string read_until_close(int fd, std::chrono::milliseconds timeout,
                                    bool* closed = nullptr) {
    std::string got;
    const auto until = Clock::now() + timeout;
    if (closed != nullptr) *closed = false;
    char buffer[65536];
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
        if (left.count() <= 0) return got;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) != 1) return got;
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
            if (closed != nullptr) *closed = true;
            return got;
        }
        got.append(buffer, static_cast<std::size_t>(n));
    }
}

// One response read from `fd` (framed by Content-Length), with what came after it left in
// `pending`; nullopt when it does not arrive whole within `timeout`.
inline std::optional<std::string> read_response(int fd, std::string& pending,
                                                std::chrono::milliseconds timeout = 5000ms) {
    const auto until = Clock::now() + timeout;
    char buffer[65536];
    for (;;) {
        const auto end = pending.find("\r\n\r\n");
        if (end != std::string::npos) {
            std::size_t length = 0;
            const auto cl = pending.find("Content-Length: ");
            if (cl != std::string::npos && cl < end) length = std::stoul(pending.substr(cl + 16));
            if (pending.size() >= end + 4 + length) {
                std::string response = pending.substr(0, end + 4 + length);
                pending.erase(0, end + 4 + length);
                return response;
            }
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
        pollfd p{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1)
            return std::nullopt;
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return std::nullopt;
        pending.append(buffer, static_cast<std::size_t>(n));
    }
}

// One request on a new connection; the response, or "" when none came within the timeout.
inline std::string request_once(int port, std::string_view request,
                                std::chrono::milliseconds timeout = 5000ms) {
    Socket s(connect_to(port));
    if (s < 0 || !send_all(s, request)) return {};
    std::string pending;
    return read_response(s, pending, timeout).value_or("");
}

inline std::string status_line(const std::string& response) {
    return response.substr(0, response.find("\r\n"));
}

} // namespace memlife::test
