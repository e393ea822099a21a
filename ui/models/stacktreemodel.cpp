#include "models/stacktreemodel.hpp"

#include <QFileInfo>

#include <cmath>
#include <string>
#include <unordered_map>

#include "memlife/data/compare.hpp"

#include "models/itemroles.hpp"
#include "style/format.hpp"
#include "style/style.hpp"

namespace memlife::ui {

QString frameFunction(const data::StackFrame& frame) {
    return QString::fromStdString(data::frame_name(frame));
}

QString frameLocation(const data::StackFrame& frame) {
    if (frame.file.empty()) return {};
    const QString file = QFileInfo(QString::fromStdString(frame.file)).fileName();
    return frame.line ? QStringLiteral("%1:%2").arg(file).arg(frame.line) : file;
}

QString frameModule(const data::StackFrame& frame) {
    return QFileInfo(QString::fromStdString(frame.module)).fileName();
}

namespace {

// What matches a frame across traces: data::site_key's rule for one frame.
std::string frameKey(const data::StackFrame& frame) {
    return data::site_key({data::SiteFrame{frame.function, frame.file, frame.line, frame.module}});
}

void addCost(data::StackCost& into, const data::StackCost& cost) {
    into.blocks += cost.blocks;
    into.bytes_allocated += cost.bytes_allocated;
    into.bytes_live_at_end += cost.bytes_live_at_end;
    into.growth_bytes_per_request += cost.growth_bytes_per_request;
    into.leaks += cost.leaks;
    into.leaked_bytes += cost.leaked_bytes;
    into.corruptions += cost.corruptions;
    into.sessions += cost.sessions;
}

} // namespace

MergedTree mergeBaseTree(const data::StackTree& next, const data::StackTree& base) {
    auto merged = std::make_shared<data::StackTree>(next);
    if (merged->nodes.empty()) merged->nodes.emplace_back(); // the root
    auto costs = std::make_shared<BaseCosts>(merged->nodes.size());
    if (!base.nodes.empty()) (*costs)[0] = base.nodes[0].cost;
    // Pairs of a merged node and a base node with the same frame path, their children next.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> todo;
    if (!base.nodes.empty()) todo.emplace_back(0, 0);
    while (!todo.empty()) {
        const auto [into, from] = todo.back();
        todo.pop_back();
        std::unordered_map<std::string, std::uint32_t> childByKey;
        for (std::uint32_t child : merged->nodes[into].children)
            childByKey.try_emplace(frameKey(merged->nodes[child].frame), child);
        for (std::uint32_t baseChild : base.nodes[from].children) {
            const data::StackTreeNode& b = base.nodes[baseChild];
            auto [found, added] = childByKey.try_emplace(
                frameKey(b.frame), static_cast<std::uint32_t>(merged->nodes.size()));
            if (added) { // only in the base: a node of cost 0 in NEW
                merged->nodes.push_back(
                    {.parent = into, .frame = b.frame, .cost = {}, .children = {}});
                merged->nodes[into].children.push_back(found->second);
                costs->emplace_back();
            }
            addCost((*costs)[found->second], b.cost);
            todo.emplace_back(found->second, baseChild);
        }
    }
    return {std::move(merged), std::move(costs)};
}

StackTreeModel::StackTreeModel(QObject* parent) : QAbstractItemModel(parent) {}

void StackTreeModel::setTree(StackTreePtr tree) {
    setTree(std::move(tree), nullptr);
}

data::StackCost StackTreeModel::baseCost(std::uint32_t node) const {
    return base_ && node < base_->size() ? (*base_)[node] : data::StackCost{};
}

void StackTreeModel::setTree(StackTreePtr tree, BaseCostsPtr base) {
    beginResetModel();
    tree_ = std::move(tree);
    base_ = tree_ ? std::move(base) : nullptr;
    rowInParent_.assign(tree_ ? tree_->nodes.size() : 0, 0);
    if (tree_)
        for (const data::StackTreeNode& n : tree_->nodes)
            for (std::size_t i = 0; i < n.children.size(); ++i)
                rowInParent_[n.children[i]] = static_cast<int>(i);
    endResetModel();
}

std::uint32_t StackTreeModel::node(const QModelIndex& index) const {
    return index.isValid() ? static_cast<std::uint32_t>(index.internalId()) : 0;
}

QModelIndex StackTreeModel::indexOf(std::uint32_t node, int column) const {
    if (!tree_ || node == 0 || node >= tree_->nodes.size()) return {};
    return createIndex(rowInParent_[node], column, quintptr(node));
}

QModelIndex StackTreeModel::index(int row, int column, const QModelIndex& parent) const {
    if (!tree_ || row < 0 || column < 0 || column >= columnCount()) return {};
    if (parent.isValid() && parent.column() != 0) return {};
    const data::StackTreeNode& p = tree_->nodes[node(parent)];
    if (row >= static_cast<int>(p.children.size())) return {};
    return createIndex(row, column, quintptr(p.children[static_cast<std::size_t>(row)]));
}

QModelIndex StackTreeModel::parent(const QModelIndex& child) const {
    if (!tree_ || !child.isValid()) return {};
    return indexOf(tree_->nodes[node(child)].parent);
}

int StackTreeModel::rowCount(const QModelIndex& parent) const {
    if (!tree_ || (parent.isValid() && parent.column() != 0)) return 0;
    return static_cast<int>(tree_->nodes[node(parent)].children.size());
}

int StackTreeModel::columnCount(const QModelIndex&) const {
    return comparing() ? ColumnCount : kColumnsAlone;
}

namespace {
QVariant number(std::uint64_t n) {
    return QVariant::fromValue<qulonglong>(n);
}

// "+1.50 KiB", "−512 B", "0".
QString signedBytes(double change) {
    if (change == 0) return QStringLiteral("0");
    const QString size = formatBytes(std::abs(change));
    return (change > 0 ? QStringLiteral("+") : QStringLiteral("−")) + size;
}

// The value of a byte column.
double byteValue(const data::StackCost& c, int valueColumn) {
    switch (valueColumn) {
    case StackTreeModel::Allocated:
        return double(c.bytes_allocated);
    case StackTreeModel::LiveAtEnd:
        return double(c.bytes_live_at_end);
    default:
        return c.growth_bytes_per_request;
    }
}

int valueColumnOf(int compareColumn) {
    switch (compareColumn) {
    case StackTreeModel::AllocatedBase:
    case StackTreeModel::AllocatedChange:
        return StackTreeModel::Allocated;
    case StackTreeModel::LiveAtEndBase:
    case StackTreeModel::LiveAtEndChange:
        return StackTreeModel::LiveAtEnd;
    default:
        return StackTreeModel::GrowthPerRequest;
    }
}

bool isChangeColumn(int column) {
    return column == StackTreeModel::AllocatedChange || column == StackTreeModel::LiveAtEndChange ||
           column == StackTreeModel::GrowthChange;
}

} // namespace

QVariant StackTreeModel::compareData(const QModelIndex& index, int role) const {
    const std::uint32_t n = node(index);
    const int valueColumn = valueColumnOf(index.column());
    const double base = byteValue(baseCost(n), valueColumn);
    const double value =
        isChangeColumn(index.column()) ? byteValue(tree_->nodes[n].cost, valueColumn) - base : base;
    switch (role) {
    case SortRole:
        return value;
    case Qt::DisplayRole:
        return isChangeColumn(index.column()) ? signedBytes(value) : formatBytes(value);
    case Qt::ForegroundRole:
        // Less memory is better; under half a byte (per request) is no change.
        if (!isChangeColumn(index.column()) || std::abs(value) < 0.5) return {};
        return value < 0 ? improvementColor() : corruptionColor();
    case Qt::TextAlignmentRole:
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::ToolTipRole:
        return n >= base_->size() || (*base_)[n].blocks == 0
                   ? tr("Not in the base trace")
                   : (tree_->nodes[n].cost.blocks == 0 ? tr("Only in the base trace") : QVariant());
    }
    return {};
}

QVariant StackTreeModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid) || !tree_) return {};
    if (isCompareColumn(index.column())) return base_ ? compareData(index, role) : QVariant();
    const data::StackTreeNode& n = tree_->nodes[node(index)];
    const data::StackFrame& f = n.frame;
    const data::StackCost& c = n.cost;
    switch (role) {
    case NodeRole:
        return node(index);
    case ProblemRole:
        return c.leaks > 0 || c.corruptions > 0;
    case SortRole:
        switch (index.column()) {
        case Function:
            return frameFunction(f);
        case Location:
            return frameLocation(f);
        case Module:
            return frameModule(f);
        case Allocated:
            return number(c.bytes_allocated);
        case LiveAtEnd:
            return number(c.bytes_live_at_end);
        case GrowthPerRequest:
            return c.growth_bytes_per_request;
        case Blocks:
            return number(c.blocks);
        case Leaks:
            return number(c.leaks);
        case Corruptions:
            return number(c.corruptions);
        }
        return {};
    case Qt::DisplayRole:
        switch (index.column()) {
        case Function:
            return f.inlined ? tr("%1 (inlined)").arg(frameFunction(f)) : frameFunction(f);
        case Location:
            return frameLocation(f);
        case Module:
            return frameModule(f);
        case Allocated:
            return formatBytes(double(c.bytes_allocated));
        case LiveAtEnd:
            return formatBytes(double(c.bytes_live_at_end));
        case GrowthPerRequest:
            return formatBytes(c.growth_bytes_per_request);
        case Blocks:
            return formatCount(c.blocks);
        case Leaks:
            return c.leaks ? formatCount(c.leaks) : QString();
        case Corruptions:
            return c.corruptions ? formatCount(c.corruptions) : QString();
        }
        return {};
    case Qt::ToolTipRole:
        switch (index.column()) {
        case Location:
            return frame_location(f).empty() ? QVariant()
                                             : QString::fromStdString(data::frame_location(f));
        case Module:
            return f.module.empty()
                       ? QVariant()
                       : tr("%1 (offset %2)")
                             .arg(QString::fromStdString(f.module), formatAddress(f.module_offset));
        default:
            return frameFunction(f);
        }
    case Qt::TextAlignmentRole:
        return QVariant((index.column() >= Allocated ? Qt::AlignRight : Qt::AlignLeft) |
                        Qt::AlignVCenter);
    case Qt::DecorationRole:
        if (index.column() != Function) return {};
        if (c.corruptions) return corruptionIcon();
        if (c.leaks) return leakIcon();
        return {};
    }
    return {};
}

