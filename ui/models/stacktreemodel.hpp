// The allocation sites as a tree (bottom-up: from the allocating function to its callers;
// top-down: from main to the allocating function): one row per frame, with what every stack
// through it allocated. The tree is read in a job (data::StackReader::tree) and handed over
// whole; it is bounded by the number of distinct stacks, never by the number of events.
// In compare mode the model also holds a base trace's tree, matched frame by frame by
// function and file (data::site_key, as `memlife diff` matches sites), and shows the base's
// value and the change beside each byte column.
#pragma once

#include <QAbstractItemModel>

#include <memory>
#include <vector>

#include "memlife/data/stacks.hpp"

namespace memlife::ui {

using StackTreePtr = std::shared_ptr<const data::StackTree>;
using BaseCosts = std::vector<data::StackCost>;
using BaseCostsPtr = std::shared_ptr<const BaseCosts>;

// A tree to compare and the base's cost of each of its nodes. Its nodes are NEW's (same
// ids, so a flame graph of NEW finds them) followed by those only BASE has; a child of BASE
// matches the child of NEW whose frame has the same function and file (an unsymbolized
// frame: module), never by address nor line. Run in a job: it copies both trees.
struct MergedTree {
    StackTreePtr tree;
    BaseCostsPtr base;
};
MergedTree mergeBaseTree(const data::StackTree& next, const data::StackTree& base);

class StackTreeModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Column {
        Function,
        Location, // file:line
        Module,
        Allocated,
        LiveAtEnd,
        GrowthPerRequest,
        Blocks,
        Leaks,
        Corruptions,
        // Compare mode only (after the others, so the columns above keep their numbers):
        // the base trace's value and the change (new minus base), beside each byte column.
        AllocatedBase,
        AllocatedChange,
        LiveAtEndBase,
        LiveAtEndChange,
        GrowthBase,
        GrowthChange,
        ColumnCount
    };
    static constexpr int kColumnsAlone = AllocatedBase; // without a base
    static bool isCompareColumn(int column) { return column >= AllocatedBase; }
    // The tree node of an index (0: the root, the invisible total).
    static constexpr int NodeRole = Qt::UserRole + 100;

    explicit StackTreeModel(QObject* parent = nullptr);

    void setTree(StackTreePtr tree); // nullptr: empty
    // Compare mode: `tree` holds every node of NEW's tree (same ids) and, appended, the nodes
    // only the base has (cost 0); `base` is the base's cost per node (mergeBaseTree()).
    void setTree(StackTreePtr tree, BaseCostsPtr base);
    const StackTreePtr& tree() const { return tree_; }
    bool comparing() const { return base_ != nullptr; }
    // The base's cost of a node (zeros when not comparing or not in the base).
    data::StackCost baseCost(std::uint32_t node) const;
    // The node of an index (0 for the invalid index: the root).
    std::uint32_t node(const QModelIndex& index) const;
    QModelIndex indexOf(std::uint32_t node, int column = 0) const;

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QVariant compareData(const QModelIndex& index, int role) const; // the compare columns

    StackTreePtr tree_;
    BaseCostsPtr base_;            // compare mode: per node of tree_
    std::vector<int> rowInParent_; // per node
};

// The text a frame is shown with: "function", "file:line" with the file's base name, the
// module's base name (full paths go to tool tips).
QString frameFunction(const data::StackFrame& frame);
QString frameLocation(const data::StackFrame& frame);
QString frameModule(const data::StackFrame& frame);

} // namespace memlife::ui
