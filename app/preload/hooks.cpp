// The interposed functions. Each calls the real one and, when the process records and the
// calling thread is not inside memlife (the guard), tells connections.cpp what happened.
// Allocation hooks record after the real call; free and close before it, so that an
// address or a descriptor number given out again by another thread is never confused
// with the old one.
#include <dlfcn.h>
#include <linux/close_range.h>
#include <malloc.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "connections.hpp"
#include "stacks.hpp"
#include "standalone.hpp"
#include "stream.hpp"

#define MEMLIFE_HOOK extern "C" __attribute__((visibility("default")))

using namespace memlife::preload;

namespace {

// Socket and exec hooks need the real functions; allocation hooks fall back to the
// bootstrap arena while they are being resolved.
inline void need_real() noexcept {
    while (!resolved() && !resolve_real())
        sched_yield();
}

bool valid_alignment(std::size_t alignment) noexcept {
    return alignment != 0 && (alignment & (alignment - 1)) == 0 && alignment % sizeof(void*) == 0;
}

// A connection's allocation gets its stack; the process's (no connection current) none.
inline memlife::StackId allocation_stack() noexcept {
    return tls.current != nullptr ? capture_allocation_stack() : 0;
}

void note_alloc(void* p, std::size_t size) noexcept {
    if (p == nullptr || !recordable()) return;
    Guard guard;
    KeepErrno keep;
    on_alloc(p, size, allocation_stack());
}

void after_io(int fd, bool is_read, ssize_t result) noexcept {
    if (!recordable()) return;
    Connection* c = g_fds.get(fd);
    if (c == nullptr) return;
    Guard guard;
    KeepErrno keep;
    on_io(c, is_read, result > 0);
}

void before_exec() noexcept {
    if (!recordable()) return;
    Guard guard;
    KeepErrno keep;
    finish_process(false); // if exec fails the process goes on recording
}

} // namespace

// ---- allocation ---------------------------------------------------------------------

MEMLIFE_HOOK void* malloc(std::size_t size) {
    if (!resolved() && !resolve_real()) return bootstrap_alloc(size, 16);
    void* p = real.malloc(size);
    note_alloc(p, size);
    return p;
}

MEMLIFE_HOOK void free(void* p) {
    if (p == nullptr || is_bootstrap(p)) return;
    if (recordable()) {
        Guard guard;
        KeepErrno keep;
        on_free(p);
    }
    real.free(p);
}

MEMLIFE_HOOK void* calloc(std::size_t count, std::size_t size) {
    if (!resolved() && !resolve_real()) {
        if (size != 0 && count > SIZE_MAX / size) return nullptr;
        return bootstrap_alloc(count * size, 16); // the arena is zero and never reused
    }
    void* p = real.calloc(count, size);
    note_alloc(p, count * size);
    return p;
}

MEMLIFE_HOOK void* realloc(void* p, std::size_t size) {
    if (p != nullptr && is_bootstrap(p)) { // out of the arena into real memory
        void* q = malloc(size);
        if (q != nullptr) std::memcpy(q, p, std::min(bootstrap_size(p), size));
        return q;
    }
    if (!resolved() && !resolve_real()) return bootstrap_alloc(size, 16);
    if (!recordable()) return real.realloc(p, size);
    BlockEntry old;
    bool owned = false;
    if (p != nullptr) {
        Guard guard;
        KeepErrno keep;
        owned = take_block(p, old);
    }
    void* q = real.realloc(p, size);
    Guard guard;
    KeepErrno keep;
    if (q == nullptr && size != 0) { // failed: p is untouched
        if (owned) put_back(old);
        return nullptr;
    }
    if (owned) release_block(old);
    if (q != nullptr) on_alloc(q, size, allocation_stack());
    return q;
}

MEMLIFE_HOOK void* reallocarray(void* p, std::size_t count, std::size_t size) {
    if (size != 0 && count > SIZE_MAX / size) {
        errno = ENOMEM;
        return nullptr;
    }
    return realloc(p, count * size);
}

MEMLIFE_HOOK int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
    if (!resolved() && !resolve_real()) {
        if (!valid_alignment(alignment)) return EINVAL;
        void* p = bootstrap_alloc(size, alignment);
        if (p == nullptr) return ENOMEM;
        *out = p;
        return 0;
    }
    const int result = real.posix_memalign(out, alignment, size);
    if (result == 0) note_alloc(*out, size);
    return result;
}

MEMLIFE_HOOK void* aligned_alloc(std::size_t alignment, std::size_t size) {
    if (!resolved() && !resolve_real()) return bootstrap_alloc(size, alignment);
    void* p = real.aligned_alloc(alignment, size);
    note_alloc(p, size);
    return p;
}

