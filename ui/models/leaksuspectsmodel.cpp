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
    };
}

} // namespace

LeakSuspectsModel::LeakSuspectsModel(QObject* parent)
    : SessionTableModel(
          columns(), {.tintCorruptions = false, .rowToolTips = false, .rankHeader = true}, parent) {
}

void LeakSuspectsModel::setTrace(TracePtr trace, bool inPlace) {
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
