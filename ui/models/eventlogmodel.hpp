// The event log: every event of the trace (or of one session), optionally of one kind.
// Millions of rows with bounded memory: a worker counts the matching events (rows appear
// as they are counted), and data() is served from a window of kWindow decoded events that
// another worker refills around the rows being looked at. The reader streams and cannot
// seek, so a refill rescans from the start and skips: cost grows with the row number.
#pragma once

#include <QAbstractTableModel>

#include <optional>
#include <vector>

#include "jobs/backgroundtasks.hpp"
#include "memlife/event.hpp"
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

    explicit EventLogModel(QObject* parent = nullptr);
    ~EventLogModel() override;

    // Restarts counting; nullopt session = all sessions, nullopt kind = every kind.
    void setSource(TracePtr trace, std::optional<std::uint64_t> session,
                   std::optional<EventKind> kind);
    const TracePtr& trace() const { return trace_; }
    std::optional<std::uint64_t> session() const { return session_; }
    std::optional<EventKind> kind() const { return kind_; }
    bool isCounting() const { return counting_; }
    // True while counting or while a window requested by data() is being read.
    bool isBusy() const { return counting_ || fetching_; }
    // The decoded event at `row` if it is in the current window.
    const Event* eventAt(int row) const;

    // Streams every matching event to a CSV file (on the calling thread).
    bool exportCsv(const QString& file, QString* error) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void countingFinished();
    void windowLoaded();
    void failed(const QString& message);

private:
    bool matches(const Event& event) const;
    void requestWindow(int row) const;
    void startFetch(int row);
    void appendCounted(std::uint64_t total);
    QStringList rowText(const Event& event) const;

    TracePtr trace_;
    std::optional<std::uint64_t> session_;
    std::optional<EventKind> kind_;
    std::uint64_t generation_ = 0;
    int rows_ = 0;
    bool counting_ = false;
    bool fetching_ = false;
    int windowStart_ = 0;
    std::vector<Event> window_;
    mutable int wantedRow_ = -1; // set by data() for rows outside the window
    mutable bool fetchQueued_ = false;
    BackgroundTasks tasks_;
};

} // namespace memlife::ui
