// The leak suspects: sessions that grow per request or leaked blocks, ranked, with the call
// stack that grows most in each.
#pragma once

#include "jobs/jobtracker.hpp"
#include "pages/viewpage.hpp"

class QComboBox;
class QLabel;
class QTableView;

namespace memlife::ui {

class LeakSuspectsModel;
class RankedProxy;

class LeaksPage : public ViewPage {
    Q_OBJECT
public:
    enum Ranking { ByGrowth, ByLeakedBytes, ByOutlivedBytes };
    LeaksPage(TraceDocument* document, QWidget* parent);
    QAbstractItemModel* tableModel() override;
    bool isBusy() const override { return sitesJob_.isRunning(); }
    void setRanking(Ranking ranking);
    LeakSuspectsModel* model() const { return model_; }
    QTableView* table() const { return table_; }
    QLabel* emptyText() const { return empty_; } // shown in place of an empty table
    static constexpr int kPeerChars = 40;        // the peer column's widest, in average characters

protected:
    void traceChanged() override;
    void traceUpdated(const TraceUpdate& update) override;
    void refresh() override; // the stack that grows most in each suspect (a job)

private:
    void showSummary();
    LeakSuspectsModel* model_;
    RankedProxy* proxy_;
    QComboBox* ranking_;
    QTableView* table_;
    QLabel* summary_;
    QLabel* empty_;
    QLabel* hint_;
    JobTracker sitesJob_;
    bool sitesLoaded_ = false; // for this trace
};

} // namespace memlife::ui
