#include "recorder_writer.hpp"

#include <algorithm>
#include <exception>

namespace memlife::data {

using Clock = EventQueue::Clock;

WriterLoop::WriterLoop(EventQueue& queue, sqlite3* db, std::uint32_t flush_interval_ms,
                       std::function<void(const std::string&)> on_failure,
                       std::shared_ptr<StackSource> stacks)
    : queue_(queue), writer_(std::make_unique<TraceWriter>(db, std::move(stacks))),
      interval_(std::max<std::uint32_t>(1, flush_interval_ms)), on_failure_(std::move(on_failure)) {
    thread_ = std::thread([this] { run(); });
}

WriterLoop::~WriterLoop() {
    stop();
}

// A producer stored a chunk's `next` (seq_cst) and then loads `waiting_`; the thread stores
// `waiting_` and then loads the chunks' `next` (full_chunk_waiting), all four seq_cst: either
// the thread sees the chunk or the producer sees it waiting.
void WriterLoop::wake() noexcept {
    if (waiting_.load(std::memory_order_seq_cst)) {
        std::lock_guard lock(mutex_);
        work_hint_ = true;
        work_cv_.notify_one();
    }
}

void WriterLoop::flush() noexcept {
    std::unique_lock lock(mutex_);
    if (exited_) return;
    const std::uint64_t target = ++flush_requested_;
    work_cv_.notify_one();
    flushed_cv_.wait(lock, [&] { return flush_done_ >= target || exited_; });
}

void WriterLoop::set_meta(const std::string& key, const std::string& value) {
    std::lock_guard lock(meta_mutex_);
    for (auto& entry : meta_)
        if (entry.first == key) return void(entry.second = value);
    meta_.emplace_back(key, value);
}

TraceWriter::Counters WriterLoop::counters(bool complete) {
    std::lock_guard lock(meta_mutex_);
    return {queue_.dropped(), skipped_lines_.load(), malformed_lines_.load(), complete, meta_};
}

void WriterLoop::run() {
    auto last_commit = Clock::now();
    bool failed = false;
    std::uint64_t flush_seen = 0; // the last flush request already served
    for (;;) {
        std::uint64_t flush_target = 0;
        bool stopping = false;
        {
            std::unique_lock lock(mutex_);
            if (!stop_ && !work_hint_ && flush_requested_ == flush_done_) {
                waiting_.store(true, std::memory_order_seq_cst);
                lock.unlock();
                const bool work = queue_.full_chunk_waiting();
                lock.lock();
                if (!work)
                    work_cv_.wait_until(lock, last_commit + interval_, [&] {
                        return stop_ || work_hint_ || flush_requested_ != flush_done_;
                    });
                waiting_.store(false, std::memory_order_relaxed);
            }
            work_hint_ = false;
            flush_target = flush_requested_;
            stopping = stop_;
        }
        try {
            if (failed) {
                queue_.discard_all();
            } else {
                const auto now = Clock::now();
                const bool must_drain = flush_target != flush_seen || stopping;
                const bool commit = now - last_commit >= interval_ || must_drain;
                // A flush or the stop needs everything; a periodic commit takes what a
                // quarter interval drains (the rest goes into the next one), and drains
                // between commits end when the next commit is due.
                queue_.drain_all(*writer_, commit,
                                 must_drain ? Clock::time_point::max()
                                 : commit   ? now + interval_ / 4
                                            : last_commit + interval_);
                if (commit) {
                    writer_->commit(counters(false), false);
                    last_commit = Clock::now();
                }
            }
        } catch (const std::exception& ex) {
            failed = true;
            {
                std::lock_guard lock(mutex_);
                if (error_.empty()) error_ = ex.what();
            }
            failed_.store(true, std::memory_order_release);
            // At once, not at the end: the program may stop producing (serve, simulate).
            if (on_failure_) on_failure_(ex.what());
        }
        {
            std::lock_guard lock(mutex_);
            flush_seen = flush_target;
            if (flush_target > flush_done_) {
                flush_done_ = flush_target;
                flushed_cv_.notify_all();
            }
            if (stopping) {
                exited_ = true;
                flushed_cv_.notify_all();
                return;
            }
        }
    }
}

void WriterLoop::stop_thread() noexcept {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
        work_cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
    queue_.close();
}

std::string WriterLoop::finish() {
    stop_thread();
    std::string error;
    {
        std::lock_guard lock(mutex_);
        error = error_;
    }
    if (error.empty() && writer_) {
        try {
            queue_.drain_all(*writer_, true); // anything appended while the thread stopped
            writer_->commit(counters(true), true);
        } catch (const std::exception& ex) {
            error = ex.what();
        }
    }
    writer_.reset();
    return error;
}

std::string WriterLoop::error() {
    std::lock_guard lock(mutex_);
    return error_;
}

void WriterLoop::stop() noexcept {
    stop_thread();
    writer_.reset();
}

} // namespace memlife::data
