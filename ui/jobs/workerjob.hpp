// The cancel flag and the progress of the one job a GUI object runs on a worker thread
// (TraceLoader, ImportTask). Every job gets new flags, so a late progress report of a job
// that was canceled or replaced is never shown.
#pragma once

#include <QObject>

#include <atomic>
#include <functional>
#include <memory>

namespace memlife::ui {

class WorkerJob {
public:
    // A new job, at `initialPercent`; returns its cancel flag for the worker.
    std::shared_ptr<std::atomic<bool>> begin(int initialPercent);
    void cancel() {
        if (cancel_) cancel_->store(true);
    }
    bool canceled() const { return cancel_ && cancel_->load(); }
    void end() { cancel_.reset(); }

    // progress(percent) for the worker: when the percent changed, queues emit(percent) on
    // `receiver`'s thread, which runs if this is still the current job.
    std::function<void(int)> reporter(QObject* receiver, std::function<void(int)> emit);

private:
    std::shared_ptr<std::atomic<bool>> cancel_;
    std::shared_ptr<std::atomic<int>> progress_; // latest percent, read by the queued call
};

} // namespace memlife::ui
