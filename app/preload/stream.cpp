#include "stream.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <ctime>

#include "connections.hpp"
#include "stacks.hpp"

namespace memlife::preload {

constinit Stream g_stream;

namespace {

constexpr long kSendIntervalNs = 20'000'000; // the sender writes at least this often
constexpr int kSweepEvery = 5;               // sweeps every 5th interval (100 ms)

// The command line (argv joined by NUL bytes) from /proc/self/cmdline, cut to `size`.
std::size_t read_command_line(char* out, std::size_t size) noexcept {
    const int fd = ::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    std::size_t n = 0;
    for (ssize_t r; n < size && (r = real.read(fd, out + n, size - n)) > 0;)
        n += static_cast<std::size_t>(r);
    real.close(fd);
    return n;
}

} // namespace

void Stream::init_conditions() noexcept {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&wake_, &attr);
    pthread_cond_init(&space_, &attr);
    pthread_condattr_destroy(&attr);
}

void Stream::configure(const char* socket_path) noexcept {
    std::strncpy(path_, socket_path, sizeof path_ - 1);
    init_conditions();
}

void Stream::fail(const char* why) noexcept {
    if (g_mode.exchange(Mode::Stopped) != Mode::Stopped)
        warn("recording stopped in this process", why);
    pthread_mutex_lock(&mutex_);
    stopping_ = true;
    size_ = 0;
    pthread_cond_broadcast(&space_);
    pthread_cond_broadcast(&wake_);
    pthread_mutex_unlock(&mutex_);
}

bool Stream::connect() noexcept {
    pthread_mutex_lock(&start_mutex_);
    if (connected_) {
        pthread_mutex_unlock(&start_mutex_);
        return fd_ >= 0;
    }
    connected_ = true;
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_, sizeof addr.sun_path - 1);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const int error = errno;
        if (fd >= 0) real.close(fd);
        pthread_mutex_unlock(&start_mutex_);
        fail(std::strerror(error)); // strerror: the message table, no allocation
        return false;
    }
    // Out of the way of the program's own low descriptors.
    const int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 512);
    if (high >= 0) {
        real.close(fd);
        fd = high;
    }
    fd_ = fd;
    wire::Hello hello;
    hello.pid = ::getpid();
    hello.ppid = ::getppid();
    char frame[sizeof(wire::FrameHeader) + sizeof hello + 2048];
    const std::size_t command =
        read_command_line(frame + sizeof(wire::FrameHeader) + sizeof hello,
                          sizeof frame - sizeof(wire::FrameHeader) - sizeof hello);
    const wire::FrameHeader header{wire::FrameType::Hello,
                                   static_cast<std::uint32_t>(sizeof hello + command)};
    std::memcpy(frame, &header, sizeof header);
    std::memcpy(frame + sizeof header, &hello, sizeof hello);
    const bool sent = send_all(frame, sizeof header + sizeof hello + command);
    pthread_mutex_unlock(&start_mutex_);
    if (!sent) fail("memlife record is gone");
    return sent;
}

bool Stream::start() noexcept {
    if (!connect()) return false;
    pthread_mutex_lock(&start_mutex_);
    if (started_) {
        pthread_mutex_unlock(&start_mutex_);
        return g_mode.load() == Mode::Recording;
    }
    started_ = true;
    // The sender: every signal blocked, so that the program's handlers never run on it.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    const int created = real.pthread_create(&thread, &attr, &Stream::sender_main, this);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (created == 0) {
        Mode expected = Mode::Armed;
        g_mode.compare_exchange_strong(expected, Mode::Recording);
    }
    pthread_mutex_unlock(&start_mutex_);
    if (created != 0) {
        fail("cannot start the sender thread");
        return false;
    }
    return g_mode.load() == Mode::Recording;
}

bool Stream::reserve(std::size_t size) noexcept {
    if (size_ + size <= capacity_) return true;
    std::size_t grown = capacity_ == 0 ? (64u << 10) : capacity_;
    while (grown < size_ + size)
        grown *= 2;
    void* p = internal_realloc(buffer_, grown);
    if (p == nullptr) return false;
    buffer_ = static_cast<char*>(p);
    capacity_ = grown;
    return true;
}

namespace {
constexpr std::uint32_t kNodesPerFrame = wire::kMaxFrame / sizeof(wire::StackNode);
}

std::size_t Stream::node_frames_size(std::uint32_t last) const noexcept {
    if (last <= nodes_sent_) return 0;
    const std::uint32_t n = last - nodes_sent_;
    const std::uint32_t frames = (n + kNodesPerFrame - 1) / kNodesPerFrame;
    return frames * sizeof(wire::FrameHeader) + std::size_t{n} * sizeof(wire::StackNode);
}

void Stream::append_nodes(std::uint32_t last) noexcept {
    while (nodes_sent_ < last) {
        const std::uint32_t n = std::min(last - nodes_sent_, kNodesPerFrame);
        const wire::FrameHeader header{wire::FrameType::StackNodes,
                                       static_cast<std::uint32_t>(n * sizeof(wire::StackNode))};
        std::memcpy(buffer_ + size_, &header, sizeof header);
        size_ += sizeof header;
        for (std::uint32_t i = 0; i < n; ++i) {
            const StackId id = nodes_sent_ + 1 + i;
            memlife::StackNode node;
            stack_node(id, node); // made (ready is published after the node)
            const wire::StackNode record{id, node.parent, node.address};
            std::memcpy(buffer_ + size_, &record, sizeof record);
            size_ += sizeof record;
        }
        nodes_sent_ += n;
    }
}

