// Leak suspects: the sessions whose live bytes grow from request to request or that leaked
// blocks, ranked (through a proxy sorting on SortRole) by growth per request or leaked bytes.
#pragma once

#include <QAbstractTableModel>

#include <vector>

#include "window/loadedtrace.hpp"

namespace memlife::ui {

class LeakSuspectsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        Session,
        Peer,
        GrowthPerRequest,
        LeakedBytes,
        Leaks,
        Requests,
        PeakBytes,
        ColumnCount
    };
    // Growth below this (bytes per request) is noise, not a suspect.
    static constexpr double kMinGrowth = 1.0;

    explicit LeakSuspectsModel(QObject* parent = nullptr);
    void setTrace(TracePtr trace);
    const data::SessionRow* row(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    TracePtr trace_;
    std::vector<const data::SessionRow*> rows_; // suspects, steepest growth first
};

} // namespace memlife::ui