MEMLIFE_HOOK void* memalign(std::size_t alignment, std::size_t size) {
    if (!resolved() && !resolve_real()) return bootstrap_alloc(size, alignment);
    void* p = real.memalign(alignment, size);
    note_alloc(p, size);
    return p;
}

MEMLIFE_HOOK void* valloc(std::size_t size) {
    if (!resolved() && !resolve_real()) return bootstrap_alloc(size, 4096);
    void* p = real.valloc(size);
    note_alloc(p, size);
    return p;
}

MEMLIFE_HOOK void* pvalloc(std::size_t size) {
    if (!resolved() && !resolve_real())
        return bootstrap_alloc((size + 4095) & ~std::size_t{4095}, 4096);
    void* p = real.pvalloc(size);
    note_alloc(p, size);
    return p;
}

MEMLIFE_HOOK std::size_t malloc_usable_size(void* p) {
    if (p != nullptr && is_bootstrap(p)) return bootstrap_size(p);
    if (!resolved() && !resolve_real()) return 0;
    return real.malloc_usable_size(p);
}

// ---- sockets ------------------------------------------------------------------------

MEMLIFE_HOOK int accept(int fd, sockaddr* addr, socklen_t* len) {
    need_real();
    const int connection = real.accept(fd, addr, len);
    if (connection >= 0 && recordable()) {
        Guard guard;
        KeepErrno keep;
        on_accept(connection);
    }
    return connection;
}

MEMLIFE_HOOK int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
    need_real();
    const int connection = real.accept4(fd, addr, len, flags);
    if (connection >= 0 && recordable()) {
        Guard guard;
        KeepErrno keep;
        on_accept(connection);
    }
    return connection;
}

MEMLIFE_HOOK ssize_t read(int fd, void* buf, std::size_t n) {
    need_real();
    if (tls.guard > 0 && refused_unwinder_fd(fd)) return errno = EBADF, -1;
    const ssize_t r = real.read(fd, buf, n);
    after_io(fd, true, r);
    return r;
}

MEMLIFE_HOOK ssize_t __read_chk(int fd, void* buf, std::size_t n, std::size_t buflen) {
    need_real();
    const ssize_t r = real.read_chk(fd, buf, n, buflen);
    after_io(fd, true, r);
    return r;
}

MEMLIFE_HOOK ssize_t recv(int fd, void* buf, std::size_t n, int flags) {
    need_real();
    const ssize_t r = real.recv(fd, buf, n, flags);
    // MSG_PEEK looks without consuming: the read that consumes begins the request.
    after_io(fd, true, (flags & MSG_PEEK) != 0 ? 0 : r);
    return r;
}

MEMLIFE_HOOK ssize_t __recv_chk(int fd, void* buf, std::size_t n, std::size_t buflen, int flags) {
    need_real();
    const ssize_t r = real.recv_chk(fd, buf, n, buflen, flags);
    after_io(fd, true, (flags & MSG_PEEK) != 0 ? 0 : r);
    return r;
}

MEMLIFE_HOOK ssize_t recvfrom(int fd, void* buf, std::size_t n, int flags, sockaddr* addr,
                              socklen_t* len) {
    need_real();
    const ssize_t r = real.recvfrom(fd, buf, n, flags, addr, len);
    after_io(fd, true, (flags & MSG_PEEK) != 0 ? 0 : r);
    return r;
}

MEMLIFE_HOOK ssize_t __recvfrom_chk(int fd, void* buf, std::size_t n, std::size_t buflen, int flags,
                                    sockaddr* addr, socklen_t* len) {
    need_real();
    const ssize_t r = real.recvfrom_chk(fd, buf, n, buflen, flags, addr, len);
    after_io(fd, true, (flags & MSG_PEEK) != 0 ? 0 : r);
    return r;
}

MEMLIFE_HOOK ssize_t recvmsg(int fd, msghdr* msg, int flags) {
    need_real();
    const ssize_t r = real.recvmsg(fd, msg, flags);
    after_io(fd, true, (flags & MSG_PEEK) != 0 ? 0 : r);
    return r;
}

MEMLIFE_HOOK ssize_t readv(int fd, const iovec* iov, int count) {
    need_real();
    const ssize_t r = real.readv(fd, iov, count);
    after_io(fd, true, r);
    return r;
}

MEMLIFE_HOOK ssize_t write(int fd, const void* buf, std::size_t n) {
    need_real();
    if (tls.guard > 0 && refused_unwinder_fd(fd)) return errno = EBADF, -1;
    const ssize_t r = real.write(fd, buf, n);
    after_io(fd, false, r);
    return r;
}

