#include "models/blocksmodel.hpp"

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
                endResetModel();
                Q_EMIT loaded();
            },
        .failed = [this](const QString& message) { Q_EMIT failed(message); },
    });
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
    const std::uint64_t first = trace_ ? trace_->firstNs() : 0;
    const bool corrupted = b.tail == data::TailStatus::Corrupted;
    const std::uint64_t resolution = trace_ ? trace_->info.time_resolution_ns : 1;
    auto since = [first, resolution](std::uint64_t ns) {
        return formatTime(ns, first, resolution);
    };

    switch (role) {
    case SessionIdRole:
        return QVariant::fromValue<qulonglong>(b.session);
    case BlockIdRole:
        return QVariant::fromValue<qulonglong>(b.id);
    case ProblemRole:
        return corrupted || b.leaked;
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
        case Leaked:
            return b.leaked;
        case Address:
            return QVariant::fromValue<qulonglong>(b.address);
        }
        return {};
    case Qt::DisplayRole:
        switch (index.column()) {
        case Id:
            return QString::number(b.id);
        case Size:
            return formatCount(b.size);
        case Scope:
            return scopeName(b.scope);
        case Origin:
            return originName(b.origin);
        case Notification:
            return notificationName(b.notification);
        case Request:
            return b.request ? QString::number(b.request) : QStringLiteral("-");
        case AllocatedAt:
            return since(b.alloc_ns);
        case ReleasedAt:
            return b.release_ns ? since(b.release_ns) : tr("live");
        case Tail:
            return tailStatusName(b.tail);
        case Leaked:
            return b.leaked ? tr("leaked") : QString();
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
        if (index.column() == Id && b.leaked) return leakIcon();
        return {};
    case Qt::BackgroundRole:
        if (corrupted) return rowTint(corruptionColor());
        if (b.leaked) return rowTint(leakColor());
        return {};
    case Qt::ToolTipRole:
        if (corrupted) return tr("Tail modified: double-click to inspect");
        if (b.leaked) return tr("Leaked: still live when its scope ended");
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
        QT_TR_NOOP("Allocated at"), QT_TR_NOOP("Released at"),  QT_TR_NOOP("Tail"),
        QT_TR_NOOP("Leak"),         QT_TR_NOOP("Address")};
    return tr(titles[section]);
}

} // namespace memlife::ui
