// The sessions table (one row per connection, from the trace's summary table) and its
// sort/filter proxy. Sorting uses SortRole (raw numbers), never the formatted text.
#pragma once

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

#include "memlife/ui/loadedtrace.hpp"

namespace memlife::ui {

enum ItemRole {
    SortRole = Qt::UserRole + 1, // raw value (qulonglong / double / QString)
    SessionIdRole,               // qulonglong session id of the row
    ProblemRole,                 // bool: the row has a corruption or a leak
    BlockIdRole,                 // qulonglong block id (blocks, events)
};

class SessionsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        Id,
        Peer,
        Opened,
        Closed,
        Duration,
        Requests,
        PeakBytes,
        ReleasedAtClose,
        GrowthPerRequest,
        Corruptions,
        Leaks,
        ColumnCount
    };

    explicit SessionsModel(QObject* parent = nullptr);
    void setTrace(TracePtr trace);
    const data::SessionRow* row(int row) const;
    int rowOf(std::uint64_t session) const; // -1 if absent

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    TracePtr trace_;
};

// Filters by a text (matches the id or the peer) and optionally to problem rows only.
class SessionsProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit SessionsProxy(QObject* parent = nullptr);
    void setText(const QString& text);
    void setProblemsOnly(bool only);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    QString text_;
    bool problemsOnly_ = false;
};

} // namespace memlife::ui
