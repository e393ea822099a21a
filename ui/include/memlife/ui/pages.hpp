// The built-in views: overview (sessions + live bytes), growth, leaks, blocks, events.
#pragma once

#include <QPointer>

#include "memlife/ui/tailinspector.hpp"
#include "memlife/ui/viewpage.hpp"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QSplitter;
class QTableView;

namespace memlife::ui {

class BlocksModel;
class EventLogModel;
class GrowthChart;
class LeakSuspectsModel;
class LiveBytesChart;
class RankedProxy;
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
    QTableView* table() const { return table_; }
    SessionsModel* model() const { return model_; }
    SessionsProxy* proxy() const { return proxy_; }

protected:
    void traceChanged() override;
    void refresh() override;

private:
    void selectionFromTable();
    void selectionToTable();
    void updateCount();

    SessionsModel* model_;
    SessionsProxy* proxy_;
    QLineEdit* filter_;
    QCheckBox* problemsOnly_;
    QLabel* count_;
    QTableView* table_;
    LiveBytesChart* chart_;
    QSplitter* splitter_;
    bool syncing_ = false;
};

class GrowthPage : public ViewPage {
    Q_OBJECT
public:
    GrowthPage(TraceDocument* document, QWidget* parent);
    QChartView* chartView() override;
    GrowthChart* chart() const { return chart_; }

protected:
    void traceChanged() override;
    void refresh() override;

private:
    GrowthChart* chart_;
};

class LeaksPage : public ViewPage {
    Q_OBJECT
public:
    enum Ranking { ByGrowth, ByLeakedBytes };
    LeaksPage(TraceDocument* document, QWidget* parent);
    QAbstractItemModel* tableModel() override;
    void setRanking(Ranking ranking);
    LeakSuspectsModel* model() const { return model_; }
    QTableView* table() const { return table_; }

protected:
    void traceChanged() override;
    void refresh() override {}

private:
    LeakSuspectsModel* model_;
    RankedProxy* proxy_;
    QComboBox* ranking_;
    QTableView* table_;
    QLabel* summary_;
};

class BlocksPage : public ViewPage {
    Q_OBJECT
public:
    enum Filter { AllBlocks, CorruptedBlocks, LeakedBlocks, LiveBlocks };
    BlocksPage(TraceDocument* document, QWidget* parent);
    QAbstractItemModel* tableModel() override;
    bool isBusy() const override;
    BlocksModel* model() const { return model_; }
    QTableView* table() const { return table_; }
    // Opens the inspector for the block at a proxy row if its tail is corrupted.
    TailInspector* inspect(int row);
    TailInspector* inspector() const { return inspector_; }

protected:
    void traceChanged() override;
    void refresh() override;

private:
    void onLoaded();
    void updateButtons();

    BlocksModel* model_;
    QSortFilterProxyModel* proxy_;
    QComboBox* filter_;
    QLabel* header_;
    QPushButton* inspectButton_;
    QTableView* table_;
    QPointer<TailInspector> inspector_;
};

class EventsPage : public ViewPage {
    Q_OBJECT
public:
    EventsPage(TraceDocument* document, QWidget* parent);
    QAbstractItemModel* tableModel() override;
    bool exportCsv(const QString& file, QString* error) override;
    bool isBusy() const override;
    EventLogModel* model() const { return model_; }
    QComboBox* kindFilter() const { return kind_; }

protected:
    void traceChanged() override;
    void refresh() override;

private:
    void updateCount();

    EventLogModel* model_;
    QComboBox* kind_;
    QComboBox* scope_;
    QLabel* count_;
    QString readError_; // the events could not be read (shown in place of the count)
    QTableView* table_;
};

} // namespace memlife::ui
