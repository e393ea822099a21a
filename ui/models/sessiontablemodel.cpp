#include "models/sessiontablemodel.hpp"

#include <algorithm>
#include <utility>

#include "memlife/data/findings.hpp"
#include "style/format.hpp"
#include "style/style.hpp"

namespace memlife::ui {

namespace {
QVariant number(std::uint64_t n) {
    return QVariant::fromValue<qulonglong>(n);
}

// Every change to a session's row comes with events of it, and a closed session never
// changes again.
bool isChanged(const data::SessionRow& before, const data::SessionRow& after) {
    return before.events != after.events || before.close_ns != after.close_ns;
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

void SessionTableModel::setRows(TracePtr trace, std::vector<const data::SessionRow*> rows,
                                bool inPlace) {
    if (inPlace && trace_ && trace) return updateRows(std::move(trace), rows);
    beginResetModel();
    trace_ = std::move(trace);
    rows_ = std::move(rows);
    endResetModel();
}

void SessionTableModel::updateRows(TracePtr trace,
                                   const std::vector<const data::SessionRow*>& rows) {
    if (rows.size() >= rows_.size() &&
        std::equal(rows_.begin(), rows_.end(), rows.begin(),
                   [](const auto* a, const auto* b) { return a->id == b->id; }))
        return appendRows(std::move(trace), rows);
    std::unordered_map<std::uint64_t, const data::SessionRow*> wanted;
    wanted.reserve(rows.size());
    for (const data::SessionRow* s : rows)
        wanted.emplace(s->id, s);
    // Rows no longer shown go, a run at a time from the end; the others point into `trace`.
    for (int end = static_cast<int>(rows_.size()); end > 0;) {
        const auto gone = [&](int i) { return !wanted.count(rows_[std::size_t(i)]->id); };
        if (!gone(end - 1)) {
            --end;
            continue;
        }
        int begin = end - 1;
        while (begin > 0 && gone(begin - 1))
            --begin;
        beginRemoveRows({}, begin, end - 1);
        rows_.erase(rows_.begin() + begin, rows_.begin() + end);
        endRemoveRows();
        end = begin;
    }
    // The rows that stay first, in their places, then the new ones.
    std::vector<const data::SessionRow*> next;
    next.reserve(rows.size());
    for (const data::SessionRow* s : rows_) {
        const auto it = wanted.find(s->id);
        next.push_back(it->second);
        wanted.erase(it);
    }
    for (const data::SessionRow* s : rows)
        if (wanted.count(s->id)) next.push_back(s);
    appendRows(std::move(trace), next);
}

void SessionTableModel::appendRows(TracePtr trace,
                                   const std::vector<const data::SessionRow*>& rows) {
    // Only the rows that changed say so (a proxy re-sorts what changed). rows_ point into
    // the previous trace until they are replaced.
    const TracePtr previous = std::exchange(trace_, std::move(trace));
    const auto shown = static_cast<int>(rows_.size());
    int changedFrom = -1;
    for (int i = 0; i <= shown; ++i) {
        const bool changed = i < shown && isChanged(*rows_[std::size_t(i)], *rows[std::size_t(i)]);
        if (i < shown) rows_[std::size_t(i)] = rows[std::size_t(i)];
        if (changed && changedFrom < 0) changedFrom = i;
        if (!changed && changedFrom >= 0) {
            Q_EMIT dataChanged(index(changedFrom, 0), index(i - 1, columnCount() - 1));
            changedFrom = -1;
        }
    }
    if (rows.size() == rows_.size()) return;
    beginInsertRows({}, shown, static_cast<int>(rows.size()) - 1);
    rows_.insert(rows_.end(), rows.begin() + shown, rows.end());
    endInsertRows();
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
