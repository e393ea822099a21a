// The blocks table's sort/filter proxy: all blocks, or only those with a corrupted tail,
// the leaked ones, those that outlived their connection (memlife record), or those still
// live at the end.
#pragma once

#include <QSortFilterProxyModel>

namespace memlife::ui {

class BlocksProxy : public QSortFilterProxyModel {
public:
    enum Filter { AllBlocks, CorruptedBlocks, LeakedBlocks, LiveBlocks, OutlivedBlocks };
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setMode(Filter mode);

protected:
    bool filterAcceptsRow(int row, const QModelIndex&) const override;

private:
    Filter mode_ = AllBlocks;
};

} // namespace memlife::ui
