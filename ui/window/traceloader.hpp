// Loads a trace's summary tables on a worker thread (QtConcurrent), with progress and
// cancel, and hands the finished LoadedTrace to the GUI thread. The window never waits.
#pragma once

#include <QFutureWatcher>
#include <QObject>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>

#include "jobs/workerjob.hpp"
#include "window/loadedtrace.hpp"

namespace memlife::ui {

class TraceLoader : public QObject {
    Q_OBJECT
public:
    explicit TraceLoader(QObject* parent = nullptr);
    ~TraceLoader() override; // cancels and waits for the worker

    // Starts loading; a load in progress is canceled first.
    void load(const QString& path);
    void cancel();
    bool isLoading() const;
    QString path() const { return path_; }

    // The work itself, on the calling thread. progress(percent) is called from that thread;
    // returns nullptr when canceled. Throws data::TraceError.
    static std::shared_ptr<LoadedTrace> loadNow(const QString& path,
                                                const std::function<void(int)>& progress,
                                                const std::atomic<bool>& canceled);

Q_SIGNALS:
    void started(const QString& path);
    void progressChanged(int percent);
    void loaded(const memlife::ui::TracePtr& trace);
    void failed(const QString& path, const QString& message);
    void canceled(const QString& path);

private:
    struct Outcome {
        std::shared_ptr<LoadedTrace> trace;
        QString error;
    };
    void onFinished();

    QString path_;
    QFutureWatcher<Outcome> watcher_;
    WorkerJob job_;
};

} // namespace memlife::ui
