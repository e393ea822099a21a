// A proxy that ranks: it sorts on SortRole and numbers the rows 1, 2, ... in the vertical
// header under the current sort.
#pragma once

#include <QSortFilterProxyModel>

namespace memlife::ui {

// Sorts on SortRole; the vertical header shows the rank under the current sort.
class RankedProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit RankedProxy(QObject* parent = nullptr);
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
};

} // namespace memlife::ui
