#include "models/blocksmodel.hpp"

#include <algorithm>

#include "memlife/data/units.hpp"
#include "models/itemroles.hpp"
#include "style/format.hpp"
#include "style/style.hpp"

namespace memlife::ui {

BlocksModel::BlocksModel(QObject* parent) : QAbstractTableModel(parent), job_(this) {}

void BlocksModel::setSession(TracePtr trace, std::uint64_t session) {
    job_.discard();
    beginResetModel();
    trace_ = std::move(trace);
    session_ = session;
    rows_.clear();
    rows_.shrink_to_fit();
    total_ = 0;
    endResetModel();
    if (!trace_ || session == 0) {
        Q_EMIT loaded();
        return;
    }
    struct Blocks {
        std::vector<data::BlockRow> rows;
        std::uint64_t total = 0;
    };
    job_.start<Blocks>({
        .work =
            [readers = trace_->readers, session](const JobControl& job) {
                Blocks blocks;
                readers->use([&](const data::TraceReader& reader) {
                    reader.for_each_block(session, [&](const data::BlockRow& block) {
                        if (blocks.rows.size() < kMaxBlocks) blocks.rows.push_back(block);
                        ++blocks.total;
                        return !job.canceled();
                    });
                });
                return blocks;
            },
        .done =
            [this](Blocks blocks) {
                beginResetModel();
                rows_ = std::move(blocks.rows);
                total_ = blocks.total;
                chooseTimeUnit();
                endResetModel();
                Q_EMIT loaded();
            },
        .failed = [this](const QString& message) { Q_EMIT failed(message); },
    });
}

void BlocksModel::chooseTimeUnit() {
    const std::uint64_t first = trace_ ? trace_->firstNs() : 0;
    std::uint64_t latest = 0;
    for (const data::BlockRow& b : rows_)
        latest = std::max({latest, b.alloc_ns, b.release_ns});
    // The unit of an axis over the column's times (the shared rule), with the decimals that
    // tell its values apart.
    const double span = double(latest - std::min(first, latest));
    const AxisUnit unit = timeAxisUnit(span);
    timeScale_ = unit.scale;
    timeSymbol_ = unit.suffix;
    const double top = span / timeScale_;
    timeDecimals_ = timeScale_ == 1 ? 0 : top < 10 ? 3 : top < 100 ? 2 : top < 10000 ? 1 : 0;
}

QString BlocksModel::timeText(std::uint64_t ns) const {
    const std::uint64_t first = trace_ ? trace_->firstNs() : 0;
    const std::uint64_t resolution = trace_ ? trace_->info.time_resolution_ns : 1;
    const double since = double(ns - std::min(first, ns));
    if (resolution > 1) // a coarse clock: the step and the order within it
        return formatTime(ns, first, resolution);
    return QStringLiteral("%1 %2").arg(since / timeScale_, 0, 'f', timeDecimals_).arg(timeSymbol_);
}

QString BlocksModel::releasedText(const data::BlockRow& b) const {
    if (b.leaked) {
        switch (b.released_by) {
        case data::ReleasedBy::RequestEnd:
            return tr("at request end");
        case data::ReleasedBy::SessionClose:
            return tr("at connection close");
        case data::ReleasedBy::Nothing:
            return tr("never (live at the end)");
        case data::ReleasedBy::Free:
            break; // freed after all, later: when
        }
    }
    return b.release_ns ? timeText(b.release_ns) : tr("live");
}

const data::BlockRow* BlocksModel::row(int row) const {
    return row >= 0 && row < static_cast<int>(rows_.size()) ? &rows_[static_cast<std::size_t>(row)]
                                                            : nullptr;
}

int BlocksModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int BlocksModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant BlocksModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const data::BlockRow& b = *row(index.row());
    const bool corrupted = b.tail == data::TailStatus::Corrupted;

    switch (role) {
    case SessionIdRole:
        return QVariant::fromValue<qulonglong>(b.session);
    case BlockIdRole:
        return QVariant::fromValue<qulonglong>(b.id);
    case ProblemRole:
        return corrupted || b.leaked || b.outlived;
    case SortRole:
        switch (index.column()) {
        case Id:
            return QVariant::fromValue<qulonglong>(b.id);
        case Size:
            return QVariant::fromValue<qulonglong>(b.size);
        case Scope:
            return static_cast<int>(b.scope);
        case Origin:
            return static_cast<int>(b.origin);
        case Notification:
            return static_cast<int>(b.notification);
        case Request:
            return b.request;
        case AllocatedAt:
            return QVariant::fromValue<qulonglong>(b.alloc_ns);
        case ReleasedAt:
            return QVariant::fromValue<qulonglong>(b.release_ns ? b.release_ns : UINT64_MAX);
        case Tail:
            return static_cast<int>(b.tail);
        case Leaked: // leaked, then outlived, then neither
            return b.leaked ? 2 : b.outlived ? 1 : 0;
        case Address:
            return QVariant::fromValue<qulonglong>(b.address);
        }
        return {};
    case Qt::DisplayRole:
        switch (index.column()) {
        case Id:
            return QString::number(b.id);
        case Size:
            return formatBytes(double(b.size));
        case Scope:
            return scopeName(b.scope);
        case Origin:
            return originName(b.origin);
        case Notification:
            return notificationName(b.notification);
        case Request:
            return b.request ? QString::number(b.request) : QStringLiteral("-");
        case AllocatedAt:
            return timeText(b.alloc_ns);
        case ReleasedAt:
            return releasedText(b);
        case Tail:
            return tailStatusName(b.tail);
        case Leaked:
            return b.leaked ? tr("leaked") : b.outlived ? tr("outlived") : QString();
        case Address:
            return formatAddress(b.address);
        }
        return {};
    case Qt::TextAlignmentRole:
        switch (index.column()) {
        case Scope:
        case Origin:
        case Notification:
        case Tail:
        case Leaked:
        case Address:
            return QVariant(Qt::AlignLeft | Qt::AlignVCenter);
        default:
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        }
    case Qt::DecorationRole:
        if (index.column() == Id && corrupted) return corruptionIcon();
        if (index.column() == Id && (b.leaked || b.outlived)) return leakIcon();
        return {};
    case Qt::BackgroundRole:
        if (corrupted) return rowTint(corruptionColor());
        if (b.leaked || b.outlived) return rowTint(leakColor());
        return {};
    case Qt::ToolTipRole:
        if (corrupted) return tr("Tail modified: double-click to inspect");
        if (b.leaked && index.column() == ReleasedAt)
            return b.released_by == data::ReleasedBy::Free
                       ? tr("Leaked, then freed by its own free at this time")
                       : tr("Leaked: nothing freed it; its scope's end released it (or nothing "
                            "did, before the trace ended)");
        if (b.leaked) return tr("Leaked: still live when its scope ended");
        if (b.outlived)
            return tr("Outlived its connection: still live after the connection closed");
        return {};
    }
    return {};
}

QVariant BlocksModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 ||
        section >= ColumnCount)
        return {};
    static const char* const titles[] = {
        QT_TR_NOOP("Block"),        QT_TR_NOOP("Size"),         QT_TR_NOOP("Scope"),
        QT_TR_NOOP("Origin"),       QT_TR_NOOP("Allocated in"), QT_TR_NOOP("Request"),
        QT_TR_NOOP("Allocated at"), QT_TR_NOOP("Released"),     QT_TR_NOOP("Tail"),
        QT_TR_NOOP("Leak"),         QT_TR_NOOP("Address")};
    return tr(titles[section]);
}

} // namespace memlife::ui
