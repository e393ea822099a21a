// A task the user sees in the status bar (loading a trace, importing a log): one job at a
// time, about a subject (a file), with progress, cancel and the outcome as signals. The one
// job lifecycle of the window's long tasks; the work itself is the subclass'.
#pragma once

#include <QObject>
#include <QString>

#include <functional>

#include "jobs/jobtracker.hpp"

namespace memlife::ui {

class BackgroundTask : public QObject {
    Q_OBJECT
public:
    explicit BackgroundTask(QObject* parent = nullptr);

    // Asks the running job to stop; canceled() follows when it has.
    void cancel();
    bool isRunning() const;
    // The file the current (or last) job is about.
    const QString& subject() const { return subject_; }

Q_SIGNALS:
    void started(const QString& subject);
    void progressChanged(int percent);                           // what the subclass' work reports
    void failed(const QString& subject, const QString& message); // message: one line
    void canceled(const QString& subject);

protected:
    // Runs `work` in a job about `subject`, superseding a job still running (its outcome is
    // dropped); `done` gets the result unless the job was canceled. A failure is one line:
    // data::TraceError and data::ImportError already name their file, any other error gets
    // "subject: " in front.
    template <class Result>
    void run(const QString& subject, std::function<Result(const JobControl&)> work,
             std::function<void(Result)> done);

private:
    static void rethrowNamed(const QString& subject);
    QString subject_;
    JobTracker job_; // its destructor cancels and waits for the worker
};

template <class Result>
void BackgroundTask::run(const QString& subject, std::function<Result(const JobControl&)> work,
                         std::function<void(Result)> done) {
    subject_ = subject;
    Q_EMIT started(subject);
    job_.start<Result>({
        .work = [subject, work = std::move(work)](const JobControl& job) -> Result {
            try {
                return work(job);
            } catch (...) {
                rethrowNamed(subject);
                throw; // not reached
            }
        },
        .done = std::move(done),
        .failed = [this](const QString& message) { Q_EMIT failed(subject_, message); },
        .canceled = [this] { Q_EMIT canceled(subject_); },
        .progress = [this](int percent) { Q_EMIT progressChanged(percent); },
    });
}

} // namespace memlife::ui
