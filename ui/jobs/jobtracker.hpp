// The one way the views run work off the GUI thread (after hotspot's JobTracker): a job runs
// on a worker of a shared pool; each start() makes a new generation and asks the previous
// job to stop; only the current generation's results reach the owner (stale ones are
// dropped), on the owner's thread, through the callbacks given to start(). A job that
// throws fails with one line of text. The owner never waits for a job, except in the
// tracker's destructor (which stops and waits for every job it started, so no job outlives
// what it reads or writes). A job stopped before a worker took it never runs its work.
//
// A tracker is a member of its owner (a QObject on the GUI thread): the callbacks run on the
// owner's thread and may use the owner freely. Workers must not: they get their inputs by
// value and read a trace through a ReaderPool (one reader per thread at a time).
#pragma once

#include <QFuture>
#include <QList>
#include <QObject>
#include <QString>

#include <atomic>
#include <climits>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>

namespace memlife::ui {

namespace detail {
struct TrackerCore;
struct JobState {
    std::uint64_t generation = 0; // 1, 2, ... per tracker: the current one's results count
    std::atomic<bool> canceled{false};
    std::atomic<int> progress{INT_MIN}; // the latest progress(), read by the queued call
    QObject* owner = nullptr;
    std::weak_ptr<TrackerCore> tracker;
    std::function<void(int)> onProgress; // owner's thread
};
} // namespace detail

// What a job sees on its worker.
class JobControl {
public:
    explicit JobControl(std::shared_ptr<detail::JobState> state) : state_(std::move(state)) {}
    // True once the job was canceled or superseded: stop soon, the result will be dropped.
    bool canceled() const { return state_->canceled.load(std::memory_order_relaxed); }
    const std::atomic<bool>& canceledFlag() const { return state_->canceled; }
    // Reports progress (a percent, or any int the owner understands): queued to the owner's
    // progress callback when the value changed and the job is still current.
    void progress(int value) const;
    // progress() as a function, for work written against std::function<void(int)>.
    std::function<void(int)> progressReporter() const {
        return [control = *this](int value) { control.progress(value); };
    }
    // Runs `update` on the owner's thread if the job is still current then (partial results).
    void post(std::function<void()> update) const;
    // post() for the job's end: the tracker marks the job finished before `update` runs.
    void finish(std::function<void()> update) const;

private:
    std::shared_ptr<detail::JobState> state_;
};

class JobTracker {
public:
    template <class Result> struct Job {
        std::function<Result(const JobControl&)> work; // on a worker; may throw
        std::function<void(Result)> done;              // owner's thread, if still current
        std::function<void(const QString&)> failed;    // the work threw: one line
        std::function<void()> canceled = {};           // cancel() was called and the job has ended
        std::function<void(int)> progress = {};        // JobControl::progress
    };

    explicit JobTracker(QObject* owner);
    ~JobTracker(); // stops every job started here and waits for their workers
    JobTracker(const JobTracker&) = delete;
    JobTracker& operator=(const JobTracker&) = delete;

    // Starts a new generation; the previous job, if any, is asked to stop and its results
    // are dropped.
    template <class Result> void start(Job<Result> job);
    // Asks the current job to stop; it still ends, with `canceled` (or `failed` if it failed
    // first). isRunning() stays true until then.
    void cancel();
    // Drops the current job: it is asked to stop and nothing of it reaches the owner.
    void discard();
    // A current job has not ended yet (its end not yet delivered to the owner).
    bool isRunning() const;

private:
    std::shared_ptr<detail::JobState> begin(std::function<void(int)> onProgress);
    void launch(std::function<void()> run);
    static QString oneLine(const char* what);

    QObject* owner_;
    std::shared_ptr<detail::TrackerCore> core_;
    QList<QFuture<void>> workers_; // every job not yet seen finished, for the destructor
};

template <class Result> void JobTracker::start(Job<Result> job) {
    const JobControl control(begin(std::move(job.progress)));
    launch([control, work = std::move(job.work), done = std::move(job.done),
            failed = std::move(job.failed), canceled = std::move(job.canceled)] {
        std::shared_ptr<Result> result;
        QString error;
        try {
            // A job stopped before a worker took it does nothing (the destructor may run it
            // on the GUI thread while waiting: it must not read then).
            if (!control.canceled()) result = std::make_shared<Result>(work(control));
        } catch (const std::exception& e) {
            error = oneLine(e.what());
        } catch (...) {
            error = QStringLiteral("unknown error");
        }
        control.finish([control, result, error, done, failed, canceled] {
            if (!error.isEmpty()) {
                if (failed) failed(error);
            } else if (control.canceled()) {
                if (canceled) canceled();
            } else {
                done(std::move(*result));
            }
        });
    });
}

} // namespace memlife::ui
