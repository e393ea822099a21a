#include "models/stacktreemodel.hpp"

#include <QFileInfo>

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

StackTreeModel::StackTreeModel(QObject* parent) : QAbstractItemModel(parent) {}

void StackTreeModel::setTree(StackTreePtr tree) {
    beginResetModel();
    tree_ = std::move(tree);
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
    if (!tree_ || row < 0 || column < 0 || column >= ColumnCount) return {};
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
    return ColumnCount;
}

namespace {
QVariant number(std::uint64_t n) {
    return QVariant::fromValue<qulonglong>(n);
}
} // namespace

QVariant StackTreeModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid) || !tree_) return {};
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
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount) return {};
    static const char* const titles[] = {
        QT_TR_NOOP("Function"),  QT_TR_NOOP("Location"),    QT_TR_NOOP("Module"),
        QT_TR_NOOP("Allocated"), QT_TR_NOOP("Live at end"), QT_TR_NOOP("Growth/request"),
        QT_TR_NOOP("Blocks"),    QT_TR_NOOP("Leaks"),       QT_TR_NOOP("Corruptions")};
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
        QT_TR_NOOP("Blocks whose tail was overwritten")};
    if (role == Qt::DisplayRole) return tr(titles[section]);
    if (role == Qt::ToolTipRole && tips[section]) return tr(tips[section]);
    return {};
}

} // namespace memlife::ui
