#include "models/blocksproxy.hpp"

#include "models/blocksmodel.hpp"

namespace memlife::ui {

void BlocksProxy::setMode(Filter mode) {
    mode_ = mode;
    invalidateFilter();
}

bool BlocksProxy::filterAcceptsRow(int row, const QModelIndex&) const {
    const auto* model = static_cast<const BlocksModel*>(sourceModel());
    const data::BlockRow* block = model->row(row);
    if (!block) return false;
    switch (mode_) {
    case AllBlocks:
        return true;
    case CorruptedBlocks:
        return block->tail == data::TailStatus::Corrupted;
    case LeakedBlocks:
        return block->leaked;
    case LiveBlocks:
        return block->release_ns == 0;
    case OutlivedBlocks:
        return block->outlived;
    }
    return true;
}

} // namespace memlife::ui
