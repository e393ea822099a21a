// The growth chart: live bytes at each request end against the request's index within its
// connection. A keep-alive leak is a rising line; the least-squares slope is drawn (over
// the session's own requests) and named in bytes per request. The x axis runs to the
// longest session; a trace where nothing is left at any request end gets a sentence, not
// lines on a 0 B axis. In compare mode the base trace's steepest sessions are overlaid,
// dashed and muted, their slopes in the legend (and this trace's fits dotted).
#pragma once

#include <cmath>
#include <vector>

#include "charts/chartview.hpp"
#include "jobs/jobtracker.hpp"
#include "window/loadedtrace.hpp"

QT_BEGIN_NAMESPACE
class QLineSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace memlife::ui {

struct LinearFit {
    double slope = NAN; // bytes per request
    double intercept = NAN;
    std::size_t points = 0;
    std::uint32_t first = 0, last = 0; // the ended requests it spans
};
// Least squares of live bytes at request end over the request number (ended requests).
LinearFit fitGrowth(const std::vector<data::RequestRow>& requests);

struct GrowthDrawing; // what a query draws

// The requests of the sessions are read in a job; the chart shows them when it ends.
class GrowthChart : public ChartView {
    Q_OBJECT
public:
    explicit GrowthChart(QWidget* parent = nullptr);
    void setTrace(TracePtr trace);
    // The same trace, grown: drawn anew at the next setSessions().
    void updateTrace(TracePtr trace) { trace_ = std::move(trace); }
    // The sessions drawn (the document's chart sessions); emptyText says why there are none.
    void setSessions(const std::vector<std::uint64_t>& sessions, const QString& emptyText = {});
    const std::vector<std::uint64_t>& sessions() const { return sessions_; }
    // Compare mode: the base trace whose steepest sessions are overlaid (null: none), drawn
    // from the next setSessions() on.
    static constexpr std::size_t kBaseSessions = 3;
    void setBaseTrace(TracePtr base);
    const std::vector<std::uint64_t>& baseSessions() const { return baseSessions_; }
    QLineSeries* baseSeriesFor(std::uint64_t session) const;
    LinearFit baseFit(std::uint64_t session) const;

    LinearFit fit(std::uint64_t session) const;
    QLineSeries* seriesFor(std::uint64_t session) const;
    QLineSeries* fitFor(std::uint64_t session) const;
    QValueAxis* xAxis() const { return xAxis_; }
    QValueAxis* yAxis() const { return yAxis_; }
    bool isPending() const { return job_.isRunning(); } // the requests are being read
    // What hovering at a point of the view shows: the nearest request end's session, number
    // and bytes.
    QString toolTipAt(const QPoint& viewPos) const;

Q_SIGNALS:
    void updated(); // the lines of the sessions are drawn (or why they cannot be)

protected:
    bool event(QEvent* event) override;
    void applyPalette() override;

private:
    void rebuild();
    void show(GrowthDrawing drawing);

    TracePtr trace_, base_;
    std::vector<std::uint64_t> sessions_, baseSessions_;
    QString emptyText_;
    std::vector<LinearFit> fits_, baseFits_;
    std::vector<QLineSeries*> series_;     // parallel to sessions_
    std::vector<QLineSeries*> fitSeries_;  // parallel to sessions_; null without a fit
    std::vector<QLineSeries*> baseSeries_; // parallel to baseSessions_
    QValueAxis* xAxis_ = nullptr;
    QValueAxis* yAxis_ = nullptr;
    double yUnit_ = 1;
    JobTracker job_;
};

} // namespace memlife::ui
