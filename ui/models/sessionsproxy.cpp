#include "models/sessionsproxy.hpp"

#include "models/itemroles.hpp"
#include "models/sessionsmodel.hpp"

namespace memlife::ui {

SessionsProxy::SessionsProxy(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortRole(SortRole);
    setDynamicSortFilter(true);
}

void SessionsProxy::setText(const QString& text) {
    text_ = text.trimmed();
    invalidateFilter();
}

void SessionsProxy::setProblemsOnly(bool only) {
    problemsOnly_ = only;
    invalidateFilter();
}

bool SessionsProxy::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    const QModelIndex id = sourceModel()->index(sourceRow, SessionsModel::Id, sourceParent);
    if (problemsOnly_ && !id.data(ProblemRole).toBool()) return false;
    if (text_.isEmpty()) return true;
    if (id.data(Qt::DisplayRole).toString() == text_) return true;
    const QModelIndex peer = sourceModel()->index(sourceRow, SessionsModel::Peer, sourceParent);
    return peer.data(Qt::DisplayRole).toString().contains(text_, Qt::CaseInsensitive);
}

} // namespace memlife::ui
