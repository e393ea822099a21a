// Compare mode: how one per-session figure is spread over the sessions of the base trace and
// of this one, as two box plots side by side (the base's dashed): the box spans the middle
// half of the sessions, the line in it is the median, the whiskers reach the extremes.
// Drawn from the summary tables both loaded traces hold: no query.
#pragma once

#include <QChartView>

#include <vector>

#include "window/loadedtrace.hpp"

QT_BEGIN_NAMESPACE
class QBoxPlotSeries;
class QBarCategoryAxis;
class QValueAxis;
QT_END_NAMESPACE

namespace memlife::ui {

struct BoxStats {
    std::size_t count = 0;
    double min = 0, q1 = 0, median = 0, q3 = 0, max = 0; // quartiles interpolated linearly
};
BoxStats boxStats(std::vector<double> values);

class DistributionChart : public QChartView {
    Q_OBJECT
public:
    enum class Figure {
        Peak,   // peak bytes, every session
        Growth, // growth per request, sessions with at least two requests (as memlife diff)
    };

    explicit DistributionChart(Figure figure, QWidget* parent = nullptr);
    void setTraces(TracePtr base, TracePtr next);

    const BoxStats& stats(bool base) const { return base ? base_ : next_; }
    QBoxPlotSeries* series(bool base) const { return base ? baseSeries_ : nextSeries_; }
    // The per-session values the figure takes from one trace.
    static std::vector<double> values(const LoadedTrace& trace, Figure figure);

protected:
    void changeEvent(QEvent* event) override;

private:
    void rebuild();
    void applyPalette();

    Figure figure_;
    TracePtr baseTrace_, nextTrace_;
    BoxStats base_, next_;
    QChart* chart_;
    QBoxPlotSeries* baseSeries_ = nullptr;
    QBoxPlotSeries* nextSeries_ = nullptr;
    QBarCategoryAxis* xAxis_;
    QValueAxis* yAxis_;
};

} // namespace memlife::ui
