#include "models/sessionsmodel.hpp"

#include "style/format.hpp"

namespace memlife::ui {

namespace {

QVariant number(std::uint64_t n) {
    return QVariant::fromValue<qulonglong>(n);
}

// Times are shown from the start of the trace.
double sinceStart(std::uint64_t ns, const LoadedTrace& trace) {
    return double(ns - std::min(trace.firstNs(), ns));
}

double duration(const data::SessionRow& s, const LoadedTrace& trace) {
    const std::uint64_t end = s.closed() ? s.close_ns : trace.lastNs();
    return end > s.open_ns ? double(end - s.open_ns) : 0.0;
}

QString tr(const char* text) {
    return SessionTableModel::tr(text);
}

// In SessionsModel::Column order.
std::vector<SessionTableModel::Column> columns() {
    using Row = const data::SessionRow&;
    using Trace = const LoadedTrace&;
    return {
        SessionTableModel::idColumn(QT_TR_NOOP("Session")),
        SessionTableModel::peerColumn(),
        {QT_TR_NOOP("Opened"), [](Row s, Trace) { return number(s.open_ns); },
         [](Row s, Trace t) { return formatDuration(sinceStart(s.open_ns, t)); },
         QT_TR_NOOP("Time since the start of the trace")},
        {QT_TR_NOOP("Closed"),
         [](Row s, Trace) { return number(s.closed() ? s.close_ns : UINT64_MAX); },
         [](Row s, Trace t) {
             return s.closed() ? formatDuration(sinceStart(s.close_ns, t)) : tr("open");
         },
         QT_TR_NOOP("Time since the start of the trace")},
        {QT_TR_NOOP("Duration"), [](Row s, Trace t) { return QVariant(duration(s, t)); },
         [](Row s, Trace t) {
             return s.closed() ? formatDuration(duration(s, t))
                               : tr("≥ %1").arg(formatDuration(duration(s, t)));
         }},
        SessionTableModel::requestsColumn(),
        SessionTableModel::peakColumn(),
        {QT_TR_NOOP("Released at close"),
         [](Row s, Trace) { return number(s.released_at_close_bytes); },
         [](Row s, Trace) { return formatBytes(double(s.released_at_close_bytes)); },
         QT_TR_NOOP("Bytes released at END_OF_NET_SESSION")},
        SessionTableModel::growthColumn(),
        {QT_TR_NOOP("Corruptions"), [](Row s, Trace) { return number(s.corruptions); },
         [](Row s, Trace) { return formatCount(s.corruptions); }},
        {QT_TR_NOOP("Leaks"), [](Row s, Trace) { return number(s.leaks); },
         [](Row s, Trace) {
             return s.leaks ? tr("%1 (%2)").arg(formatCount(s.leaks),
                                                formatBytes(double(s.leaked_bytes)))
                            : QStringLiteral("0");
         },
         QT_TR_NOOP("Leaked blocks (leaked bytes)")},
        {QT_TR_NOOP("Outlived"), [](Row s, Trace) { return number(s.outlived); },
         [](Row s, Trace) {
             return s.outlived ? tr("%1 (%2)").arg(formatCount(s.outlived),
                                                   formatBytes(double(s.outlived_bytes)))
                               : QStringLiteral("0");
         },
         QT_TR_NOOP("Blocks still live after the connection closed (memlife record)")},
    };
}

} // namespace

SessionsModel::SessionsModel(QObject* parent) : SessionTableModel(columns(), {}, parent) {}

void SessionsModel::setTrace(TracePtr trace) {
    std::vector<const data::SessionRow*> rows;
    if (trace) {
        rows.reserve(trace->sessions.size());
        for (const data::SessionRow& s : trace->sessions)
            rows.push_back(&s);
    }
    setRows(std::move(trace), std::move(rows));
}

int SessionsModel::rowOf(std::uint64_t session) const {
    if (!trace()) return -1;
    const data::SessionRow* found = trace()->session(session);
    return found ? static_cast<int>(found - trace()->sessions.data()) : -1; // rows: all, in order
}

} // namespace memlife::ui
