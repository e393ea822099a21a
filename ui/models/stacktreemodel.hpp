// The allocation sites as a tree (bottom-up: from the allocating function to its callers;
// top-down: from main to the allocating function): one row per frame, with what every stack
// through it allocated. The tree is read in a job (data::StackReader::tree) and handed over
// whole; it is bounded by the number of distinct stacks, never by the number of events.
#pragma once

#include <QAbstractItemModel>

#include <memory>
#include <vector>

#include "memlife/data/stacks.hpp"

namespace memlife::ui {

using StackTreePtr = std::shared_ptr<const data::StackTree>;

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
        ColumnCount
    };
    // The tree node of an index (0: the root, the invisible total).
    static constexpr int NodeRole = Qt::UserRole + 100;

    explicit StackTreeModel(QObject* parent = nullptr);

    void setTree(StackTreePtr tree); // nullptr: empty
    const StackTreePtr& tree() const { return tree_; }
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
    StackTreePtr tree_;
    std::vector<int> rowInParent_; // per node
};

// The text a frame is shown with: "function", "file:line" with the file's base name, the
// module's base name (full paths go to tool tips).
QString frameFunction(const data::StackFrame& frame);
QString frameLocation(const data::StackFrame& frame);
QString frameModule(const data::StackFrame& frame);

} // namespace memlife::ui
