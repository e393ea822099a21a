// Loads a trace's summary tables in a job (jobs/jobtracker.hpp), with progress and cancel,
// and hands the finished LoadedTrace to the GUI thread. The window never waits.
#pragma once

#include <QObject>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>

#include "jobs/backgroundtask.hpp"
#include "window/loadedtrace.hpp"

namespace memlife::ui {

class TraceLoader : public BackgroundTask {
    Q_OBJECT
public:
    explicit TraceLoader(QObject* parent = nullptr);

    // Starts loading; a load in progress is superseded (it stops, nothing of it is shown).
    void load(const QString& path);
    bool isLoading() const { return isRunning(); }
    QString path() const { return subject(); }

    // The work itself, on the calling thread. progress(percent) is called from that thread;
    // returns nullptr when canceled. Throws data::TraceError.
    static std::shared_ptr<LoadedTrace> loadNow(const QString& path,
                                                const std::function<void(int)>& progress,
                                                const std::atomic<bool>& canceled);

Q_SIGNALS:
    void loaded(const memlife::ui::TracePtr& trace); // or started, failed, canceled
};

} // namespace memlife::ui
