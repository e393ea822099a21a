#include "models/sessiontablemodel.hpp"

#include "memlife/data/findings.hpp"
#include "style/format.hpp"
#include "style/style.hpp"

namespace memlife::ui {

namespace {
QVariant number(std::uint64_t n) {
    return QVariant::fromValue<qulonglong>(n);
}
} // namespace

SessionTableModel::Column SessionTableModel::idColumn(const char* title) {
    return {title, [](const data::SessionRow& s, const LoadedTrace&) { return number(s.id); },
            [](const data::SessionRow& s, const LoadedTrace&) { return QString::number(s.id); }};
}

SessionTableModel::Column SessionTableModel::peerColumn() {
    return {QT_TR_NOOP("Peer"),
            [](const data::SessionRow& s, const LoadedTrace&) {
                return QVariant(QString::fromStdString(s.peer));
            },
            [](const data::SessionRow& s, const LoadedTrace&) {
                return QString::fromStdString(s.peer);
            },
            nullptr, Qt::AlignLeft};
}

SessionTableModel::Column SessionTableModel::requestsColumn() {
    return {QT_TR_NOOP("Requests"),
            [](const data::SessionRow& s, const LoadedTrace&) { return number(s.requests); },
            [](const data::SessionRow& s, const LoadedTrace&) { return formatCount(s.requests); }};
}

SessionTableModel::Column SessionTableModel::peakColumn() {
    return {QT_TR_NOOP("Peak"),
            [](const data::SessionRow& s, const LoadedTrace&) { return number(s.peak_bytes); },
            [](const data::SessionRow& s, const LoadedTrace&) {
                return formatBytes(double(s.peak_bytes));
            }};
}

SessionTableModel::Column SessionTableModel::growthColumn() {
    return {QT_TR_NOOP("Growth"),
            [](const data::SessionRow& s, const LoadedTrace&) {
                return QVariant(s.growth_bytes_per_request);
            },
            [](const data::SessionRow& s, const LoadedTrace&) {
                return formatGrowth(s.growth_bytes_per_request);
            },
            QT_TR_NOOP("Least-squares slope of live bytes at request ends: a keep-alive leak "
                       "grows by this much per request")};
}

SessionTableModel::SessionTableModel(std::vector<Column> columns, Options options, QObject* parent)
    : QAbstractTableModel(parent), columns_(std::move(columns)), options_(options),
      maxGrowth_(data::kDefaultMaxGrowth) {}

void SessionTableModel::setMaxGrowth(double bytesPerRequest) {
    if (bytesPerRequest == maxGrowth_) return;
    maxGrowth_ = bytesPerRequest;
    if (!rows_.empty())
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1),
                           {ProblemRole, Qt::DecorationRole, Qt::BackgroundRole, Qt::ToolTipRole});
}

QString SessionTableModel::findingsText(const data::SessionRow& s) const {
    QStringList lines;
    if (data::grows_beyond(s, maxGrowth_))
        lines << tr("grows by %1 per request (the limit is %2): memory kept from one "
                    "keep-alive request to the next")
                     .arg(formatBytes(s.growth_bytes_per_request), formatBytes(maxGrowth_));
    if (s.corruptions) lines << tr("%n corruption(s)", nullptr, int(s.corruptions));
    if (s.leaks)
        lines << tr("%n leak(s) (%1 leaked)", nullptr, int(s.leaks))
                     .arg(formatBytes(double(s.leaked_bytes)));
    if (lines.isEmpty()) return {};
    return tr("Session %1: %2").arg(s.id).arg(lines.join(QStringLiteral("; ")));
}

void SessionTableModel::setRows(TracePtr trace, std::vector<const data::SessionRow*> rows) {
    beginResetModel();
    trace_ = std::move(trace);
    rows_ = std::move(rows);
    endResetModel();
}

const data::SessionRow* SessionTableModel::row(int row) const {
    return row >= 0 && row < static_cast<int>(rows_.size()) ? rows_[static_cast<std::size_t>(row)]
                                                            : nullptr;
}

int SessionTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int SessionTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(columns_.size());
}

QVariant SessionTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const data::SessionRow& s = *row(index.row());
    const Column& column = columns_[static_cast<std::size_t>(index.column())];
    const bool corrupted = s.corruptions > 0, leaked = s.leaks > 0;
    const bool grows = data::grows_beyond(s, maxGrowth_);
    switch (role) {
    case SessionIdRole:
        return number(s.id);
    case ProblemRole:
        return corrupted || leaked || grows;
    case SortRole:
        return column.sort(s, *trace_);
    case Qt::DisplayRole:
        return column.text(s, *trace_);
    case Qt::TextAlignmentRole:
        return QVariant(column.alignment | Qt::AlignVCenter);
    case Qt::DecorationRole:
        if (index.column() != 0) return {};
        // The most serious finding; the tooltip lists them all.
        if (corrupted) return corruptionIcon();
        if (grows) return growthIcon();
        if (leaked) return leakIcon();
        return {};
    case Qt::BackgroundRole:
        if (corrupted && options_.tintCorruptions) return rowTint(corruptionColor());
        if (grows) return rowTint(growthColor());
        if (leaked) return rowTint(leakColor());
        return {};
    case Qt::ToolTipRole:
        if (options_.rowToolTips || grows) {
            const QString findings = findingsText(s);
            if (!findings.isEmpty()) return findings;
        }
        return {};
    }
    return {};
}

QVariant SessionTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation == Qt::Vertical)
        return options_.rankHeader && role == Qt::DisplayRole ? QVariant(section + 1) : QVariant();
    if (section < 0 || section >= columnCount()) return {};
    const Column& column = columns_[static_cast<std::size_t>(section)];
    if (role == Qt::DisplayRole) return tr(column.title);
    if (role == Qt::ToolTipRole && column.toolTip) return tr(column.toolTip);
    return {};
}

} // namespace memlife::ui
