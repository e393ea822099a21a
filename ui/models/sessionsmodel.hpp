// The sessions table: one row per connection, from the trace's summary table.
#pragma once

#include <QAbstractTableModel>

#include "models/itemroles.hpp"
#include "window/loadedtrace.hpp"

namespace memlife::ui {

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

} // namespace memlife::ui
