// A real nginx in a temporary prefix (its configuration, pid, logs and temp paths inside
// it; loopback, an ephemeral port, daemon off): shared by the record tests and
// bench_record. Header-only, no test framework.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace memlife::test {

inline constexpr const char* kNginx = "/usr/sbin/nginx";

// A port nobody listens on now: bind port 0, read the port, close.
inline int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    ::close(fd);
    return ok ? ntohs(addr.sin_port) : 0;
}

inline bool accepts(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// Waits up to 20 s until `port` accepts (the probe is a connection of its own).
inline bool wait_until_accepts(int port) {
    using namespace std::chrono_literals;
    for (auto until = std::chrono::steady_clock::now() + 20s;
         std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(20ms))
        if (accepts(port)) return true;
    return false;
}

struct NginxOptions {
    int workers = 0;                 // 0: master_process off (one process)
    std::string error_log = "error"; // "debug" for `memlife import nginx`
    int keepalive_requests = 1000;
};

// Writes `dir`/nginx.conf and the site (html/index.html), creates logs/ and tmp/, and
// returns the arguments that run nginx on it.
inline std::vector<std::string> nginx_prefix(const std::filesystem::path& dir, int port,
                                             const NginxOptions& o) {
    for (const char* d : {"logs", "html", "tmp"})
        std::filesystem::create_directories(dir / d);
    std::ofstream(dir / "html/index.html") << std::string(600, 'x') << '\n';
    const std::string p = dir.string();
    std::ofstream(dir / "nginx.conf")
        << "daemon off;\n"
        << (o.workers == 0
                ? "master_process off;\nworker_processes 1;\n"
                : "master_process on;\nworker_processes " + std::to_string(o.workers) + ";\n")
        << "error_log " << p << "/logs/" << o.error_log << ".log " << o.error_log << ";\n"
        << "pid " << p << "/logs/nginx.pid;\n"
        << "events { worker_connections 1024; }\n"
        << "http {\n  access_log off;\n  keepalive_timeout 10s;\n"
        << "  keepalive_requests " << o.keepalive_requests << ";\n"
        << "  client_body_temp_path " << p << "/tmp/client_body;\n"
        << "  proxy_temp_path " << p << "/tmp/proxy;\n"
        << "  fastcgi_temp_path " << p << "/tmp/fastcgi;\n"
        << "  uwsgi_temp_path " << p << "/tmp/uwsgi;\n"
        << "  scgi_temp_path " << p << "/tmp/scgi;\n"
        << "  server {\n    listen 127.0.0.1:" << port << ";\n    root " << p << "/html;\n  }\n}\n";
    return {kNginx, "-p", p + "/", "-c", p + "/nginx.conf", "-e", p + "/logs/stderr.log"};
}

} // namespace memlife::test
