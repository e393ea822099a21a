// Leak suspects: the sessions whose live bytes grow from request to request, that leaked
// blocks, or whose blocks outlived the connection (memlife record), ranked (through a proxy
// sorting on SortRole) by growth per request, leaked bytes or outlived bytes;
// with call stacks, the stack that grows most in each (read in a job by the page).
#pragma once

#include <unordered_map>

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
        GrowingStack,
        ColumnCount
    };
    // Growth below this (bytes per request) is noise, not a suspect.
    static constexpr double kMinGrowth = 1.0;

    explicit LeakSuspectsModel(QObject* parent = nullptr);
    // Suspects, steepest growth first; inPlace: the same trace grown (new suspects last).
    void setTrace(TracePtr trace, bool inPlace = false);

    // The stack that grows most in a session: its innermost frame, the whole stack (a tool
    // tip) and its growth per request. A session that does not grow but kept blocks after
    // its connection closed (memlife record) gets the stack that allocated most of those
    // bytes instead, with `kept_bytes`.
    struct GrowingSite {
        QString frame;
        QString stackHtml;
        double growth = 0;
        std::uint64_t kept_bytes = 0;
    };
    using GrowingSites = std::unordered_map<std::uint64_t, GrowingSite>; // by session
    void setGrowingSites(GrowingSites sites);
    const GrowingSites& growingSites() const { return sites_; }
    // The suspects' session ids, in row order.
    std::vector<std::uint64_t> sessionIds() const;

    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

private:
    GrowingSites sites_;
};

} // namespace memlife::ui
