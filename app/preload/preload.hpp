// Shared by the preload library's parts: the real functions behind the hooks, the
// per-thread state (the recursion guard), the recording mode and a spin lock.
// See docs/record.md for the design.
#pragma once

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <new>

namespace memlife::preload {

// The next definition of every hooked function after this library (glibc's, or another
// preloaded allocator's), from dlsym(RTLD_NEXT).
struct Real {
    void* (*malloc)(std::size_t);
    void (*free)(void*);
    void* (*calloc)(std::size_t, std::size_t);
    void* (*realloc)(void*, std::size_t);
    int (*posix_memalign)(void**, std::size_t, std::size_t);
    void* (*aligned_alloc)(std::size_t, std::size_t);
    void* (*memalign)(std::size_t, std::size_t);
    void* (*valloc)(std::size_t);
    void* (*pvalloc)(std::size_t);
    std::size_t (*malloc_usable_size)(void*);

    int (*accept)(int, sockaddr*, socklen_t*);
    int (*accept4)(int, sockaddr*, socklen_t*, int);
    ssize_t (*read)(int, void*, std::size_t);
    ssize_t (*read_chk)(int, void*, std::size_t, std::size_t);
    ssize_t (*recv)(int, void*, std::size_t, int);
    ssize_t (*recv_chk)(int, void*, std::size_t, std::size_t, int);
    ssize_t (*recvfrom)(int, void*, std::size_t, int, sockaddr*, socklen_t*);
    ssize_t (*recvfrom_chk)(int, void*, std::size_t, std::size_t, int, sockaddr*, socklen_t*);
    ssize_t (*recvmsg)(int, msghdr*, int);
    ssize_t (*readv)(int, const iovec*, int);
    ssize_t (*write)(int, const void*, std::size_t);
    ssize_t (*send)(int, const void*, std::size_t, int);
    ssize_t (*sendto)(int, const void*, std::size_t, int, const sockaddr*, socklen_t);
    ssize_t (*sendmsg)(int, const msghdr*, int);
    ssize_t (*writev)(int, const iovec*, int);
    ssize_t (*sendfile)(int, int, off_t*, std::size_t);
    ssize_t (*sendfile64)(int, int, off_t*, std::size_t);
    int (*close)(int);
    int (*close_range)(unsigned, unsigned, int);
    void (*closefrom)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    int (*shutdown)(int, int);
    int (*pipe2)(int*, int);

    int (*execve)(const char*, char* const[], char* const[]);
    int (*execv)(const char*, char* const[]);
    int (*execvp)(const char*, char* const[]);
    int (*execvpe)(const char*, char* const[], char* const[]);
    int (*fexecve)(int, char* const[], char* const[]);
    int (*pthread_create)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
};
extern Real real;

// Fills `real` once. Until it returns, allocations are served from a static bootstrap
// arena (dlsym itself may call calloc). Returns whether `real` is complete.
bool resolve_real() noexcept;
extern std::atomic<bool> g_resolved;
inline bool resolved() noexcept {
    return g_resolved.load(std::memory_order_acquire);
}

void* bootstrap_alloc(std::size_t size, std::size_t alignment) noexcept;
bool is_bootstrap(const void* p) noexcept;
std::size_t bootstrap_size(const void* p) noexcept;

struct Connection;

// Per thread. Trivial, so access is a plain initial-exec TLS load (the library is
// preloaded: its TLS is in the static block, and reading it never allocates).
struct ThreadState {
    // > 0 while memlife's own code runs on this thread: every hook passes straight through
    // (no recursion; a signal handler that allocates while a hook runs is not recorded).
    unsigned guard;
    bool internal;       // memlife's own thread (the sender): never recorded
    bool exit_hook;      // the thread-exit key is set (closes this thread's close window)
    Connection* current; // the connection this thread last accepted, read or wrote
    std::uint32_t current_generation;
    Connection* closing; // the connection this thread closed, its close window still open
    std::uint32_t closing_generation;
    std::uint64_t process_allocs, process_bytes; // not yet folded into the process totals
};
extern __thread ThreadState tls;

struct Guard {
    Guard() noexcept { ++tls.guard; }
    ~Guard() { --tls.guard; }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
};

// The hooks' bookkeeping never changes what the caller sees in errno.
struct KeepErrno {
    int saved = errno;
    ~KeepErrno() { errno = saved; }
};

enum class Mode : int {
    Off,       // no MEMLIFE_RECORD_SOCKET / MEMLIFE_TRACE: every hook passes through
    Armed,     // configured; the stream to the receiver starts at the first accepted connection
    Recording, // the stream is up
    Stopped,   // the receiver is gone, or the process is exiting: pass through
};
extern std::atomic<Mode> g_mode;
inline bool armed() noexcept {
    const Mode m = g_mode.load(std::memory_order_relaxed);
    return m == Mode::Armed || m == Mode::Recording;
}
// A hook records only when recording is on and the calling thread is not inside memlife.
inline bool recordable() noexcept {
    return armed() && tls.guard == 0 && !tls.internal;
}

// Test-and-test-and-set; yields after a short spin. Held for a few dozen instructions.
class SpinLock {
public:
    void lock() noexcept {
        for (unsigned spins = 0; locked_.exchange(true, std::memory_order_acquire);) {
            while (locked_.load(std::memory_order_relaxed)) {
                if (++spins < 64)
                    __builtin_ia32_pause();
                else
                    sched_yield();
            }
        }
    }
    bool try_lock() noexcept {
        return !locked_.load(std::memory_order_relaxed) &&
               !locked_.exchange(true, std::memory_order_acquire);
    }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }
    // After fork, in the child: nobody else holds it.
    void reset() noexcept { locked_.store(false, std::memory_order_relaxed); }

private:
    std::atomic<bool> locked_{false};
};

template <class Lock> class Locked {
public:
    explicit Locked(Lock& lock) noexcept : lock_(lock) { lock_.lock(); }
    ~Locked() { lock_.unlock(); }
    Locked(const Locked&) = delete;
    Locked& operator=(const Locked&) = delete;

private:
    Lock& lock_;
};

// Memory for memlife's own structures: from the real allocator, with every signal
// blocked. A socket hook may need memory where the program called no allocation function;
// a signal handler that allocates must not find glibc's allocator busy there (it is not
// reentrant), or memlife would add a deadlock the program does not have.
void* internal_calloc(std::size_t count, std::size_t size) noexcept;
void* internal_realloc(void* p, std::size_t size) noexcept;
void internal_free(void* p) noexcept;
template <class T> T* make_internal() noexcept {
    void* p = internal_calloc(1, sizeof(T));
    return p != nullptr ? new (p) T() : nullptr;
}

// Writes a line to stderr without allocating ("memlife: ..."); used for the few warnings.
void warn(const char* message, const char* detail = nullptr) noexcept;

} // namespace memlife::preload
