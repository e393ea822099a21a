// A small HTTP/1.1 keep-alive server for the record tests, recorded by `memlife record`.
//   keepalive_server --connections N [--threads] [--keep BYTES]
// Listens on 127.0.0.1 (an ephemeral port, printed as "port P" on stdout), serves N
// connections, then exits 0. --threads: a thread per connection (else one at a time).
// Per connection it allocates a read buffer (freed right after the close, as nginx frees
// c->pool) and a response per request (freed after the write). --keep BYTES: also keeps
// one block of BYTES per connection after the connection closes, never freed: what
// "outlived its connection" must flag, and nothing else.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kMaxConnections = 1024;
void* kept[kMaxConnections]; // static: keeping a block allocates nothing else

std::size_t keep_bytes = 0;

// A function of its own, so that the record tests find it in the kept blocks' stacks.
__attribute__((noinline)) void keep_after_close(std::size_t index) {
    kept[index] = std::malloc(keep_bytes);
    std::memset(kept[index], 1, keep_bytes);
    asm volatile("" : : "r"(kept[index]) : "memory"); // never read: must not be optimized out
}

void serve(int fd, std::size_t index) {
    constexpr std::size_t kBuffer = 8192;
    char* in = static_cast<char*>(std::malloc(kBuffer));
    std::size_t used = 0;
    bool first = true;
    for (;;) {
        const ssize_t n = ::read(fd, in + used, kBuffer - used);
        if (n <= 0) break;
        used += static_cast<std::size_t>(n);
        // Every complete request in the buffer gets a response.
        for (char* end; (end = static_cast<char*>(memmem(in, used, "\r\n\r\n", 4))) != nullptr;) {
            const std::size_t request = static_cast<std::size_t>(end - in) + 4;
            if (first && keep_bytes != 0) keep_after_close(index);
            first = false;
            const char body[] = "ok\n";
            char* response = static_cast<char*>(std::malloc(256));
            const int size = std::snprintf(response, 256,
                                           "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                                           "Content-Type: text/plain\r\n\r\n%s",
                                           sizeof body - 1, body);
            const bool sent = ::write(fd, response, static_cast<std::size_t>(size)) == size;
            std::free(response);
            std::memmove(in, in + request, used - request);
            used -= request;
            if (!sent) break;
        }
        if (used == kBuffer) break; // a request too large for this server
    }
    ::close(fd);
    std::free(in); // right after the close: released at close
}

} // namespace

int main(int argc, char** argv) {
    std::size_t connections = 1;
    bool threads = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--connections" && i + 1 < argc)
            connections = std::strtoul(argv[++i], nullptr, 10);
        else if (arg == "--keep" && i + 1 < argc)
            keep_bytes = std::strtoul(argv[++i], nullptr, 10);
        else if (arg == "--threads")
            threads = true;
        else
            return std::fprintf(stderr, "usage: keepalive_server --connections N [--threads] "
                                        "[--keep BYTES]\n"),
                   2;
    }
    if (connections > kMaxConnections) return 2;
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener, 64) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        std::perror("keepalive_server");
        return 1;
    }
    std::printf("port %d\n", ntohs(addr.sin_port));
    std::fflush(stdout);
    std::vector<std::thread> workers;
    workers.reserve(connections); // no allocation while connections are served
    for (std::size_t i = 0; i < connections; ++i) {
        const int fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) return 1;
        if (threads)
            workers.emplace_back(serve, fd, i);
        else
            serve(fd, i);
    }
    for (auto& w : workers)
        w.join();
    ::close(listener);
    return 0;
}
