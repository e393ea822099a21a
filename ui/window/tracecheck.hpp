// Reads every event and request batch of a loaded trace once, in a job, to find damage the
// loader cannot see (it reads only the summary tables): a trace with a damaged batch opens,
// and without this only the views that happen to read that batch would say so.
#pragma once

#include <QObject>

#include "jobs/jobtracker.hpp"
#include "window/loadedtrace.hpp"

namespace memlife::ui {

class TraceCheck : public QObject {
    Q_OBJECT
public:
    explicit TraceCheck(QObject* parent = nullptr);
    // Checks `trace` (a check of another trace in progress stops).
    void start(const TracePtr& trace);
    void stop();
    bool isRunning() const { return job_.isRunning(); }

Q_SIGNALS:
    void damaged(const QString& message); // the reader's one line
    void finished();                      // damaged or not

private:
    JobTracker job_;
};

} // namespace memlife::ui
