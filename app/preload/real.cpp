// The real functions (dlsym(RTLD_NEXT)) and the bootstrap arena that serves allocations
// made before they are known: dlsym may call calloc, and other libraries' constructors
// may allocate before this library's runs.
#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "preload.hpp"

namespace memlife::preload {

constinit Real real{};
constinit std::atomic<bool> g_resolved{false};
constinit std::atomic<Mode> g_mode{Mode::Off};
__thread ThreadState tls;

namespace {

// Bootstrap arena: a bump pointer over static storage, never reused. Each block is
// preceded by its size, so realloc and malloc_usable_size work on it; free ignores it.
constexpr std::size_t kArenaBytes = 256 * 1024;
alignas(64) unsigned char arena[kArenaBytes];
std::atomic<std::size_t> arena_used{0};

template <class F> void find(F& slot, const char* name) noexcept {
    slot = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

} // namespace

void* bootstrap_alloc(std::size_t size, std::size_t alignment) noexcept {
    if (alignment < 16) alignment = 16;
    std::size_t used = arena_used.load(std::memory_order_relaxed);
    for (;;) {
        const std::size_t start = (used + sizeof(std::size_t) + alignment - 1) & ~(alignment - 1);
        if (size > kArenaBytes || start + size > kArenaBytes) return nullptr;
        if (arena_used.compare_exchange_weak(used, start + size, std::memory_order_relaxed)) {
            std::memcpy(arena + start - sizeof(std::size_t), &size, sizeof size);
            return arena + start;
        }
    }
}

bool is_bootstrap(const void* p) noexcept {
    const auto* b = static_cast<const unsigned char*>(p);
    return b >= arena && b < arena + kArenaBytes;
}

std::size_t bootstrap_size(const void* p) noexcept {
    std::size_t size = 0;
    std::memcpy(&size, static_cast<const unsigned char*>(p) - sizeof size, sizeof size);
    return size;
}

bool resolve_real() noexcept {
    // 0: not started, 1: resolving (dlsym may re-enter through calloc), 2: done.
    static std::atomic<int> state{0};
    int expected = 0;
    if (!state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel))
        return expected == 2;
    find(real.malloc, "malloc");
    find(real.free, "free");
    find(real.calloc, "calloc");
    find(real.realloc, "realloc");
    find(real.posix_memalign, "posix_memalign");
    find(real.aligned_alloc, "aligned_alloc");
    find(real.memalign, "memalign");
    find(real.valloc, "valloc");
    find(real.pvalloc, "pvalloc");
    find(real.malloc_usable_size, "malloc_usable_size");
    find(real.accept, "accept");
    find(real.accept4, "accept4");
    find(real.read, "read");
    find(real.read_chk, "__read_chk");
    find(real.recv, "recv");
    find(real.recv_chk, "__recv_chk");
    find(real.recvfrom, "recvfrom");
    find(real.recvfrom_chk, "__recvfrom_chk");
    find(real.recvmsg, "recvmsg");
    find(real.readv, "readv");
    find(real.write, "write");
    find(real.send, "send");
    find(real.sendto, "sendto");
    find(real.sendmsg, "sendmsg");
    find(real.writev, "writev");
    find(real.sendfile, "sendfile");
    find(real.sendfile64, "sendfile64");
    find(real.close, "close");
    find(real.close_range, "close_range");
    find(real.closefrom, "closefrom");
    find(real.dup2, "dup2");
    find(real.dup3, "dup3");
    find(real.shutdown, "shutdown");
    find(real.pipe2, "pipe2");
    find(real.execve, "execve");
    find(real.execv, "execv");
    find(real.execvp, "execvp");
    find(real.execvpe, "execvpe");
    find(real.fexecve, "fexecve");
    find(real.pthread_create, "pthread_create");
    if (real.malloc == nullptr || real.free == nullptr || real.calloc == nullptr ||
        real.realloc == nullptr || real.read == nullptr || real.write == nullptr ||
        real.close == nullptr) {
        static const char text[] = "memlife: libmemlife_preload.so cannot find the C library's "
                                   "allocator (dlsym RTLD_NEXT)\n";
        (void)!::syscall(SYS_write, 2, text, sizeof text - 1);
        ::_exit(127);
    }
    g_resolved.store(true, std::memory_order_release);
    state.store(2, std::memory_order_release);
    return true;
}

namespace {

class BlockSignals {
public:
    BlockSignals() noexcept {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old_);
    }
    ~BlockSignals() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
    BlockSignals(const BlockSignals&) = delete;
    BlockSignals& operator=(const BlockSignals&) = delete;

private:
    sigset_t old_;
};

} // namespace

void* internal_calloc(std::size_t count, std::size_t size) noexcept {
    BlockSignals blocked;
    return real.calloc(count, size);
}

void* internal_realloc(void* p, std::size_t size) noexcept {
    BlockSignals blocked;
    return real.realloc(p, size);
}

void internal_free(void* p) noexcept {
    if (p == nullptr) return;
    BlockSignals blocked;
    real.free(p);
}

void warn(const char* message, const char* detail) noexcept {
    char line[512];
    std::size_t n = 0;
    auto add = [&](const char* s) {
        for (; s != nullptr && *s != '\0' && n < sizeof line - 2; ++s)
            line[n++] = *s;
    };
    add("memlife: ");
    add(message);
    if (detail != nullptr) {
        add(": ");
        add(detail);
    }
    line[n++] = '\n';
    (void)!::syscall(SYS_write, 2, line, n);
}

} // namespace memlife::preload
