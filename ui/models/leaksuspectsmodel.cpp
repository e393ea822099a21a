#include "models/leaksuspectsmodel.hpp"

#include <algorithm>

#include "models/itemroles.hpp"
#include "style/format.hpp"
#include "style/style.hpp"

namespace memlife::ui {

LeakSuspectsModel::LeakSuspectsModel(QObject* parent) : QAbstractTableModel(parent) {}

void LeakSuspectsModel::setTrace(TracePtr trace) {
    beginResetModel();
    trace_ = std::move(trace);
    rows_.clear();
    if (trace_) {
        for (const auto& s : trace_->sessions)
            if (s.growth_bytes_per_request >= kMinGrowth || s.leaked_bytes > 0) rows_.push_back(&s);
        std::stable_sort(rows_.begin(), rows_.end(), [](const auto* a, const auto* b) {
            return a->growth_bytes_per_request > b->growth_bytes_per_request;
        });
    }
    endResetModel();
}

const data::SessionRow* LeakSuspectsModel::row(int row) const {
    return row >= 0 && row < static_cast<int>(rows_.size()) ? rows_[static_cast<std::size_t>(row)]
                                                            : nullptr;
}

int LeakSuspectsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int LeakSuspectsModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LeakSuspectsModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const data::SessionRow& s = *row(index.row());
    switch (role) {
    case SessionIdRole:
        return QVariant::fromValue<qulonglong>(s.id);
    case ProblemRole:
        return s.leaks > 0 || s.corruptions > 0;
    case SortRole:
        switch (index.column()) {
        case Session:
            return QVariant::fromValue<qulonglong>(s.id);
        case Peer:
            return QString::fromStdString(s.peer);
        case GrowthPerRequest:
            return s.growth_bytes_per_request;
        case LeakedBytes:
            return QVariant::fromValue<qulonglong>(s.leaked_bytes);
        case Leaks:
            return QVariant::fromValue<qulonglong>(s.leaks);
        case Requests:
            return QVariant::fromValue<qulonglong>(s.requests);
        case PeakBytes:
            return QVariant::fromValue<qulonglong>(s.peak_bytes);
        }
        return {};
    case Qt::DisplayRole:
        switch (index.column()) {
        case Session:
            return QString::number(s.id);
        case Peer:
            return QString::fromStdString(s.peer);
        case GrowthPerRequest:
            return tr("%1/req").arg(formatBytes(s.growth_bytes_per_request));
        case LeakedBytes:
            return formatBytes(double(s.leaked_bytes));
        case Leaks:
            return formatCount(s.leaks);
        case Requests:
            return formatCount(s.requests);
        case PeakBytes:
            return formatBytes(double(s.peak_bytes));
        }
        return {};
    case Qt::TextAlignmentRole:
        return index.column() == Peer ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                                      : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::DecorationRole:
        if (index.column() == Session && s.corruptions) return corruptionIcon();
        if (index.column() == Session && s.leaks) return leakIcon();
        return {};
    case Qt::BackgroundRole:
        if (s.leaks) return rowTint(leakColor());
        return {};
    }
    return {};
}

QVariant LeakSuspectsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (role != Qt::DisplayRole) return {};
    if (orientation == Qt::Vertical) return section + 1;
    if (section < 0 || section >= ColumnCount) return {};
    static const char* const titles[] = {QT_TR_NOOP("Session"),       QT_TR_NOOP("Peer"),
                                         QT_TR_NOOP("Growth"),        QT_TR_NOOP("Leaked"),
                                         QT_TR_NOOP("Leaked blocks"), QT_TR_NOOP("Requests"),
                                         QT_TR_NOOP("Peak")};
    return tr(titles[section]);
}

} // namespace memlife::ui
