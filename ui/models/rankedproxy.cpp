#include "models/rankedproxy.hpp"

#include "models/itemroles.hpp"

namespace memlife::ui {

RankedProxy::RankedProxy(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortRole(SortRole);
}

QVariant RankedProxy::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation == Qt::Vertical && role == Qt::DisplayRole && section >= 0 &&
        section < rowCount())
        return section + 1;
    return QSortFilterProxyModel::headerData(section, orientation, role);
}

} // namespace memlife::ui
