// The sessions table's sort/filter proxy: sorts on SortRole, filters by a text and to the
// rows with problems.
#pragma once

#include <QSortFilterProxyModel>

namespace memlife::ui {

// Filters by a text (matches the id or the peer) and optionally to problem rows only.
class SessionsProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit SessionsProxy(QObject* parent = nullptr);
    void setText(const QString& text);
    void setProblemsOnly(bool only);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    QString text_;
    bool problemsOnly_ = false;
};

} // namespace memlife::ui
