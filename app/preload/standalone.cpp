#include "standalone.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "preload.hpp"

extern char** environ;

namespace memlife::preload {

namespace {

constexpr int kFinishWaitMs = 5000; // at exit, how long the first process waits for the trace

char socket_path[108];
pid_t root_pid = 0; // the process that started the receiver
int lifeline = -1;  // the receiver's standard input: closed when that process ends
int done_pipe = -1; // the receiver's standard output: closed when the trace is written

// memlife next to this library (build tree), or at lib/../bin (installed).
bool find_memlife(char* out, std::size_t size) noexcept {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&start_standalone_receiver), &info) == 0 ||
        info.dli_fname == nullptr)
        return false;
    const char* slash = std::strrchr(info.dli_fname, '/');
    const int dir = slash == nullptr ? 1 : static_cast<int>(slash - info.dli_fname);
    const char* base = slash == nullptr ? "." : info.dli_fname;
    for (const char* relative : {"", "/" MEMLIFE_LIB_TO_BIN}) {
        const int n = std::snprintf(out, size, "%.*s%s/memlife", dir, base, relative);
        if (n > 0 && static_cast<std::size_t>(n) < size && ::access(out, X_OK) == 0) return true;
    }
    return false;
}

// Moves a descriptor above the program's usual range, close-on-exec.
int high(int fd) noexcept {
    const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 512);
    if (moved < 0) return fd;
    real.close(fd);
    return moved;
}

// Reads the socket path the receiver prints on its first line.
bool read_path(int fd) noexcept {
    std::size_t n = 0;
    while (n < sizeof socket_path - 1) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 10'000) <= 0) return false;
        const ssize_t r = real.read(fd, socket_path + n, 1);
        if (r <= 0) return false;
        if (socket_path[n] == '\n') {
            socket_path[n] = '\0';
            return n > 0;
        }
        ++n;
    }
    return false;
}

} // namespace

const char* start_standalone_receiver() noexcept {
    const char* trace = std::getenv("MEMLIFE_TRACE");
    if (trace == nullptr || *trace == '\0') return nullptr;
    char memlife[4096];
    if (!find_memlife(memlife, sizeof memlife)) {
        warn("MEMLIFE_TRACE is set but memlife (the receiver) is not next to the library");
        return nullptr;
    }
    // The receiver's environment: without LD_PRELOAD and MEMLIFE_* (it is not recorded,
    // and must not start a receiver of its own).
    std::size_t count = 0;
    for (char** e = environ; *e != nullptr; ++e)
        ++count;
    auto** env = static_cast<char**>(internal_calloc(count + 1, sizeof(char*)));
    if (env == nullptr) return nullptr;
    std::size_t kept = 0;
    for (char** e = environ; *e != nullptr; ++e)
        if (std::strncmp(*e, "LD_PRELOAD=", 11) != 0 && std::strncmp(*e, "MEMLIFE_", 8) != 0)
            env[kept++] = *e;
    char* argv[] = {memlife,
                    const_cast<char*>("record"),
                    const_cast<char*>("--receive"),
                    const_cast<char*>("-o"),
                    const_cast<char*>(trace),
                    nullptr};

    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return nullptr;
    if (::pipe2(out, O_CLOEXEC) != 0) {
        real.close(in[0]);
        real.close(in[1]);
        return nullptr;
    }
    // Twice forked: the receiver is not this program's child (it must not see it in wait()).
    const pid_t child = ::fork();
    if (child == 0) {
        if (::fork() == 0) {
            ::setsid();
            ::dup2(in[0], STDIN_FILENO);
            ::dup2(out[1], STDOUT_FILENO);
            real.execve(memlife, argv, env);
            ::_exit(127);
        }
        ::_exit(0);
    }
    internal_free(env);
    real.close(in[0]);
    real.close(out[1]);
    if (child > 0) ::waitpid(child, nullptr, 0);
    if (child < 0 || !read_path(out[0])) {
        warn("cannot start the receiver", memlife);
        real.close(in[1]);
        real.close(out[0]);
        return nullptr;
    }
    root_pid = ::getpid();
    lifeline = high(in[1]);
    done_pipe = high(out[0]);
    // The processes this one starts record to the same receiver.
    ::setenv("MEMLIFE_RECORD_SOCKET", socket_path, 1);
    return socket_path;
}

void finish_standalone() noexcept {
    if (root_pid != ::getpid() || lifeline < 0) return;
    real.close(lifeline);
    lifeline = -1;
    // The receiver writes the trace once every stream has ended, then closes its output.
    pollfd p{done_pipe, POLLIN, 0};
    char byte;
    while (::poll(&p, 1, kFinishWaitMs) > 0 && real.read(done_pipe, &byte, 1) > 0) {
    }
    real.close(done_pipe);
    done_pipe = -1;
}

void standalone_after_fork_child() noexcept {
    if (lifeline >= 0) real.close(lifeline);
    if (done_pipe >= 0) real.close(done_pipe);
    lifeline = done_pipe = -1;
}

} // namespace memlife::preload
