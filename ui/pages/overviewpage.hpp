// The overview: the sessions table (filter, findings only, the growth limit) over the
// live-bytes chart of the selected sessions (or of those the chart choice picks). In compare
// mode the comparison with the base trace (compare/comparepanel.hpp) is on top.
#pragma once

#include "pages/viewpage.hpp"

class QCheckBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QSplitter;
class QTableView;

namespace memlife::ui {

class ComparePanel;
class LiveBytesChart;
class SessionsModel;
class SessionsProxy;

class OverviewPage : public ViewPage {
    Q_OBJECT
public:
    OverviewPage(TraceDocument* document, QWidget* parent);
    QChartView* chartView() override;
    QAbstractItemModel* tableModel() override;
    bool isBusy() const override;
    QByteArray saveLayout() const override;
    void restoreLayout(const QByteArray& state) override;

    LiveBytesChart* chart() const { return chart_; }
    ComparePanel* comparePanel() const { return compare_; }
    QTableView* table() const { return table_; }
    SessionsModel* model() const { return model_; }
    SessionsProxy* proxy() const { return proxy_; }

protected:
    void traceChanged() override;
    void traceUpdated(const TraceUpdate& update) override;
    void baseChanged() override;
    void refresh() override;

private:
    void selectionFromTable();
    void selectionToTable();
    void updateCount();
    void updateComparison();

    SessionsModel* model_;
    SessionsProxy* proxy_;
    QLineEdit* filter_;
    QCheckBox* problemsOnly_;
    QSpinBox* maxGrowth_;
    QLabel* count_;
    QTableView* table_;
    LiveBytesChart* chart_;
    ComparePanel* compare_;
    bool compareStale_ = false;  // the trace or the base changed since the panel computed
    bool compareBehind_ = false; // a followed trace grew since the panel's comparison began
    QSplitter* splitter_;
    bool syncing_ = false;
    bool followed_ = false; // the last change was a followed trace's update: keep the zoom
};

} // namespace memlife::ui
