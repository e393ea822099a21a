// Leak suspects: the sessions whose live bytes grow from request to request, that leaked
// blocks, or whose blocks outlived the connection (memlife record), ranked (through a proxy
// sorting on SortRole) by growth per request, leaked bytes or outlived bytes.
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
        OutlivedBytes,
        Outlived,
        ColumnCount
    };
    // Growth below this (bytes per request) is noise, not a suspect.
    static constexpr double kMinGrowth = 1.0;

    explicit LeakSuspectsModel(QObject* parent = nullptr);
    // Suspects, steepest growth first; inPlace: the same trace grown (new suspects last).
    void setTrace(TracePtr trace, bool inPlace = false);
};

} // namespace memlife::ui
