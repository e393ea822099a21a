#include "models/sessionsmodel.hpp"

#include "style/format.hpp"
#include "style/style.hpp"

namespace memlife::ui {

SessionsModel::SessionsModel(QObject* parent) : QAbstractTableModel(parent) {}

void SessionsModel::setTrace(TracePtr trace) {
    beginResetModel();
    trace_ = std::move(trace);
    endResetModel();
}

const data::SessionRow* SessionsModel::row(int row) const {
    if (!trace_ || row < 0 || row >= static_cast<int>(trace_->sessions.size())) return nullptr;
    return &trace_->sessions[static_cast<std::size_t>(row)];
}

int SessionsModel::rowOf(std::uint64_t session) const {
    if (!trace_) return -1;
    const data::SessionRow* found = trace_->session(session);
    return found ? static_cast<int>(found - trace_->sessions.data()) : -1;
}

int SessionsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() || !trace_ ? 0 : static_cast<int>(trace_->sessions.size());
}

int SessionsModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant SessionsModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const data::SessionRow& s = *row(index.row());
    const std::uint64_t first = trace_->firstNs();
    const bool corrupted = s.corruptions > 0, leaked = s.leaks > 0;
    const std::uint64_t end = s.closed() ? s.close_ns : trace_->lastNs();
    const double duration = end > s.open_ns ? double(end - s.open_ns) : 0.0;

    switch (role) {
    case SessionIdRole:
        return QVariant::fromValue<qulonglong>(s.id);
    case ProblemRole:
        return corrupted || leaked;
    case SortRole:
        switch (index.column()) {
        case Id:
            return QVariant::fromValue<qulonglong>(s.id);
        case Peer:
            return QString::fromStdString(s.peer);
        case Opened:
            return QVariant::fromValue<qulonglong>(s.open_ns);
        case Closed:
            return QVariant::fromValue<qulonglong>(s.closed() ? s.close_ns : UINT64_MAX);
        case Duration:
            return duration;
        case Requests:
            return QVariant::fromValue<qulonglong>(s.requests);
        case PeakBytes:
            return QVariant::fromValue<qulonglong>(s.peak_bytes);
        case ReleasedAtClose:
            return QVariant::fromValue<qulonglong>(s.released_at_close_bytes);
        case GrowthPerRequest:
            return s.growth_bytes_per_request;
        case Corruptions:
            return QVariant::fromValue<qulonglong>(s.corruptions);
        case Leaks:
            return QVariant::fromValue<qulonglong>(s.leaks);
        }
        return {};
    case Qt::DisplayRole:
        switch (index.column()) {
        case Id:
            return QString::number(s.id);
        case Peer:
            return QString::fromStdString(s.peer);
        case Opened:
            return formatDuration(double(s.open_ns - std::min(first, s.open_ns)));
        case Closed:
            return s.closed() ? formatDuration(double(s.close_ns - std::min(first, s.close_ns)))
                              : tr("open");
        case Duration:
            return s.closed() ? formatDuration(duration) : tr("≥ %1").arg(formatDuration(duration));
        case Requests:
            return formatCount(s.requests);
        case PeakBytes:
            return formatBytes(double(s.peak_bytes));
        case ReleasedAtClose:
            return formatBytes(double(s.released_at_close_bytes));
        case GrowthPerRequest:
            return tr("%1/req").arg(formatBytes(s.growth_bytes_per_request));
        case Corruptions:
            return formatCount(s.corruptions);
        case Leaks:
            return s.leaks ? tr("%1 (%2)").arg(formatCount(s.leaks),
                                               formatBytes(double(s.leaked_bytes)))
                           : QStringLiteral("0");
        }
        return {};
    case Qt::TextAlignmentRole:
        return index.column() == Peer ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                                      : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::DecorationRole:
        if (index.column() == Id && corrupted) return corruptionIcon();
        if (index.column() == Id && leaked) return leakIcon();
        return {};
    case Qt::BackgroundRole:
        if (corrupted) return rowTint(corruptionColor());
        if (leaked) return rowTint(leakColor());
        return {};
    case Qt::ToolTipRole:
        if (corrupted || leaked)
            return tr("Session %1: %2 corruption(s), %3 leak(s) (%4 leaked)")
                .arg(s.id)
                .arg(s.corruptions)
                .arg(s.leaks)
                .arg(formatBytes(double(s.leaked_bytes)));
        return {};
    }
    return {};
}

QVariant SessionsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount) return {};
    if (role == Qt::DisplayRole) {
        static const char* const titles[] = {
            QT_TR_NOOP("Session"),  QT_TR_NOOP("Peer"),
            QT_TR_NOOP("Opened"),   QT_TR_NOOP("Closed"),
            QT_TR_NOOP("Duration"), QT_TR_NOOP("Requests"),
            QT_TR_NOOP("Peak"),     QT_TR_NOOP("Released at close"),
            QT_TR_NOOP("Growth"),   QT_TR_NOOP("Corruptions"),
            QT_TR_NOOP("Leaks")};
        return tr(titles[section]);
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case Opened:
        case Closed:
            return tr("Time since the start of the trace");
        case ReleasedAtClose:
            return tr("Bytes released at END_OF_NET_SESSION");
        case GrowthPerRequest:
            return tr("Least-squares slope of live bytes at request ends: a keep-alive leak "
                      "grows by this much per request");
        case Leaks:
            return tr("Leaked blocks (leaked bytes)");
        }
    }
    return {};
}

} // namespace memlife::ui
