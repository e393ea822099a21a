#include "models/leaksuspectsmodel.hpp"

#include <algorithm>

#include "style/format.hpp"

namespace memlife::ui {

namespace {

// In LeakSuspectsModel::Column order.
std::vector<SessionTableModel::Column> columns() {
    using Row = const data::SessionRow&;
    using Trace = const LoadedTrace&;
    SessionTableModel::Column growth = SessionTableModel::growthColumn();
    growth.toolTip = nullptr; // the ranking says what it is
    return {
        SessionTableModel::idColumn(QT_TR_NOOP("Session")),
        SessionTableModel::peerColumn(),
        growth,
        {QT_TR_NOOP("Leaked"),
         [](Row s, Trace) { return QVariant::fromValue<qulonglong>(s.leaked_bytes); },
         [](Row s, Trace) { return formatBytes(double(s.leaked_bytes)); }},
        {QT_TR_NOOP("Leaked blocks"),
         [](Row s, Trace) { return QVariant::fromValue<qulonglong>(s.leaks); },
         [](Row s, Trace) { return formatCount(s.leaks); }},
        SessionTableModel::requestsColumn(),
        SessionTableModel::peakColumn(),
        {QT_TR_NOOP("Outlived"),
         [](Row s, Trace) { return QVariant::fromValue<qulonglong>(s.outlived_bytes); },
         [](Row s, Trace) { return formatBytes(double(s.outlived_bytes)); }},
        {QT_TR_NOOP("Outlived blocks"),
         [](Row s, Trace) { return QVariant::fromValue<qulonglong>(s.outlived); },
         [](Row s, Trace) { return formatCount(s.outlived); }},
        // Filled from the growing sites (LeakSuspectsModel::data).
        {QT_TR_NOOP("Suspect stack"), [](Row, Trace) { return QVariant(); },
         [](Row, Trace) { return QString(); },
         QT_TR_NOOP("The call stack whose live bytes grow most per request in the session, or "
                    "that allocated the blocks which outlived its connection (its allocating "
                    "function; the whole stack in the tool tip)"),
         Qt::AlignLeft},
    };
}

} // namespace

LeakSuspectsModel::LeakSuspectsModel(QObject* parent)
    : SessionTableModel(
          columns(), {.tintCorruptions = false, .rowToolTips = false, .rankHeader = true}, parent) {
}

void LeakSuspectsModel::setGrowingSites(GrowingSites sites) {
    sites_ = std::move(sites);
    if (rowCount() > 0)
        Q_EMIT dataChanged(index(0, GrowingStack), index(rowCount() - 1, GrowingStack));
}

std::vector<std::uint64_t> LeakSuspectsModel::sessionIds() const {
    std::vector<std::uint64_t> ids;
    for (int r = 0; r < rowCount(); ++r)
        ids.push_back(row(r)->id);
    return ids;
}

QVariant LeakSuspectsModel::data(const QModelIndex& index, int role) const {
    if (index.column() != GrowingStack || !index.isValid() ||
        (role != Qt::DisplayRole && role != SortRole && role != Qt::ToolTipRole))
        return SessionTableModel::data(index, role);
    const data::SessionRow* session = row(index.row());
    const auto it = session ? sites_.find(session->id) : sites_.end();
    if (it == sites_.end()) return role == SortRole ? QVariant(QString()) : QVariant();
    const GrowingSite& site = it->second;
    switch (role) {
    case Qt::DisplayRole:
        if (site.growth <= 0 && site.kept_bytes > 0)
            return tr("%1 (%2 outlived the connection)")
                .arg(site.frame, formatBytes(double(site.kept_bytes)));
        return tr("%1 (+%2/request)").arg(site.frame, formatBytes(site.growth));
    case SortRole:
        return site.frame;
    default:
        return site.stackHtml;
    }
}

void LeakSuspectsModel::setTrace(TracePtr trace, bool inPlace) {
    if (!inPlace) sites_.clear(); // the same sessions, grown: their sites stay until refreshed
    std::vector<const data::SessionRow*> rows;
    if (trace) {
        for (const auto& s : trace->sessions)
            if (s.growth_bytes_per_request >= kMinGrowth || s.leaked_bytes > 0 || s.outlived > 0)
                rows.push_back(&s);
        std::stable_sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) {
            return a->growth_bytes_per_request > b->growth_bytes_per_request;
        });
    }
    setRows(std::move(trace), std::move(rows), inPlace);
}

} // namespace memlife::ui