QVariant StackTreeModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= columnCount()) return {};
    static const char* const titles[] = {
        QT_TR_NOOP("Function"),    QT_TR_NOOP("Location"),      QT_TR_NOOP("Module"),
        QT_TR_NOOP("Allocated"),   QT_TR_NOOP("Live at end"),   QT_TR_NOOP("Growth/request"),
        QT_TR_NOOP("Blocks"),      QT_TR_NOOP("Leaks"),         QT_TR_NOOP("Corruptions"),
        QT_TR_NOOP("Alloc. base"), QT_TR_NOOP("Alloc. change"), QT_TR_NOOP("Live base"),
        QT_TR_NOOP("Live change"), QT_TR_NOOP("Growth base"),   QT_TR_NOOP("Growth change")};
    static const char* const tips[] = {
        nullptr,
        QT_TR_NOOP("Source file and line of the call (no line when the calls a function makes "
                   "from several lines are merged)"),
        QT_TR_NOOP("The binary or library the code is in"),
        QT_TR_NOOP("Bytes allocated by every stack through this frame"),
        QT_TR_NOOP("Bytes still live when their session ended (or at the end of the trace)"),
        QT_TR_NOOP("Least-squares slope of the live bytes at each request end, in bytes per "
                   "request, summed over the sessions"),
        QT_TR_NOOP("Blocks allocated"),
        QT_TR_NOOP("Blocks that leaked (still live when their scope ended)"),
        QT_TR_NOOP("Blocks whose tail was overwritten"),
        QT_TR_NOOP("The base trace's bytes allocated through the same frames (same functions "
                   "and files), over all its sessions"),
        QT_TR_NOOP("New minus base: green is less, red is more"),
        QT_TR_NOOP("The base trace's bytes live at the end through the same frames"),
        QT_TR_NOOP("New minus base: green is less, red is more"),
        QT_TR_NOOP("The base trace's growth per request through the same frames"),
        QT_TR_NOOP("New minus base: green is less, red is more")};
    if (role == Qt::DisplayRole) return tr(titles[section]);
    if (role == Qt::ToolTipRole && tips[section]) return tr(tips[section]);
    return {};
}

} // namespace memlife::ui
