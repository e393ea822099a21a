#include "jobs/jobtracker.hpp"

#include <QMetaObject>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>

namespace memlife::ui {

namespace detail {
// The tracker's state that queued calls check (on the owner's thread only): a call of a job
// that is no longer current, or of a tracker that is gone, does nothing.
struct TrackerCore {
    std::shared_ptr<JobState> current; // null: no job running
    std::uint64_t generations = 0;     // started so far
};
} // namespace detail

namespace {

// Jobs are short reads and long scans (an event count, an import); a few more threads than
// cores keep a short one from queueing behind long ones. Shared by every tracker.
QThreadPool& jobPool() {
    static QThreadPool* pool = [] {
        auto* p = new QThreadPool;
        p->setMaxThreadCount(std::max(4, QThread::idealThreadCount()));
        return p;
    }();
    return *pool;
}

// Queues `update` to the job's owner; it runs if the job is still current then.
void postIfCurrent(const std::shared_ptr<detail::JobState>& state, bool last,
                   std::function<void()> update) {
    QMetaObject::invokeMethod(
        state->owner,
        [state, last, update = std::move(update)] {
            const auto core = state->tracker.lock();
            if (!core || !core->current || core->current->generation != state->generation)
                return; // stale: a newer job started, or this one was discarded
            if (last) core->current.reset();
            update();
        },
        Qt::QueuedConnection);
}

} // namespace

void JobControl::progress(int value) const {
    if (!state_->onProgress || state_->progress.exchange(value) == value) return;
    postIfCurrent(state_, false, [state = state_] { state->onProgress(state->progress.load()); });
}

void JobControl::post(std::function<void()> update) const {
    postIfCurrent(state_, false, std::move(update));
}

void JobControl::finish(std::function<void()> update) const {
    postIfCurrent(state_, true, std::move(update));
}

JobTracker::JobTracker(QObject* owner)
    : owner_(owner), core_(std::make_shared<detail::TrackerCore>()) {}

JobTracker::~JobTracker() {
    discard();
    for (QFuture<void>& worker : workers_)
        worker.waitForFinished();
}

std::shared_ptr<detail::JobState> JobTracker::begin(std::function<void(int)> onProgress) {
    discard();
    auto state = std::make_shared<detail::JobState>();
    state->generation = ++core_->generations;
    state->owner = owner_;
    state->tracker = core_;
    state->onProgress = std::move(onProgress);
    core_->current = state;
    return state;
}

void JobTracker::launch(std::function<void()> run) {
    workers_.removeIf([](const QFuture<void>& worker) { return worker.isFinished(); });
    workers_.push_back(QtConcurrent::run(&jobPool(), std::move(run)));
}

void JobTracker::cancel() {
    if (core_->current) core_->current->canceled = true;
}

void JobTracker::discard() {
    cancel();
    core_->current.reset();
}

bool JobTracker::isRunning() const {
    return core_->current != nullptr;
}

QString JobTracker::oneLine(const char* what) {
    QString line = QString::fromUtf8(what).simplified(); // newlines and runs of blanks: one space
    return line.isEmpty() ? QStringLiteral("unknown error") : line;
}

} // namespace memlife::ui
