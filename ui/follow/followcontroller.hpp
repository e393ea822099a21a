// Following a trace while it is recorded: every kPollIntervalMs a job asks the trace's
// TraceFollower (memlife/data/follow.hpp) whether anything was committed; when it was, the
// same job reads what changed since the last cursor, and changed() hands it to the GUI
// thread, which applies it to the document (follow/traceupdate.hpp). One poll at a time;
// the follower's connection moves between workers with the job. When the recording ends
// (finished or stopped unexpectedly) the follower lets go of the trace at once, so that the
// recorder can fold its WAL back, and polling stops.
#pragma once

#include <QObject>
#include <QString>
#include <QTimer>

#include <memory>

#include "jobs/jobtracker.hpp"
#include "memlife/data/follow.hpp"

namespace memlife::ui {

class FollowController : public QObject {
    Q_OBJECT
public:
    // Polls every kPollIntervalMs; after an update that took the GUI thread T ms to apply,
    // every kApplyShareInverse * T ms instead, up to kMaxPollIntervalMs (a commit still
    // shows within a second).
    static constexpr int kPollIntervalMs = 100;
    static constexpr int kApplyShareInverse = 6;
    static constexpr int kMaxPollIntervalMs = 400;

    explicit FollowController(QObject* parent = nullptr);
    ~FollowController() override;

    // Follows `path` from `cursor` (what the loader read: LoadedTrace::cursor), whose state
    // the loader found to be `state`; stops following what was followed before. A trace
    // that is not live is only remembered (state() says how it ended).
    void follow(const QString& path, const data::TraceCursor& cursor, data::RecordingState state);
    // Forgets the trace (another one is opened, or none).
    void stop();

    // Pause: no polls (what is shown stays as it is); Resume: the next poll brings
    // everything committed meanwhile, as one change.
    void setPaused(bool paused);
    bool isPaused() const { return paused_; }
    // Following a live trace (paused or not).
    bool isFollowing() const { return following_; }
    data::RecordingState state() const { return state_; }
    const QString& path() const { return path_; }
    // A poll is running (tests wait on it).
    bool isPending() const { return poll_.isRunning(); }

Q_SIGNALS:
    // What was committed since the previous change (never empty).
    void changed(std::shared_ptr<const memlife::data::TraceChanges> changes);
    // Live -> Finished or Interrupted; the follower has let go of the trace.
    void stateChanged(memlife::data::RecordingState state);
    void pausedChanged(bool paused);
    // A poll failed (one line); following goes on at the next poll.
    void failed(const QString& message);

private:
    struct PollResult {
        std::shared_ptr<data::TraceFollower> follower;
        data::RecordingState state = data::RecordingState::Live;
        std::shared_ptr<const data::TraceChanges> changes; // null: nothing new
    };
    void poll();
    void onPolled(PollResult result);

    QString path_;
    std::shared_ptr<data::TraceFollower> follower_; // opened by the first poll
    data::TraceCursor cursor_;
    data::RecordingState state_ = data::RecordingState::Finished;
    bool following_ = false;
    bool paused_ = false;
    QTimer timer_;
    JobTracker poll_;
};

} // namespace memlife::ui
