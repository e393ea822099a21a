// A program that leans on every hook of libmemlife_preload.so, run by test_record_hooks.cpp
// plain, under `memlife record` and (hook_probe_asan) under AddressSanitizer. Each mode
// checks the results itself and exits 0 when all is well.
//   hook_probe alloc     every allocation function, its edge cases and errno
//   hook_probe threads   8 threads allocating, freeing each other's blocks, on connections
//   hook_probe signals   a connection's thread interrupted by a handler that allocates
//   hook_probe fork      forks while other threads allocate; children record connections
//   hook_probe exec      execs itself (execl) as `served`, which serves one connection
//   hook_probe served    (exec target) accepts on the inherited listening socket
//   hook_probe daemon    serves a request, closes every descriptor (closefrom) with the
//                        connection, puts /dev/null over any left (dup2), then serves one
//                        connection of two requests
// A deadlock fails the run (exit 3 after 60 s) instead of hanging it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "hook_probe: FAILED: %s\n", what);
        ++failures;
    }
}

bool aligned(const void* p, std::size_t alignment) {
    return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

// Keeps the compiler from removing or merging allocations.
void* opaque(void* p) {
    asm volatile("" : "+r"(p)::"memory");
    return p;
}

int alloc_mode() {
    void* p = opaque(std::malloc(0));
    std::free(p);
    char* s = static_cast<char*>(opaque(std::malloc(100)));
    std::memset(s, 'a', 100);
    s = static_cast<char*>(std::realloc(s, 100000));
    expect(s != nullptr && s[0] == 'a' && s[99] == 'a', "realloc keeps the contents");
    s = static_cast<char*>(std::realloc(s, 10));
    expect(s != nullptr && s[9] == 'a', "realloc shrinks in place or copies");
    std::free(s);
    void* r = std::realloc(nullptr, 64);
    expect(r != nullptr, "realloc(NULL) allocates");
    std::free(r);

    auto* z = static_cast<unsigned char*>(opaque(std::calloc(1000, 100)));
    bool zero = z != nullptr;
    for (int i = 0; zero && i < 100000; ++i)
        zero = z[i] == 0;
    expect(zero, "calloc zeroes");
    std::free(z);
    std::size_t huge = SIZE_MAX / 2; // count * 4 overflows
    asm volatile("" : "+r"(huge));
    errno = 0;
    expect(std::calloc(huge, 4) == nullptr && errno == ENOMEM, "calloc overflow: ENOMEM");
    errno = 0;
    expect(reallocarray(nullptr, huge, 4) == nullptr && errno == ENOMEM,
           "reallocarray overflow: ENOMEM");
    void* big = reallocarray(nullptr, 10, 10);
    expect(big != nullptr, "reallocarray allocates");
    std::free(big);

    for (std::size_t alignment : {16, 32, 64, 256, 4096, 65536}) {
        void* a = nullptr;
        expect(posix_memalign(&a, alignment, 100) == 0 && aligned(a, alignment),
               "posix_memalign aligns");
        std::free(a);
        a = aligned_alloc(alignment, alignment * 2);
        expect(a != nullptr && aligned(a, alignment), "aligned_alloc aligns");
        std::free(a);
        a = memalign(alignment, 100);
        expect(a != nullptr && aligned(a, alignment), "memalign aligns");
        std::free(a);
    }
    void* bad = nullptr;
    expect(posix_memalign(&bad, 3, 100) == EINVAL, "posix_memalign(3): EINVAL");
    void* v = valloc(100);
    expect(v != nullptr && aligned(v, 4096), "valloc: page aligned");
    std::free(v);
    void* pv = pvalloc(100);
    expect(pv != nullptr && aligned(pv, 4096) && malloc_usable_size(pv) >= 4096,
           "pvalloc: a whole page");
    std::free(pv);
    void* u = opaque(std::malloc(1000));
    expect(malloc_usable_size(u) >= 1000, "malloc_usable_size");
    errno = 1234;
    std::free(u);
    expect(errno == 1234, "free keeps errno");
    std::free(nullptr);
    errno = 99;
    void* m = opaque(std::malloc(10));
    expect(errno == 99, "malloc keeps errno on success");
    std::free(m);
    auto* text = opaque(strdup("strdup goes through malloc"));
    std::free(text);
    return failures == 0 ? 0 : 1;
}

// ---- a loopback server and its clients --------------------------------------------

int listen_loopback(int& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        std::perror("hook_probe: listen");
        std::exit(2);
    }
    port = ntohs(addr.sin_port);
    return fd;
}

