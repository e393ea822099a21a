// Leak suspects: the sessions whose live bytes grow from request to request or that leaked
// blocks, ranked (through a proxy sorting on SortRole) by growth per request or leaked bytes.
#pragma once

#include "models/sessiontablemodel.hpp"

namespace memlife::ui {

class LeakSuspectsModel : public SessionTableModel {
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
    void setTrace(TracePtr trace); // suspects, steepest growth first
};

} // namespace memlife::ui