MEMLIFE_HOOK ssize_t send(int fd, const void* buf, std::size_t n, int flags) {
    need_real();
    const ssize_t r = real.send(fd, buf, n, flags);
    after_io(fd, false, r);
    return r;
}

MEMLIFE_HOOK ssize_t sendto(int fd, const void* buf, std::size_t n, int flags, const sockaddr* addr,
                            socklen_t len) {
    need_real();
    const ssize_t r = real.sendto(fd, buf, n, flags, addr, len);
    after_io(fd, false, r);
    return r;
}

MEMLIFE_HOOK ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
    need_real();
    const ssize_t r = real.sendmsg(fd, msg, flags);
    after_io(fd, false, r);
    return r;
}

MEMLIFE_HOOK ssize_t writev(int fd, const iovec* iov, int count) {
    need_real();
    const ssize_t r = real.writev(fd, iov, count);
    after_io(fd, false, r);
    return r;
}

MEMLIFE_HOOK ssize_t sendfile(int out, int in, off_t* offset, std::size_t n) {
    need_real();
    const ssize_t r = real.sendfile(out, in, offset, n);
    after_io(out, false, r);
    return r;
}

// With _FILE_OFFSET_BITS=64 the headers call sendfile64.
MEMLIFE_HOOK ssize_t sendfile64(int out, int in, off_t* offset, std::size_t n) {
    need_real();
    const ssize_t r =
        (real.sendfile64 != nullptr ? real.sendfile64 : real.sendfile)(out, in, offset, n);
    after_io(out, false, r);
    return r;
}

MEMLIFE_HOOK int shutdown(int fd, int how) {
    need_real();
    if (recordable()) {
        if (Connection* c = g_fds.get(fd)) {
            Guard guard;
            KeepErrno keep;
            on_io(c, false, false);
            on_shutdown(c);
        }
    }
    return real.shutdown(fd, how);
}

MEMLIFE_HOOK int close(int fd) {
    need_real();
    // memlife's own socket stays open: a program that closes every descriptor it does not
    // know (daemons do) would otherwise cut its own recording short, or have its next
    // file take the socket's number while the sender writes to it.
    if (armed() && g_stream.is_stream_fd(fd)) return 0;
    if (tls.guard > 0) {
        if (refused_unwinder_fd(fd)) return 0; // the program's now (see stacks.hpp)
    } else {
        program_closed(static_cast<unsigned>(fd), static_cast<unsigned>(fd));
    }
    if (recordable()) {
        Guard guard;
        KeepErrno keep;
        on_close(fd);
    }
    return real.close(fd);
}

// Daemons close every descriptor they did not open: memlife's socket is left out of the
// range (the program cannot tell), and a dup2 onto its number moves it first.
MEMLIFE_HOOK int close_range(unsigned first, unsigned last, int flags) {
    need_real();
    if (real.close_range == nullptr) return errno = ENOSYS, -1;
    if ((flags & CLOSE_RANGE_CLOEXEC) == 0) program_closed(first, last);
    if ((flags & CLOSE_RANGE_CLOEXEC) == 0 && recordable()) {
        Guard guard;
        KeepErrno keep;
        on_close_range(first, last);
    }
    const int own = armed() ? g_stream.fd() : -1;
    if (own < 0 || static_cast<unsigned>(own) < first || static_cast<unsigned>(own) > last)
        return real.close_range(first, last, flags);
    const unsigned fd = static_cast<unsigned>(own);
    const int below = fd > first ? real.close_range(first, fd - 1, flags) : 0;
    const int above = fd < last ? real.close_range(fd + 1, last, flags) : 0;
    return below != 0 ? below : above;
}

MEMLIFE_HOOK void closefrom(int first) {
    need_real();
    program_closed(static_cast<unsigned>(first), ~0u);
    if (recordable()) {
        Guard guard;
        KeepErrno keep;
        on_close_range(static_cast<unsigned>(first), ~0u);
    }
    const int own = armed() ? g_stream.fd() : -1;
    if (own < first) return real.closefrom(first);
    if (close_range(static_cast<unsigned>(first), ~0u, 0) == 0) return;
    for (int fd = first; fd < own; ++fd) // a kernel without close_range
        real.close(fd);
    real.closefrom(own + 1);
}

namespace {

// dup2 and dup3 close `to` first: memlife's socket moves away; a connection there ends.
void before_dup(int from, int to) noexcept {
    if (from != to) program_closed(static_cast<unsigned>(to), static_cast<unsigned>(to));
    if (!armed() || from == to) return;
    const bool record = recordable();
    Guard guard;
    KeepErrno keep;
    if (g_stream.is_stream_fd(to)) g_stream.move_socket();
    if (record) on_close(to);
}

} // namespace

