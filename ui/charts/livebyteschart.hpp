// The main chart: live bytes over time per session, drawn as steps, with the total of all
// sessions (right axis), request-end marks of selected sessions (short ticks on each line,
// in its colour), and corruption marks (red squares where a corruption was detected, red
// rings at the request that allocated the block; one mark per place, with the count when
// more share it). Hovering gives the session, the time and the bytes under the cursor.
//
// The x axis is a TimeScale: time since the trace's start, or, for a trace stamped to the
// second, the events in order (charts/timescale.hpp); positions agree with the tables'
// times. Series are re-queried for the visible window whenever the view zooms or pans
// (debounced), in jobs, with at most ~2 points per pixel column, so a trace of any size
// draws a few thousand points and the GUI thread never reads the trace.
#pragma once

#include <QTimer>

#include <memory>
#include <vector>

#include "charts/chartview.hpp"
#include "charts/timescale.hpp"
#include "jobs/jobtracker.hpp"
#include "style/format.hpp"
#include "window/loadedtrace.hpp"

QT_BEGIN_NAMESPACE
class QAreaSeries;
class QCategoryAxis;
class QLineSeries;
class QScatterSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace memlife::ui {

struct LiveBytesDrawing; // what a series query draws
struct TotalDrawing;     // what a total query draws

// Corruptions drawn at one place: where they were detected, or the request that allocated
// their blocks.
struct CorruptionMark {
    std::size_t session = 0;              // index into sessions()
    std::vector<std::size_t> corruptions; // indices into LoadedTrace::corruptions
};

class LiveBytesChart : public ChartView {
    Q_OBJECT
public:
    static constexpr int kRequeryDelayMs = 60;
    static constexpr int kFollowRequeryDelayMs =
        5; // a followed trace's update: no wheel to wait for
    static constexpr std::size_t kMaxDetailedSessions = 32; // request marks for at most these
    static constexpr std::size_t kMaxLegendSessions = 12;   // more: no legend entry each
    // The total is summed from the events up to this many in the window (about 0.1 s of
    // decoding); beyond, from the sessions' levels at their request ends.
    static constexpr std::uint64_t kExactTotalEvents = 250'000;

    // The number beside a session's id in the legend.
    enum class LegendKey { Growth, Peak };
    struct Choice {
        std::vector<std::uint64_t> sessions;
        bool detailed = false; // a user selection: request-end marks
        LegendKey key = LegendKey::Growth;
        QString title;     // above the chart
        QString emptyText; // shown when `sessions` is empty
    };

    explicit LiveBytesChart(QWidget* parent = nullptr);

    void setTrace(TracePtr trace);
    // The same trace, grown (it is followed while recorded): the time range grows; a view of
    // the whole range or of its end keeps showing the end (the latest part), one the user
    // zoomed or panned elsewhere stays where it is; the series are re-queried.
    void updateTrace(TracePtr trace);
    // keepZoom: the visible window stays (a followed trace's chart sessions changed); else it
    // shows the sessions' whole range. The same sessions again with keepZoom: only the words.
    void setSessions(Choice choice, bool keepZoom = false);
    // The trace the series drawn were read from (a followed trace grows: the latest one
    // drawn may be older than the document's).
    const TracePtr& drawnTrace() const { return drawnTrace_; }
    // The sessions drawn; `detailed` adds their request-end marks (a user selection).
    void setSessions(std::vector<std::uint64_t> sessions, bool detailed);
    const std::vector<std::uint64_t>& sessions() const { return choice_.sessions; }

    void resetZoom();
    void zoomToWindow(std::uint64_t begin_ns, std::uint64_t end_ns);
    data::TimeWindow visibleWindow() const;
    bool isZoomed() const; // the visible window is narrower than the sessions' span
    // A query is due or running (the series, the total or the request marks): what is
    // drawn may change.
    bool isPending() const {
        return requeryTimer_.isActive() || seriesJob_.isRunning() || totalJob_.isRunning() ||
               marksJob_.isRunning();
    }
    void requeryNow(); // starts the queries at once, skipping the debounce; requeried() follows