bool Stream::append(const Frame* frames, std::size_t count) noexcept {
    std::size_t total = 0;
    for (std::size_t i = 0; i < count; ++i)
        total += sizeof(wire::FrameHeader) + frames[i].head_size + frames[i].body_size;
    pthread_mutex_lock(&mutex_);
    while (!stopping_ && !tls.internal && size_ > kMaxBuffered) {
        pthread_cond_signal(&wake_);
        pthread_cond_wait(&space_, &mutex_);
    }
    const std::uint32_t nodes = stack_nodes_ready(); // 0 while stacks are off
    if (stopping_ || !reserve(total + node_frames_size(nodes))) {
        pthread_mutex_unlock(&mutex_);
        return false;
    }
    append_nodes(nodes);
    for (std::size_t i = 0; i < count; ++i) {
        const Frame& f = frames[i];
        const wire::FrameHeader header{f.type,
                                       static_cast<std::uint32_t>(f.head_size + f.body_size)};
        std::memcpy(buffer_ + size_, &header, sizeof header);
        size_ += sizeof header;
        if (f.head_size != 0) std::memcpy(buffer_ + size_, f.head, f.head_size);
        size_ += f.head_size;
        if (f.body_size != 0) std::memcpy(buffer_ + size_, f.body, f.body_size);
        size_ += f.body_size;
    }
    if (size_ >= kWakeBytes) pthread_cond_signal(&wake_);
    pthread_mutex_unlock(&mutex_);
    return true;
}

bool Stream::send_all(const char* data, std::size_t size) noexcept {
    while (size > 0) {
        // MSG_NOSIGNAL: a receiver that is gone must not kill the program with SIGPIPE.
        const ssize_t n = real.send(fd_, data, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// Swaps the buffers under mutex_ and writes the full one outside it, so appenders never
// wait for the socket.
void Stream::write_buffered() noexcept {
    pthread_mutex_lock(&mutex_);
    char* full = buffer_;
    const std::size_t size = size_;
    const std::size_t capacity = capacity_;
    buffer_ = spare_;
    capacity_ = spare_capacity_;
    size_ = 0;
    pthread_cond_broadcast(&space_);
    pthread_mutex_unlock(&mutex_);
    const bool sent = size == 0 || fd_ < 0 || send_all(full, size);
    spare_ = full;
    spare_capacity_ = capacity;
    if (!sent) fail("memlife record is gone");
}

void Stream::move_socket() noexcept {
    pthread_mutex_lock(&write_mutex_);
    const int fd = fd_.load();
    const int moved = fd >= 0 ? ::fcntl(fd, F_DUPFD_CLOEXEC, fd + 1) : -1;
    if (moved >= 0) fd_ = moved; // the old number is the program's now (dup2 replaces it)
    pthread_mutex_unlock(&write_mutex_);
}

void Stream::flush() noexcept {
    pthread_mutex_lock(&write_mutex_);
    write_buffered();
    pthread_mutex_unlock(&write_mutex_);
}

void Stream::close() noexcept {
    flush();
    pthread_mutex_lock(&mutex_);
    stopping_ = true;
    pthread_cond_broadcast(&wake_);
    pthread_cond_broadcast(&space_);
    pthread_mutex_unlock(&mutex_);
    pthread_mutex_lock(&write_mutex_);
    if (fd_ >= 0) real.shutdown(fd_, SHUT_RDWR); // the receiver sees the end at once
    pthread_mutex_unlock(&write_mutex_);
}

void* Stream::sender_main(void* self) noexcept {
    tls.internal = true;
    static_cast<Stream*>(self)->run_sender();
    return nullptr;
}

void Stream::run_sender() noexcept {
    for (int round = 1;; ++round) {
        pthread_mutex_lock(&mutex_);
        if (!stopping_ && size_ < kWakeBytes) {
            timespec until{};
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_nsec += kSendIntervalNs;
            if (until.tv_nsec >= 1'000'000'000) until.tv_sec += 1, until.tv_nsec -= 1'000'000'000;
            pthread_cond_timedwait(&wake_, &mutex_, &until);
        }
        const bool stopping = stopping_;
        pthread_mutex_unlock(&mutex_);
        if (stopping) return;
        if (round % kSweepEvery == 0) sweep_connections();
        flush();
    }
}

void Stream::lock_for_fork() noexcept {
    pthread_mutex_lock(&start_mutex_);
    pthread_mutex_lock(&write_mutex_);
    pthread_mutex_lock(&mutex_);
}

void Stream::unlock_after_fork() noexcept {
    pthread_mutex_unlock(&mutex_);
    pthread_mutex_unlock(&write_mutex_);
    pthread_mutex_unlock(&start_mutex_);
}

void Stream::reset_in_child() noexcept {
    // The parent sends what it buffered; the child's copy of its socket must go, or the
    // receiver would not see the parent's end while the child lives.
    if (fd_ >= 0) real.close(fd_);
    fd_ = -1;
    connected_ = started_ = false;
    size_ = 0;
    nodes_sent_ = 0; // the receiver knows none of this process's nodes yet
    stopping_ = false;
    pthread_mutex_init(&start_mutex_, nullptr);
    pthread_mutex_init(&write_mutex_, nullptr);
    pthread_mutex_init(&mutex_, nullptr);
    init_conditions();
}

} // namespace memlife::preload
