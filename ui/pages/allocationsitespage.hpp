// Allocation sites: which code allocated, as a tree (bottom-up or top-down) and a flame
// graph, for the sessions selected in the overview (all of them when none is) and the time
// range its chart shows. The tree is read in a job; a trace without call stacks says why.
// In compare mode the base's tree is read in the same job and the byte columns get the
// base's value and the change beside them.
#pragma once

#include "jobs/jobtracker.hpp"
#include "pages/viewpage.hpp"

#include <QString>

class QComboBox;
class QLabel;
class QLineEdit;
class QScrollArea;
class QSortFilterProxyModel;
class QSplitter;
class QTreeView;

namespace memlife::ui {

class FlameGraph;
class StackTreeModel;

class AllocationSitesPage : public ViewPage {
    Q_OBJECT
public:
    enum Direction { BottomUp, TopDown };

    AllocationSitesPage(TraceDocument* document, QWidget* parent);
    QAbstractItemModel* tableModel() override;
    bool isBusy() const override;
    QByteArray saveLayout() const override;
    void restoreLayout(const QByteArray& state) override;

    void setDirection(Direction direction);
    Direction direction() const { return direction_; }
    StackTreeModel* model() const { return model_; }
    QTreeView* tree() const { return tree_; }
    FlameGraph* flameGraph() const { return flame_; }
    QLineEdit* searchBox() const { return search_; }
    QLabel* header() const { return header_; }
    // The sentence shown instead of the tree when the trace has no stacks ("" otherwise).
    QString emptyReason() const;

Q_SIGNALS:
    void treeLoaded();

protected:
    void traceChanged() override;
    void refresh() override;

private:
    void showTree(const QString& scope);
    void showEmpty(const QString& sentence);
    void setControlsEnabled(bool enabled); // the tree's controls: off while it cannot show one
    QString scopeText() const;
    QString compareText() const; // compare mode's sentence for the header ("" without a base)
    void placeCompareColumns();

    Direction direction_ = BottomUp;
    StackTreeModel* model_;
    QSortFilterProxyModel* proxy_;
    QLabel* header_;
    QComboBox* directionBox_;
    QComboBox* measureBox_;
    QLineEdit* search_;
    QLabel* searchResult_;
    QLabel* empty_;
    QSplitter* splitter_;
    QTreeView* tree_;
    QScrollArea* flameScroll_;
    FlameGraph* flame_;
    JobTracker job_;
    QString baseError_; // compare mode: why the base's tree could not be read ("" if it was)
};

} // namespace memlife::ui
