// The process's stream of frames to the receiver (`memlife record`): one buffer filled by
// every thread under a mutex, written to the socket by a sender thread at least every
// 20 ms. One stream per process: a forked child connects anew (see docs/record.md).
#pragma once

#include <cstddef>

#include "preload.hpp"
#include "wire.hpp"

namespace memlife::preload {

struct Frame {
    wire::FrameType type;
    const void* head = nullptr;
    std::size_t head_size = 0;
    const void* body = nullptr;
    std::size_t body_size = 0;
};

class Stream {
public:
    // The receiver's socket path (copied); before start().
    void configure(const char* socket_path) noexcept;
    // Connects and says hello. Done early (at start and in a forked child at once), while
    // the process may still reach the socket: servers drop privileges later (nginx's
    // workers run as nobody). False when the receiver cannot be reached (warned once;
    // recording stops: g_mode = Stopped).
    bool connect() noexcept;
    // Starts the sender thread, once per process (at the first connection). False when
    // recording has stopped.
    bool start() noexcept;
    // Appends frames, all or none, in order, after the stack nodes made since the last
    // append (when stacks are on: the events may name them). An application thread waits
    // while the buffer holds more than kMaxBuffered (nothing is dropped); the sender thread
    // never waits. False when the stream has stopped.
    bool append(const Frame* frames, std::size_t count) noexcept;
    // Writes everything appended so far, on the calling thread (exit, exec).
    void flush() noexcept;
    // Flushes and closes: nothing more is sent (process exit).
    void close() noexcept;
    bool is_stream_fd(int fd) const noexcept { return fd >= 0 && fd == fd_.load(); }
    int fd() const noexcept { return fd_.load(); }
    // The program is about to put another file at the socket's number (dup2): the socket
    // moves to another one first.
    void move_socket() noexcept;

    // fork: the parent holds the locks across fork(); the child starts over, unconnected.
    void lock_for_fork() noexcept;
    void unlock_after_fork() noexcept;
    void reset_in_child() noexcept;

private:
    static void* sender_main(void* self) noexcept;
    void run_sender() noexcept;
    void write_buffered() noexcept; // caller holds write_mutex_
    bool send_all(const char* data, std::size_t size) noexcept;
    bool reserve(std::size_t size) noexcept; // caller holds mutex_
    // Appends StackNodes frames of nodes (nodes_sent_, last]; caller holds mutex_ and has
    // reserved node_frames_size(last).
    std::size_t node_frames_size(std::uint32_t last) const noexcept;
    void append_nodes(std::uint32_t last) noexcept;
    void fail(const char* why) noexcept;

    static constexpr std::size_t kMaxBuffered = 32u << 20;
    static constexpr std::size_t kWakeBytes = 256u << 10;

    void init_conditions() noexcept; // waits measure CLOCK_MONOTONIC

    char path_[108] = {};
    std::atomic<int> fd_{-1};
    bool connected_ = false, started_ = false;
    pthread_mutex_t start_mutex_ = PTHREAD_MUTEX_INITIALIZER;
    // write_mutex_ (taken first) orders the socket writes; mutex_ guards the buffers.
    pthread_mutex_t write_mutex_ = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_t mutex_ = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t wake_ = PTHREAD_COND_INITIALIZER; // re-made by init_conditions()
    pthread_cond_t space_ = PTHREAD_COND_INITIALIZER;
    char* buffer_ = nullptr; // appended to
    std::size_t size_ = 0, capacity_ = 0;
    char* spare_ = nullptr; // being written by whoever holds write_mutex_
    std::size_t spare_capacity_ = 0;
    bool stopping_ = false;
    std::uint32_t nodes_sent_ = 0; // stack nodes 1..this are in the buffer or sent
};

extern Stream g_stream;

} // namespace memlife::preload
