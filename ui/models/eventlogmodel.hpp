// The event log: every event of the trace (or of one session), optionally of one kind and
// only those a search finds (EventFilter). Millions of rows with bounded memory: a job counts
// the matching events (rows appear as they are counted), and data() is served from a window
// of kWindow decoded events that another job refills around the rows being looked at.
// Without a filter row r is the stream's event r, and the reader seeks there; with one, the
// count notes where every kCheckpoint-th match lies in the stream, so a refill starts at the
// checkpoint before its row instead of rescanning from the start.
#pragma once

#include <QAbstractTableModel>

#include <memory>
#include <optional>
#include <vector>

#include "jobs/jobtracker.hpp"
#include "memlife/event.hpp"
#include "models/eventfilter.hpp"
#include "window/loadedtrace.hpp"

namespace memlife::ui {

class EventLogModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        Index,
        Time,
        Session,
        Request,
        Kind,
        Notification,
        Block,
        Size,
        Scope,
        Address,
        ColumnCount
    };
    static constexpr int kWindow = 8192;
    static constexpr int kCheckpoint = kWindow / 4;

    explicit EventLogModel(QObject* parent = nullptr);

    // Restarts counting; nullopt session = all sessions, nullopt kind = every kind, an empty
    // search = no search.
    void setSource(TracePtr trace, std::optional<std::uint64_t> session,
                   std::optional<EventKind> kind, const QString& search = {});
    // The same trace, grown (followed while recorded): without a filter (kind, search) the new
    // events are appended as rows (what is shown, selected and scrolled to stays); with one the
    // count starts over.
    void grow(TracePtr trace);
    const TracePtr& trace() const { return trace_; }
    std::optional<std::uint64_t> session() const { return session_; }
    std::optional<EventKind> kind() const { return filter_ ? filter_->kind() : std::nullopt; }
    QString search() const { return filter_ ? filter_->search() : QString(); }
    bool isFiltered() const { return filter_ && !filter_->isEmpty(); }
    bool isCounting() const { return counting_.isRunning(); }
    // True while counting, exporting, or reading a window data() asked for (also while that
    // read waits for the event loop to start it).
    bool isBusy() const {
        return counting_.isRunning() || fetching_.isRunning() || exporting_.isRunning() ||
               fetchQueued_;
    }
    // The decoded event at `row` if it is in the current window.
    const Event* eventAt(int row) const;

    // Streams every matching event to a CSV file in a job; exported() follows.
    void exportCsv(const QString& file);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void countingFinished();
    void windowLoaded();
    void failed(const QString& message);
    void exported(const QString& file, const QString& error); // error empty: written

private:
    void requestWindow(int row) const;
    void startFetch(int row);
    void appendCounted(std::uint64_t total);
    void showHead(const std::vector<Event>& head);
    // The text of every column but Index; firstNs is the trace's start, resolutionNs its
    // clock's (times are never shown finer).
    static QStringList rowText(const Event& event, std::uint64_t firstNs,
                               std::uint64_t resolutionNs);

    TracePtr trace_;
    std::optional<std::uint64_t> session_;
    std::shared_ptr<const EventFilter> filter_; // null: every event
    // checkpoints_[k]: the stream position (events before it, of the session's stream if
    // one) of match k * kCheckpoint, as counted so far.
    std::vector<std::uint64_t> checkpoints_;
    int rows_ = 0;
    int windowStart_ = 0;
    std::vector<Event> window_;
    mutable int wantedRow_ = -1; // set by data() for rows outside the window
    mutable bool fetchQueued_ = false;
    JobTracker counting_;
    JobTracker fetching_;
    JobTracker exporting_;
};

} // namespace memlife::ui
