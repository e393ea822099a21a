// The recorder's writer loop: a background thread that drains the producer queue into a
// TraceWriter, at once when a chunk fills and at least every flush interval, and commits.
// It commits that often even while producers never pause (a commit does not wait for the
// writer to catch up), serves flush requests, and after a write failure keeps draining
// (and discarding) so that producers never block.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "recorder_queue.hpp"
#include "trace_writer.hpp"

namespace memlife::data {

class WriterLoop {
public:
    // Writes into `db` (a trace whose schema exists); starts the thread. `on_failure` is
    // called once, on the thread, with the reason of the first write failure.
    WriterLoop(EventQueue& queue, sqlite3* db, std::uint32_t flush_interval_ms,
               std::function<void(const std::string& reason)> on_failure = {},
               std::shared_ptr<StackSource> stacks = nullptr);
    ~WriterLoop(); // stops the thread (as stop())
    WriterLoop(const WriterLoop&) = delete;
    WriterLoop& operator=(const WriterLoop&) = delete;

    // The queue published a chunk (any thread).
    void wake() noexcept;
    // Waits until everything appended before the call is committed (any thread).
    void flush() noexcept;
    // Importers: counts stored in the trace's metadata.
    void set_skipped_lines(std::uint64_t n) { skipped_lines_.store(n); }
    void set_malformed_lines(std::uint64_t n) { malformed_lines_.store(n); }
    // A `meta` value written at the next commit (any thread).
    void set_meta(const std::string& key, const std::string& value);

    // Stops the thread and closes the queue, then drains what is left and commits it as the
    // complete trace. Returns the first failure ("" on success). The TraceWriter is gone
    // afterwards (its statements finalized), so the file can be closed.
    std::string finish();
    // Stops the thread and closes the queue without a final commit.
    void stop() noexcept;
    // A write has failed (any thread); error() says why.
    bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }
    std::string error();

private:
    void run();
    void stop_thread() noexcept;
    TraceWriter::Counters counters(bool complete);

    EventQueue& queue_;
    std::unique_ptr<TraceWriter> writer_;
    const std::chrono::milliseconds interval_;
    std::atomic<std::uint64_t> skipped_lines_{0}, malformed_lines_{0};
    const std::function<void(const std::string&)> on_failure_;
    std::atomic<bool> failed_{false};
    std::mutex meta_mutex_;
    TraceWriter::Meta meta_; // guarded by meta_mutex_

    std::mutex mutex_; // guards the fields below
    std::condition_variable work_cv_, flushed_cv_;
    std::atomic<bool> waiting_{false}; // the thread is about to sleep (see wake())
    bool work_hint_ = false, stop_ = false, exited_ = false;
    std::uint64_t flush_requested_ = 0, flush_done_ = 0;
    std::string error_; // the first write failure
    std::thread thread_;
};

} // namespace memlife::data