int connect_loopback(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("hook_probe: connect");
        std::exit(2);
    }
    return fd;
}

// Makes `connection` the calling thread's current connection (a read on it) and begins
// its first request; `client` is its other end.
void begin_request(int client, int connection) {
    char c = 'x';
    expect(::write(client, &c, 1) == 1 && ::read(connection, &c, 1) == 1, "first request");
}

// One request-response exchange per call, from the client side.
void ping(int fd) {
    char c = 'q';
    expect(::send(fd, &c, 1, 0) == 1 && ::recv(fd, &c, 1, MSG_WAITALL) == 1 && c == 'r',
           "client exchange");
}

// The server side: answers `requests` pings, allocating per request; then closes.
void serve(int fd, int requests) {
    for (int i = 0; i < requests; ++i) {
        char c = 0;
        if (::read(fd, &c, 1) != 1) break;
        char* reply = static_cast<char*>(opaque(std::malloc(64 + i)));
        reply[0] = 'r';
        expect(::write(fd, reply, 1) == 1, "server write");
        std::free(reply);
    }
    ::close(fd);
}

int threads_mode() {
    int port = 0;
    const int listener = listen_loopback(port);
    constexpr int kThreads = 8, kRounds = 20000;
    // Blocks handed between threads: freed by another thread than the one that made them.
    std::mutex handoff_mutex;
    std::vector<void*> handoff;
    handoff.reserve(kThreads * kRounds);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            const int client = connect_loopback(port);
            const int connection = ::accept(listener, nullptr, nullptr);
            begin_request(client, connection); // its allocations belong to `connection`
            for (int i = 0; i < kRounds; ++i) {
                auto* p = static_cast<unsigned char*>(opaque(std::malloc(16 + (i * 7 + t) % 512)));
                p[0] = static_cast<unsigned char>(t);
                if (i % 3 == 0) {
                    std::lock_guard lock(handoff_mutex);
                    handoff.push_back(p);
                } else if (i % 5 == 0) {
                    p = static_cast<unsigned char*>(std::realloc(p, 2000));
                    expect(p[0] == t, "realloc across sizes");
                    std::free(p);
                } else {
                    std::free(p);
                }
                if (i % 64 == 0) {
                    std::lock_guard lock(handoff_mutex);
                    if (!handoff.empty()) {
                        std::free(handoff.back());
                        handoff.pop_back();
                    }
                }
            }
            ::close(client);
            ::close(connection);
        });
    }
    for (auto& t : threads)
        t.join();
    for (void* p : handoff)
        std::free(p);
    ::close(listener);
    return failures == 0 ? 0 : 1;
}

// ---- signals ------------------------------------------------------------------------

std::atomic<long> handler_allocations{0};
void* volatile kept_by_handler = nullptr;

void allocating_handler(int) {
    const int saved = errno;
    void* p = std::malloc(48);
    void* q = std::malloc(5000);
    std::free(kept_by_handler);
    kept_by_handler = q;
    std::free(p);
    handler_allocations.fetch_add(1);
    errno = saved;
}

int signals_mode() {
    int port = 0;
    const int listener = listen_loopback(port);
    constexpr int kExchanges = 20000;
    std::thread client([port] {
        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, SIGALRM);
        pthread_sigmask(SIG_BLOCK, &block, nullptr);
        const int fd = connect_loopback(port);
        for (int i = 0; i < kExchanges; ++i)
            ping(fd);
        ::close(fd);
    });
    const int connection = ::accept(listener, nullptr, nullptr);
    struct sigaction action {};
    action.sa_handler = allocating_handler;
    action.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &action, nullptr);
    itimerval every{{0, 200}, {0, 200}};
    setitimer(ITIMER_REAL, &every, nullptr);
    // The served side does only socket calls: the handler's allocations interrupt the
    // hooks (and memlife's locks), never glibc's allocator.
    char c = 0;
    for (int i = 0; i < kExchanges; ++i) {
        if (::recv(connection, &c, 1, MSG_WAITALL) != 1) break;
        c = 'r';
        if (::send(connection, &c, 1, 0) != 1) break;
    }
    itimerval off{};
    setitimer(ITIMER_REAL, &off, nullptr);
    client.join();
    ::close(connection);
    std::free(kept_by_handler);
    expect(handler_allocations.load() > 10, "the handler ran");
    std::printf("handler ran %ld times\n", handler_allocations.load());
    return failures == 0 ? 0 : 1;
}