MEMLIFE_HOOK int dup2(int from, int to) {
    need_real();
    before_dup(from, to);
    return real.dup2(from, to);
}

MEMLIFE_HOOK int dup3(int from, int to, int flags) {
    need_real();
    before_dup(from, to);
    return real.dup3(from, to, flags);
}

// ---- exec: everything recorded so far goes out before the image is replaced ----------

MEMLIFE_HOOK int execve(const char* path, char* const argv[], char* const envp[]) {
    need_real();
    before_exec();
    return real.execve(path, argv, envp);
}

MEMLIFE_HOOK int execv(const char* path, char* const argv[]) {
    need_real();
    before_exec();
    return real.execv(path, argv);
}

MEMLIFE_HOOK int execvp(const char* file, char* const argv[]) {
    need_real();
    before_exec();
    return real.execvp(file, argv);
}

MEMLIFE_HOOK int execvpe(const char* file, char* const argv[], char* const envp[]) {
    need_real();
    before_exec();
    return real.execvpe(file, argv, envp);
}

MEMLIFE_HOOK int fexecve(int fd, char* const argv[], char* const envp[]) {
    need_real();
    before_exec();
    return real.fexecve(fd, argv, envp);
}

namespace {

// execl, execle and execlp: glibc's call execve internally, out of the hooks' reach. The
// list (ending with a null pointer, then for execle the environment) becomes an argv on
// this frame's stack, as glibc does it.
template <class Exec> int exec_list(const char* arg, va_list args, bool has_env, Exec exec) {
    va_list copy;
    va_copy(copy, args);
    int n = 1;
    while (va_arg(copy, char*) != nullptr)
        ++n;
    va_end(copy);
    char** argv = static_cast<char**>(alloca((n + 1) * sizeof(char*)));
    argv[0] = const_cast<char*>(arg);
    for (int i = 1; i <= n; ++i)
        argv[i] = va_arg(args, char*); // the last one read is the terminating null
    char* const* envp = has_env ? va_arg(args, char* const*) : nullptr;
    return exec(argv, envp);
}

} // namespace

MEMLIFE_HOOK int execl(const char* path, const char* arg, ...) {
    va_list args;
    va_start(args, arg);
    const int r =
        exec_list(arg, args, false, [&](char** argv, char* const*) { return execv(path, argv); });
    va_end(args);
    return r;
}

MEMLIFE_HOOK int execlp(const char* file, const char* arg, ...) {
    va_list args;
    va_start(args, arg);
    const int r =
        exec_list(arg, args, false, [&](char** argv, char* const*) { return execvp(file, argv); });
    va_end(args);
    return r;
}

MEMLIFE_HOOK int execle(const char* path, const char* arg, ...) {
    va_list args;
    va_start(args, arg);
    const int r = exec_list(
        arg, args, true, [&](char** argv, char* const* envp) { return execve(path, argv, envp); });
    va_end(args);
    return r;
}

// ---- threads ------------------------------------------------------------------------

// The thread library's own allocations for the new thread (its TLS, its descriptor) are
// not the current connection's: they outlive it in glibc's stack cache.
MEMLIFE_HOOK int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                void* (*start)(void*), void* arg) {
    need_real();
    Guard guard;
    return real.pthread_create(thread, attr, start, arg);
}

// The unwinder's pipe (see stacks.hpp): made inside memlife, by libunwind.
MEMLIFE_HOOK int pipe2(int fds[2], int flags) {
    need_real();
    const int r = real.pipe2(fds, flags);
    if (r == 0 && tls.guard > 0) note_unwinder_pipe(fds);
    return r;
}

// ---- start and end ------------------------------------------------------------------

__attribute__((constructor)) static void memlife_preload_start() {
    need_real();
    Guard guard;
    KeepErrno keep;
    const char* socket = std::getenv("MEMLIFE_RECORD_SOCKET");
    if (socket == nullptr || *socket == '\0') socket = start_standalone_receiver();
    if (socket == nullptr || *socket == '\0') return;
    g_stream.configure(socket);
    init_stacks();
    init_connections();
    pthread_atfork(prepare_fork, parent_after_fork, child_after_fork);
    g_mode.store(Mode::Armed);
    g_stream.connect();
}

__attribute__((destructor)) static void memlife_preload_end() {
    Guard guard;
    KeepErrno keep;
    finish_process(true);
    finish_standalone();
}
