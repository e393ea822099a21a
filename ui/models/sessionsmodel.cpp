#include "models/sessionsmodel.hpp"

#include "memlife/data/units.hpp"
#include "style/format.hpp"

namespace memlife::ui {

namespace {

QVariant number(std::uint64_t n) {
    return QVariant::fromValue<qulonglong>(n);
}

// Times are shown from the start of the trace, never finer than its clock.
QString timeText(std::uint64_t ns, const LoadedTrace& trace) {
    return formatTime(ns, trace.firstNs(), trace.info.time_resolution_ns);
}

std::uint64_t end(const data::SessionRow& s, const LoadedTrace& trace) {
    return s.closed() ? s.close_ns : trace.lastNs();
}

// As the clock measured it (whole steps of a coarse clock), so that sorting agrees with
// the text.
std::uint64_t duration(const data::SessionRow& s, const LoadedTrace& trace) {
    return data::interval_ns(s.open_ns, end(s, trace), trace.info.time_resolution_ns);
}

QString durationText(const data::SessionRow& s, const LoadedTrace& trace) {
    return formatInterval(s.open_ns, end(s, trace), trace.info.time_resolution_ns);
}

QString tr(const char* text) {
    return SessionTableModel::tr(text);
}

constexpr const char* kTimeToolTip =
    QT_TR_NOOP("Time since the start of the trace. A trace stamped to the second (an nginx "
               "import) shows the second and the order within it: \"12 s #3\" is the third "
               "stamp in second 12");

// In SessionsModel::Column order.
std::vector<SessionTableModel::Column> columns() {
    using Row = const data::SessionRow&;
    using Trace = const LoadedTrace&;
    return {
        SessionTableModel::idColumn(QT_TR_NOOP("Session")),
        SessionTableModel::peerColumn(),
        {QT_TR_NOOP("Opened"), [](Row s, Trace) { return number(s.open_ns); },
         [](Row s, Trace t) { return timeText(s.open_ns, t); }, kTimeToolTip},
        {QT_TR_NOOP("Closed"),
         [](Row s, Trace) { return number(s.closed() ? s.close_ns : UINT64_MAX); },
         [](Row s, Trace t) { return s.closed() ? timeText(s.close_ns, t) : tr("open"); },
         kTimeToolTip},
        {QT_TR_NOOP("Duration"), [](Row s, Trace t) { return number(duration(s, t)); },
         [](Row s, Trace t) {
             return s.closed() ? durationText(s, t) : tr("≥ %1").arg(durationText(s, t));
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

void SessionsModel::setTrace(TracePtr trace, bool inPlace) {
    std::vector<const data::SessionRow*> rows;
    if (trace) {
        rows.reserve(trace->sessions.size());
        for (const data::SessionRow& s : trace->sessions)
            rows.push_back(&s);
    }
    setRows(std::move(trace), std::move(rows), inPlace);
}

int SessionsModel::rowOf(std::uint64_t session) const {
    if (!trace()) return -1;
    const data::SessionRow* found = trace()->session(session);
    return found ? static_cast<int>(found - trace()->sessions.data()) : -1; // rows: all, in order
}

} // namespace memlife::ui
