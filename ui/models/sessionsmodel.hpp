// The sessions table: one row per connection, from the trace's summary table, in the
// trace's order.
#pragma once

#include "models/sessiontablemodel.hpp"

namespace memlife::ui {

class SessionsModel : public SessionTableModel {
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
        Outlived,
        ColumnCount
    };

    explicit SessionsModel(QObject* parent = nullptr);
    // inPlace: the same trace grown (SessionTableModel::setRows).
    void setTrace(TracePtr trace, bool inPlace = false);
    int rowOf(std::uint64_t session) const; // -1 if absent
};

} // namespace memlife::ui
