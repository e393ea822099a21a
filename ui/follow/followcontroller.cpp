#include "follow/followcontroller.hpp"

#include <QElapsedTimer>
#include <QFile>

#include <algorithm>

namespace memlife::ui {

FollowController::FollowController(QObject* parent) : QObject(parent), poll_(this) {
    timer_.setInterval(kPollIntervalMs);
    connect(&timer_, &QTimer::timeout, this, &FollowController::poll);
}

FollowController::~FollowController() = default;

void FollowController::follow(const QString& path, const data::TraceCursor& cursor,
                              data::RecordingState state) {
    stop();
    path_ = path;
    cursor_ = cursor;
    state_ = state;
    following_ = state == data::RecordingState::Live;
    if (following_ && !paused_) timer_.start();
}

void FollowController::stop() {
    timer_.stop();
    poll_.discard(); // a poll still running keeps its follower until it ends
    follower_.reset();
    following_ = false;
    path_.clear();
}

void FollowController::setPaused(bool paused) {
    if (paused == paused_) return;
    paused_ = paused;
    if (paused_) {
        timer_.stop();
    } else if (following_) {
        timer_.start();
        poll();
    }
    Q_EMIT pausedChanged(paused_);
}

void FollowController::poll() {
    if (!following_ || paused_ || poll_.isRunning()) return;
    const std::string path = QFile::encodeName(path_).toStdString();
    poll_.start<PollResult>({
        [follower = follower_, path, cursor = cursor_, state = state_](const JobControl&) {
            PollResult r;
            r.follower = follower ? follower : std::make_shared<data::TraceFollower>(path);
            if (r.follower->poll()) {
                auto changes =
                    std::make_shared<data::TraceChanges>(r.follower->changes_since(cursor));
                r.state = changes->info.recording;
                // The last commit may change nothing but meta.complete: the trace's state.
                if (!changes->empty() || changes->cursor != cursor || r.state != state)
                    r.changes = std::move(changes);
            } else {
                r.state = r.follower->state();
            }
            // A finished recorder folds its WAL back once every connection is closed.
            if (r.state != data::RecordingState::Live) r.follower->release();
            return r;
        },
        [this](PollResult result) { onPolled(std::move(result)); },
        [this](const QString& message) { Q_EMIT failed(message); },
    });
}

void FollowController::onPolled(PollResult result) {
    follower_ = std::move(result.follower);
    if (result.changes) {
        cursor_ = result.changes->cursor;
        QElapsedTimer applying;
        applying.start();
        Q_EMIT changed(result.changes); // before the end: the last rows come first
        // The GUI thread spends at most about a quarter of its time on updates: a large
        // trace's updates (copying and indexing its sessions) come less often.
        const auto took = static_cast<int>(applying.elapsed());
        timer_.setInterval(
            std::clamp(kApplyShareInverse * took, kPollIntervalMs, kMaxPollIntervalMs));
    }
    if (result.state != state_) {
        state_ = result.state;
        if (state_ != data::RecordingState::Live) {
            following_ = false;
            timer_.stop();
            follower_.reset();
        }
        Q_EMIT stateChanged(state_);
    }
}

} // namespace memlife::ui