// ---- fork and exec --------------------------------------------------------------------

int fork_mode() {
    int port = 0;
    const int listener = listen_loopback(port);
    std::atomic<bool> stop{false};
    std::atomic<int> ready{0};
    std::vector<std::thread> busy;
    for (int t = 0; t < 3; ++t)
        busy.emplace_back([&] { // allocators and a connection, busy while the main thread forks
            const int client = connect_loopback(port);
            const int connection = ::accept(listener, nullptr, nullptr);
            begin_request(client, connection);
            ++ready;
            while (!stop.load()) {
                void* p = opaque(std::malloc(100));
                std::free(p);
                char c = 0;
                if (::read(connection, &c, 0) < 0) break;
            }
            ::close(client);
            ::close(connection);
        });
    while (ready.load() < 3) // every busy thread has its connection before the first child
        std::this_thread::yield();
    constexpr int kChildren = 40;
    int served = 0;
    for (int i = 0; i < kChildren; ++i) {
        const int client = connect_loopback(port);
        const pid_t pid = ::fork();
        if (pid == 0) { // the child serves one connection of two requests, then exits
            void* p = opaque(std::malloc(4000));
            std::free(p);
            serve(::accept(listener, nullptr, nullptr), 2);
            std::exit(failures == 0 ? 0 : 1);
        }
        ping(client);
        ping(client);
        ::close(client);
        int status = 0;
        ::waitpid(pid, &status, 0);
        served += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    stop = true;
    for (auto& t : busy)
        t.join();
    ::close(listener);
    expect(served == kChildren, "every child served its connection");
    return failures == 0 ? 0 : 1;
}

int exec_mode(const char* self) {
    int port = 0;
    const int listener = listen_loopback(port);
    const pid_t pid = ::fork();
    if (pid == 0) {
        // Keep the listening socket across exec, at a number the new image is told.
        const int inherited = ::dup(listener);
        const std::string fd = std::to_string(inherited);
        ::execl(self, self, "served", fd.c_str(), static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    const int client = connect_loopback(port);
    for (int i = 0; i < 3; ++i)
        ping(client);
    ::close(client);
    int status = 0;
    ::waitpid(pid, &status, 0);
    expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the exec'd image served");
    return failures == 0 ? 0 : 1;
}

int daemon_mode() {
    int port = 0;
    const int before = listen_loopback(port);
    std::thread first([port] { ping(connect_loopback(port)); }); // left open
    const int connection = ::accept(before, nullptr, nullptr);
    char c = 0;
    expect(::read(connection, &c, 1) == 1 && ::write(connection, "r", 1) == 1, "first request");
    first.join();
    closefrom(3); // the connection (its session ends), the listener, the client's end
    const int null = ::open("/dev/null", O_RDWR);
    for (int fd = 3; fd < 4096; ++fd)
        if (fd != null && ::fcntl(fd, F_GETFD) != -1) ::dup2(null, fd); // whatever is still open
    const int listener = listen_loopback(port);
    std::thread client([port] {
        const int fd = connect_loopback(port);
        ping(fd);
        ping(fd);
        ::close(fd);
    });
    serve(::accept(listener, nullptr, nullptr), 2);
    client.join();
    return failures == 0 ? 0 : 1;
}

int served_mode(int listener) {
    serve(::accept(listener, nullptr, nullptr), 3);
    return failures == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    std::thread([] {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, nullptr);
        std::this_thread::sleep_for(std::chrono::seconds(60));
        std::fprintf(stderr, "hook_probe: still running after 60 s (a deadlock?)\n");
        std::_Exit(3);
    }).detach();
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "alloc") return alloc_mode();
    if (mode == "threads") return threads_mode();
    if (mode == "signals") return signals_mode();
    if (mode == "fork") return fork_mode();
    if (mode == "exec") return exec_mode(argv[0]);
    if (mode == "served" && argc > 2) return served_mode(std::atoi(argv[2]));
    if (mode == "daemon") return daemon_mode();
    std::fprintf(stderr, "usage: hook_probe alloc|threads|signals|fork|exec\n");
    return 2;
}
