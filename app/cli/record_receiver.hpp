// The receiving end of `memlife record`: a Unix socket in a private directory; every
// recorded process connects once (a forked child anew) and streams frames (app/preload/
// wire.hpp), which a thread per process turns into the trace's events through one
// data::Recorder. Session ids are the processes' own; the receiver numbers them for the
// trace, and labels each peer with its process id.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "memlife/data/recorder.hpp"
#include "recorded_stacks.hpp"

namespace memlife::cli {

struct RecordTotals {
    std::uint64_t processes = 0; // processes that recorded at least one connection
    std::uint64_t sessions = 0;  // connections
    std::uint64_t requests = 0;  // request turns
    std::uint64_t outlived = 0;  // blocks that outlived their connection
    std::uint64_t outlived_bytes = 0;
    std::uint64_t process_allocs = 0; // allocations while no connection was current
    std::uint64_t process_bytes = 0;
    std::uint64_t protocol_errors = 0; // streams cut off because a frame made no sense
    std::string first_command; // the first process's command line, arguments space-separated
};

class RecordReceiver {
public:
    // Creates the private directory and the listening socket. Throws std::runtime_error.
    // `stacks`: the recorder's stack source (RecorderOptions::stack_source), which the
    // processes' stacks go into.
    RecordReceiver(data::Recorder& recorder, RecordedStacks& stacks);
    ~RecordReceiver(); // stops accepting, cuts every stream, removes the directory
    RecordReceiver(const RecordReceiver&) = delete;
    RecordReceiver& operator=(const RecordReceiver&) = delete;

    const std::string& socket_path() const { return socket_path_; }
    // Accepts no new process (the program has ended).
    void stop_accepting();
    // Processes still streaming.
    std::size_t active() const { return active_.load(); }
    // Waits up to `timeout` for every stream to end; true when none is left.
    bool wait_idle(std::chrono::milliseconds timeout);
    // Ends every stream now (what they did not send yet is lost) and waits for the threads.
    void disconnect_all();
    RecordTotals totals() const;

private:
    struct Client;
    void accept_loop();
    void serve(Client& client);

    data::Recorder& recorder_;
    RecordedStacks& stacks_;
    std::string directory_, socket_path_;
    int listen_fd_ = -1;
    int wake_[2] = {-1, -1}; // stops accept_loop
    std::thread acceptor_;
    std::atomic<std::uint64_t> next_session_{0};
    std::atomic<std::size_t> active_{0};
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<Client>> clients_;
    RecordTotals totals_;
};

} // namespace memlife::cli