    // What is drawn, for tests and exports.
    const TimeScale& timeScale() const { return scale_; }
    QCategoryAxis* timeAxis() const { return xAxis_; }
    QLineSeries* seriesFor(std::uint64_t session) const;
    QLineSeries* totalSeries() const { return totalSeries_; }
    QScatterSeries* corruptionSeries() const { return corruptionSeries_; }
    QScatterSeries* originSeries() const { return originSeries_; }
    int corruptionMarkerCount() const { return static_cast<int>(detected_.size()); }
    int originMarkerCount() const { return static_cast<int>(origins_.size()); }
    // The corruptions a detection mark stands for.
    int corruptionCount(int marker) const;
    QString corruptionToolTip(int marker) const;
    std::size_t requestMarkCount() const;
    // What hovering at a point of the view shows: a mark's, a line's or the total's tooltip
    // (session, time, bytes), else the zoom help.
    QString toolTipAt(const QPoint& viewPos) const;
    static QString helpText();
    // Live bytes of the drawn series (before axis scaling) at the last requery.
    double yScale() const { return yUnit_; }
    double totalScale() const { return totalUnit_; }
    bool totalIsExact() const { return totalExact_; }

Q_SIGNALS:
    void firstPainted(); // the first paint that shows data
    // The series and the total of the visible window are drawn (both queries ended; a read
    // error is in the title).
    void requeried();
    void marksLoaded(); // the request-end marks of a selection are drawn

protected:
    bool event(QEvent* event) override;
    void paintEvent(QPaintEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void drawForeground(QPainter* painter, const QRectF& rect) override;
    void applyPalette() override;

private:
    void requery();
    void requeryFollowed(); // a followed trace grew
    void showSeries(LiveBytesDrawing drawn);
    void showTotal(std::shared_ptr<const TotalDrawing> total);
    void emitIfDrawn(); // requeried() once neither query runs
    void loadMarks();
    void rebuildSeries(bool keepZoom = false);
    void computeRange(); // scale_, fullMin_, fullMax_ of trace_ and the sessions
    // What was visible before trace_ or the sessions changed (see updateTrace).
    struct ViewState {
        std::uint64_t beginNs = 0, endNs = 0;
        bool whole = false, atEnd = false;
    };
    ViewState viewState() const;
    void restoreView(const ViewState& view);
    void updateLegend();
    void setXRange(double min, double max);
    void updateTimeTicks(double min, double max);
    void drawRequestMarks(QPainter* painter) const;
    void drawMarkCounts(QPainter* painter) const;
    QString lineToolTip(std::size_t session, double x, double bytes) const;
    QString markToolTip(const CorruptionMark& mark, bool origin) const;

    TracePtr trace_;
    TracePtr drawnTrace_;
    Choice choice_;
    TimeScale scale_;
    QCategoryAxis* xAxis_ = nullptr;
    QValueAxis* yAxis_ = nullptr;
    QValueAxis* totalAxis_ = nullptr;
    std::vector<QLineSeries*> series_;   // parallel to sessions()
    QLineSeries* totalSeries_ = nullptr; // the upper line of totalArea_
    QAreaSeries* totalArea_ = nullptr;
    QScatterSeries* corruptionSeries_ = nullptr;
    QScatterSeries* originSeries_ = nullptr;
    std::vector<CorruptionMark> detected_;                // parallel to corruptionSeries_ points
    std::vector<CorruptionMark> origins_;                 // parallel to originSeries_ points
    std::vector<std::vector<std::uint64_t>> requestEnds_; // per session, sorted ns
    QString readError_; // why the trace could not be read for these sessions, if it could not
    double fullMin_ = 0, fullMax_ = 1; // x range of the whole sessions
    double yUnit_ = 1;                 // bytes per y-axis unit
    double totalUnit_ = 1;             // bytes per total-axis unit
    bool totalExact_ = true;           // summed from the events (else at request ends)
    // The last total and what it was drawn for.
    struct TotalKey {
        const LoadedTrace* trace = nullptr;
        double xMin = 0, xMax = 0;
        std::size_t samples = 0;
        bool ordered = false;
        bool operator==(const TotalKey&) const = default;
    };
    std::shared_ptr<const TotalDrawing> total_;
    TotalKey totalKey_;
    QTimer requeryTimer_;
    JobTracker seriesJob_;
    JobTracker totalJob_;
    JobTracker marksJob_;
    bool hasData_ = false;
    bool followingRange_ = false; // the range changes with a followed trace, not the user
    bool requeryAgain_ = false;   // a followed trace grew while a query ran
    bool painted_ = false;
    bool panning_ = false;
    QPoint panStart_;
    double panMin_ = 0, panMax_ = 0;
};

} // namespace memlife::ui
