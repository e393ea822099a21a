// The growth chart: live bytes at each request end against the request's index within its
// connection. A keep-alive leak is a rising line; the least-squares slope is drawn and
// named in bytes per request.
#pragma once

#include <QChartView>

#include <cmath>
#include <vector>

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
};
// Least squares of live bytes at request end over the request number (ended requests).
LinearFit fitGrowth(const std::vector<data::RequestRow>& requests);

struct GrowthDrawing; // what a query draws

// The requests of the sessions are read in a job; the chart shows them when it ends.
class GrowthChart : public QChartView {
    Q_OBJECT
public:
    static constexpr std::size_t kTopSessions = 5;
    static constexpr int kTickCount = 5; // before the axes are made nice

    explicit GrowthChart(QWidget* parent = nullptr);
    void setTrace(TracePtr trace);
    // Empty: the sessions with the steepest growth.
    void setSessions(const std::vector<std::uint64_t>& sessions);
    const std::vector<std::uint64_t>& sessions() const { return sessions_; }

    LinearFit fit(std::uint64_t session) const;
    QLineSeries* seriesFor(std::uint64_t session) const;
    bool isPending() const { return job_.isRunning(); } // the requests are being read

Q_SIGNALS:
    void updated(); // the lines of the sessions are drawn (or why they cannot be)

protected:
    void changeEvent(QEvent* event) override;

private:
    void rebuild();
    void show(GrowthDrawing drawing);
    void applyPalette();

    TracePtr trace_;
    std::vector<std::uint64_t> sessions_;
    std::vector<LinearFit> fits_;
    std::vector<QLineSeries*> series_;
    std::vector<QLineSeries*> fitSeries_;
    QChart* chart_ = nullptr;
    QValueAxis* xAxis_ = nullptr;
    QValueAxis* yAxis_ = nullptr;
    JobTracker job_;
};

} // namespace memlife::ui
