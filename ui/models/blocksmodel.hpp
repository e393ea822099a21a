// The blocks of one session (size, scope, notification, lifetime, tail status), read in a
// job. A session can hold millions of blocks: at most kMaxBlocks are kept.
#pragma once

#include <QAbstractTableModel>

#include <vector>

#include "jobs/jobtracker.hpp"
#include "window/loadedtrace.hpp"

namespace memlife::ui {

class BlocksModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        Id,
        Size,
        Scope,
        Origin,
        Notification,
        Request,
        AllocatedAt,
        ReleasedAt,
        Tail,
        Leaked,
        Address,
        ColumnCount
    };
    static constexpr std::size_t kMaxBlocks = 250'000;

    explicit BlocksModel(QObject* parent = nullptr);

    // Starts reading the session's blocks; loaded() follows (or failed()).
    void setSession(TracePtr trace, std::uint64_t session);
    std::uint64_t session() const { return session_; }
    bool isLoading() const { return job_.isRunning(); }
    std::uint64_t totalBlocks() const { return total_; } // in the session, may exceed rows
    const data::BlockRow* row(int row) const;
    // The text of a time column's cell: every row of a column in one unit (the one the
    // column's latest time needs), so the digits line up; never finer than the trace's clock.
    QString timeText(std::uint64_t ns) const;
    // The Released column: the time, or what released a leaked block (its scope's end: "at
    // request end", "at connection close"), or "live" / "never" for a block live at the end.
    QString releasedText(const data::BlockRow& block) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void loaded();
    void failed(const QString& message);

private:
    void chooseTimeUnit();

    TracePtr trace_;
    std::uint64_t session_ = 0;
    std::uint64_t total_ = 0;
    std::vector<data::BlockRow> rows_;
    double timeScale_ = 1; // ns per unit of the time columns
    QString timeSymbol_ = QStringLiteral("ns");
    int timeDecimals_ = 0;
    JobTracker job_;
};

} // namespace memlife::ui
