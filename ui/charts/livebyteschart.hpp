// The main chart: live bytes over time per session, drawn as steps, with request-end marks
// (selected sessions) and red corruption markers whose tooltip gives block, offset and
// message. Series are re-queried for the visible window whenever the view zooms or pans
// (debounced), in a job, with at most ~2 points per pixel column, so a trace of any size
// draws a few thousand points and the GUI thread never reads the trace.
#pragma once

#include <QChartView>
#include <QTimer>

#include <vector>

#include "jobs/jobtracker.hpp"
#include "style/format.hpp"
#include "window/loadedtrace.hpp"

QT_BEGIN_NAMESPACE
class QLineSeries;
class QScatterSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace memlife::ui {

struct LiveBytesDrawing; // what a query draws

class LiveBytesChart : public QChartView {
    Q_OBJECT
public:
    static constexpr int kRequeryDelayMs = 60;
    static constexpr std::size_t kMaxDetailedSessions = 32; // request marks for at most these

    explicit LiveBytesChart(QWidget* parent = nullptr);

    void setTrace(TracePtr trace);
    // The sessions drawn; `detailed` adds their request-end marks (a user selection).
    void setSessions(std::vector<std::uint64_t> sessions, bool detailed);
    const std::vector<std::uint64_t>& sessions() const { return sessions_; }

    void resetZoom();
    void zoomToWindow(std::uint64_t begin_ns, std::uint64_t end_ns);
    data::TimeWindow visibleWindow() const;
    // A query is due or running (the series or the request marks): what is drawn may change.
    bool isPending() const {
        return requeryTimer_.isActive() || seriesJob_.isRunning() || marksJob_.isRunning();
    }
    void requeryNow(); // starts the query at once, skipping the debounce; requeried() follows

    // What is drawn, for tests and exports.
    QLineSeries* seriesFor(std::uint64_t session) const;
    QScatterSeries* corruptionSeries() const { return corruptionSeries_; }
    int corruptionMarkerCount() const { return static_cast<int>(markers_.size()); }
    QString corruptionToolTip(int marker) const;
    std::size_t requestMarkCount() const { return requestEnds_.size(); }
    // Live bytes of the drawn series (before axis scaling) at the last requery.
    double yScale() const { return yUnit_; }

Q_SIGNALS:
    void firstPainted(); // the first paint that shows data
    void requeried();    // the series of the visible window are drawn
    void marksLoaded();  // the request-end marks of a selection are drawn

protected:
    void paintEvent(QPaintEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void changeEvent(QEvent* event) override;
    void drawForeground(QPainter* painter, const QRectF& rect) override;

private:
    void requery();
    void showSeries(LiveBytesDrawing drawn);
    void loadMarks();
    void applyPalette();
    void rebuildSeries();
    void onCorruptionHovered(const QPointF& point, bool state);
    void setXRange(double min, double max);
    double toX(std::uint64_t ns) const;
    std::uint64_t toNs(double x) const;

    TracePtr trace_;
    std::vector<std::uint64_t> sessions_;
    bool detailed_ = false;
    QChart* chart_ = nullptr;
    QValueAxis* xAxis_ = nullptr;
    QValueAxis* yAxis_ = nullptr;
    std::vector<QLineSeries*> series_; // parallel to sessions_
    QScatterSeries* corruptionSeries_ = nullptr;
    std::vector<const data::CorruptionRow*> markers_; // parallel to corruptionSeries_ points
    std::vector<std::uint64_t> requestEnds_;          // sorted ns
    QString readError_; // why the trace could not be read for these sessions, if it could not
    AxisUnit unit_;
    std::uint64_t originNs_ = 0;
    double fullMin_ = 0, fullMax_ = 1; // x range of the whole sessions
    double yUnit_ = 1;                 // bytes per y-axis unit
    QTimer requeryTimer_;
    JobTracker seriesJob_;
    JobTracker marksJob_;
    bool hasData_ = false;
    bool painted_ = false;
    bool panning_ = false;
    QPoint panStart_;
    double panMin_ = 0, panMax_ = 0;
};

} // namespace memlife::ui
