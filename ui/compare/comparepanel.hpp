// Compare mode in the overview: what the base trace and this one show, side by side. The
// distributions of peak and growth per request over the sessions (box plots, from the loaded
// summary tables) and the figures of `memlife diff` with their change (computed in a job).
#pragma once

#include <QWidget>

#include <memory>

#include "jobs/jobtracker.hpp"
#include "memlife/data/compare.hpp"
#include "window/loadedtrace.hpp"

class QLabel;
class QProgressBar;
class QTableView;

namespace memlife::ui {

class ComparisonModel;
class DistributionChart;

class ComparePanel : public QWidget {
    Q_OBJECT
public:
    explicit ComparePanel(QWidget* parent = nullptr);

    // base null: nothing to compare (the panel empties).
    void setTraces(TracePtr base, TracePtr next);
    bool isPending() const { return job_.isRunning(); }
    QProgressBar* progressBar() const { return progress_; }

    // The comparison shown (null before the first one is done).
    const std::shared_ptr<const data::Comparison>& comparison() const { return comparison_; }
    ComparisonModel* model() const { return model_; }
    QTableView* table() const { return table_; }
    DistributionChart* peakChart() const { return peak_; }
    DistributionChart* growthChart() const { return growth_; }

Q_SIGNALS:
    void updated(); // a comparison arrived (or failed: the header says why)

private:
    void show(data::Comparison comparison);

    QLabel* header_;
    QProgressBar* progress_; // while the comparison is computed
    DistributionChart* peak_;
    DistributionChart* growth_;
    ComparisonModel* model_;
    QTableView* table_;
    std::shared_ptr<const data::Comparison> comparison_;
    JobTracker job_;
};

} // namespace memlife::ui
