#include "charts/livebyteschart.hpp"

#include <QAreaSeries>
#include <QCategoryAxis>
#include <QGraphicsLayout>
#include <QHelpEvent>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMouseEvent>
#include <QScatterSeries>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <unordered_map>
#include <utility>

#include "memlife/data/units.hpp"
#include "style/style.hpp"

namespace memlife::ui {

namespace {

// A point of a session's live bytes on the chart's x axis (bytes not yet scaled).
struct XBytes {
    double x = 0;
    double bytes = 0;
};
using Line = std::vector<XBytes>;

// The window a query covers, in both coordinates.
struct Window {
    double xMin = 0, xMax = 0;
    data::TimeWindow ns;
    std::size_t maxPoints = 0; // over the whole width
    int yTicks = 6;            // at most, for the plot's height
};

// The value a step line holds just before x (a corruption found at a session's close is
// drawn at the bytes the close released, not at the 0 after it).
double valueBefore(const Line& line, double x) {
    auto at = std::lower_bound(line.begin(), line.end(), x,
                               [](const XBytes& p, double v) { return p.x < v; });
    if (at == line.begin()) return line.empty() ? 0.0 : line.front().bytes;
    return std::prev(at)->bytes;
}

// The value a drawn step line holds at x (0 before its first point).

double valueAt(const QList<QPointF>& points, double x) {
    auto after = std::upper_bound(points.begin(), points.end(), x,
                                  [](double v, const QPointF& p) { return v < p.x(); });
    return after == points.begin() ? 0.0 : std::prev(after)->y();
}

// A session's live bytes over [xMin, xMax] with at most about maxPoints points. Time and x
// are proportional on a measured trace: one windowed read, reduced by the reader. On an
// ordered axis a second of events is one instant to the reader's time buckets, so the
// window is read in chunks a few pixels wide, each reduced on its own.
Line readLine(const data::TraceReader& reader, std::uint64_t session, const TimeScale& scale,
              double xMin, double xMax, std::size_t maxPoints) {
    Line line;
    const auto append = [&](const std::vector<data::SeriesPoint>& points) {
        for (const data::SeriesPoint& p : points)
            line.push_back({scale.toX(p.time_ns), double(p.live_bytes)});
    };
    if (!scale.isOrdered()) {
        append(reader.live_bytes_series(
            session, data::TimeWindow{scale.toNs(std::max(0.0, xMin)), scale.toNs(xMax)},
            maxPoints));
        return line;
    }
    const double first = std::floor(std::max(0.0, xMin)), last = std::floor(std::max(0.0, xMax));
    const std::size_t chunks = std::clamp<std::size_t>(maxPoints / 32, 1, 64);
    const double width = (last - first + 1) / double(chunks);
    for (std::size_t c = 0; c < chunks; ++c) {
        const double from = first + std::round(double(c) * width);
        const double to = c + 1 == chunks ? last : first + std::round(double(c + 1) * width) - 1;
        if (to < from) continue;
        append(reader.live_bytes_series(session, data::TimeWindow{scale.toNs(from), scale.toNs(to)},
                                        std::max<std::size_t>(2, maxPoints / chunks)));
    }
    return line;
}

// Whether the session lived at some time in the window, and until when (its close, or the
// trace's end).
bool livedIn(const data::SessionRow* s, const data::TimeWindow& w) {
    return !s || (s->open_ns <= w.end_ns && (!s->closed() || s->close_ns >= w.begin_ns));
}

std::uint64_t endOf(const data::SessionRow& s, const LoadedTrace& trace) {
    return s.closed() ? s.close_ns : trace.lastNs();
}

} // namespace

// What a series query draws, computed in the job: the steps of each session and the
// corruption marks, scaled to the y axis.
struct LiveBytesDrawing {
    std::vector<QList<QPointF>> steps; // parallel to the sessions
    QList<QPointF> detectedPoints, originPoints;
    std::vector<CorruptionMark> detected, origins;
    data::ByteAxis yAxis;
    double maxBytes = 0;
    bool hasData = false;
    QString error; // the first session that could not be read (the others are drawn)
};

// What a total query draws: the sum of all sessions' live bytes, sampled twice per pixel.
struct TotalDrawing {
    QList<QPointF> points;
    data::ByteAxis axis;
    double maxBytes = 0;
    bool exact = true; // else the sum of the levels at request ends
};

namespace {

struct SeriesQuery {
    TracePtr trace;
    std::vector<std::uint64_t> sessions;
    TimeScale scale;
    Window window;
};

// Corruption marks: at detection (on the session's line at that time) and at the request
// that allocated the block (mid-request); marks at one place are one mark with a count.
void markCorruptions(const SeriesQuery& q, const data::TraceReader& reader,
                     const std::vector<Line>& lines, LiveBytesDrawing& drawn) {
    std::unordered_map<std::uint64_t, std::size_t> indexOf;
    for (std::size_t i = 0; i < q.sessions.size(); ++i)
        indexOf.emplace(q.sessions[i], i);
    std::map<std::pair<std::size_t, std::uint64_t>, CorruptionMark> detected, origins;
    std::unordered_map<std::uint64_t, std::vector<data::RequestRow>> requests;
    const auto& corruptions = q.trace->corruptions;
    for (std::size_t k = 0; k < corruptions.size(); ++k) {
        const data::CorruptionRow& c = corruptions[k];
        auto it = indexOf.find(c.session);
        if (it == indexOf.end()) continue;
        if (c.time_ns >= q.window.ns.begin_ns && c.time_ns <= q.window.ns.end_ns) {
            CorruptionMark& mark = detected[{it->second, c.time_ns}];
            mark.session = it->second;
            mark.corruptions.push_back(k);
        }
        if (c.alloc_request == 0) continue;
        if (!requests.contains(c.session)) requests[c.session] = reader.requests(c.session);
        CorruptionMark& mark = origins[{it->second, c.alloc_request}];
        mark.session = it->second;
        mark.corruptions.push_back(k);
    }
    const double yScale = drawn.yAxis.unit.scale;
    for (auto& [key, mark] : detected) {
        const double x = q.scale.toX(key.second);
        drawn.detectedPoints.append(QPointF(x, valueBefore(lines[mark.session], x) / yScale));
        drawn.detected.push_back(std::move(mark));
    }
    for (auto& [key, mark] : origins) {
        const auto& rows = requests[q.sessions[mark.session]];
        auto r = std::find_if(rows.begin(), rows.end(), [&](const data::RequestRow& row) {
            return row.number == key.second;
        });
        if (r == rows.end()) continue;
        const double x =
            (q.scale.toX(r->begin_ns) + q.scale.toX(r->end_ns ? r->end_ns : r->begin_ns)) / 2;
        if (x < q.window.xMin || x > q.window.xMax) continue;
        drawn.originPoints.append(QPointF(x, valueBefore(lines[mark.session], x) / yScale));
        drawn.origins.push_back(std::move(mark));
    }
}

LiveBytesDrawing drawSeries(const SeriesQuery& q, const JobControl& job) {
    std::vector<Line> lines(q.sessions.size());
    LiveBytesDrawing drawn;
    const std::uint64_t last = q.trace->lastNs();
    q.trace->readers->use([&](const data::TraceReader& reader) {
        for (std::size_t i = 0; i < q.sessions.size() && !job.canceled(); ++i) {
            // A session that did not live in the window has nothing to draw there.
            const data::SessionRow* s = q.trace->session(q.sessions[i]);
            if (!livedIn(s, q.window.ns)) continue;
            try {
                lines[i] = readLine(reader, q.sessions[i], q.scale, q.window.xMin, q.window.xMax,
                                    q.window.maxPoints);
            } catch (const std::exception& e) { // a damaged batch: this session stays empty
                if (drawn.error.isEmpty()) drawn.error = readErrorText(QString::fromUtf8(e.what()));
            }
            // Still live at the window's right edge: the line reaches it.
            if (s && !lines[i].empty()) {
                const std::uint64_t until =
                    std::min({q.window.ns.end_ns, last, endOf(*s, *q.trace)});
                const double x = std::min(q.window.xMax, q.scale.toX(until));
                if (x > lines[i].back().x && (!s->closed() || s->close_ns > q.window.ns.end_ns))
                    lines[i].push_back({x, lines[i].back().bytes});
            }
            for (const XBytes& p : lines[i])
                drawn.maxBytes = std::max(drawn.maxBytes, p.bytes);
        }
        drawn.yAxis = data::byte_axis(drawn.maxBytes * 1.04, q.window.yTicks);
        try {
            markCorruptions(q, reader, lines, drawn);
        } catch (const std::exception& e) {
            if (drawn.error.isEmpty()) drawn.error = readErrorText(QString::fromUtf8(e.what()));
        }
    });
    const double yScale = drawn.yAxis.unit.scale;
    drawn.steps.resize(q.sessions.size());
    for (std::size_t i = 0; i < q.sessions.size(); ++i) {
        const Line& line = lines[i];
        QList<QPointF>& steps = drawn.steps[i];
        steps.reserve(static_cast<qsizetype>(line.size() * 2));
        for (std::size_t j = 0; j < line.size(); ++j) {
            if (j > 0) steps.append(QPointF(line[j].x, line[j - 1].bytes / yScale));
            steps.append(QPointF(line[j].x, line[j].bytes / yScale));
        }
    }
    drawn.hasData =
        std::any_of(lines.begin(), lines.end(), [](const Line& l) { return !l.empty(); });
    return drawn;
}

// A session's live bytes between its requests: 0 at its open, the level after each
// request end, 0 at its close (the request summaries: no event is decoded).
Line requestEndLine(const data::TraceReader& reader, const data::SessionRow& s,
                    const TimeScale& scale) {
    Line line{{scale.toX(s.open_ns), 0.0}};
    for (const data::RequestRow& r : reader.requests(s.id))
        if (r.end_ns) line.push_back({scale.toX(r.end_ns), double(r.live_bytes_at_end)});
    if (s.closed()) line.push_back({scale.toX(s.close_ns), 0.0});
    return line;
}

// The sum of every session's live bytes, sampled at `samples` points across the window
// (each sample exact at its x: a session's value is the step holding there). Summing means
// reading every session alive in the window; past kExactTotalEvents events that would take
// seconds, and the sessions' levels at their request ends are summed instead.
TotalDrawing drawTotal(const TracePtr& trace, const TimeScale& scale, const Window& window,
                       const JobControl& job) {
    const std::size_t samples = std::max<std::size_t>(2, window.maxPoints);
    const double span = window.xMax - window.xMin;
    const auto sampleX = [&](std::size_t j) {
        return window.xMin + span * double(j) / double(samples - 1);
    };
    TotalDrawing drawn;
    std::uint64_t events = 0;
    for (const data::SessionRow& s : trace->sessions)
        if (livedIn(&s, window.ns)) events += s.events;
    drawn.exact = events <= LiveBytesChart::kExactTotalEvents;
    std::vector<double> total(samples, 0.0);
    trace->readers->use([&](const data::TraceReader& reader) {
        for (const data::SessionRow& s : trace->sessions) {
            if (job.canceled()) return;
            if (!livedIn(&s, window.ns)) continue;
            // Points in proportion to the share of the window the session covers.
            const double from = std::max(window.xMin, scale.toX(s.open_ns));
            const double to = std::min(window.xMax, scale.toX(endOf(s, *trace)));
            const auto budget = static_cast<std::size_t>(
                std::max(4.0, double(samples) * std::max(0.0, to - from) / std::max(span, 1e-12)));
            const Line line = drawn.exact
                                  ? readLine(reader, s.id, scale, window.xMin, window.xMax, budget)
                                  : requestEndLine(reader, s, scale);
            if (line.empty()) continue;
            // Its samples: from its first point; after the last one its value holds (0 once
            // closed, the close being its last point).
            auto j = static_cast<std::size_t>(std::max(
                0.0, std::ceil((line.front().x - window.xMin) / span * double(samples - 1))));
            for (std::size_t p = 0; j < samples; ++j) {
                const double x = sampleX(j);
                while (p + 1 < line.size() && line[p + 1].x <= x)
                    ++p;
                if (line[p].bytes == 0 && p + 1 == line.size()) break;
                total[j] += line[p].bytes;
            }
        }
    });
    for (double v : total)
        drawn.maxBytes = std::max(drawn.maxBytes, v);
    drawn.axis = data::byte_axis(drawn.maxBytes * 1.04, window.yTicks);
    drawn.points.reserve(static_cast<qsizetype>(samples));
    for (std::size_t j = 0; j < samples; ++j)
        drawn.points.append(QPointF(sampleX(j), total[j] / drawn.axis.unit.scale));
    return drawn;
}

QString unitText(const data::Unit& unit) {
    return QString::fromUtf8(unit.symbol.data(), qsizetype(unit.symbol.size()));
}

} // namespace

LiveBytesChart::LiveBytesChart(QWidget* parent)
    : ChartView(parent), seriesJob_(this), totalJob_(this), marksJob_(this) {
    chart_->legend()->setAlignment(Qt::AlignRight);
    chart_->legend()->setShowToolTips(true);      // the whole label, should one ever be cut
    setRenderHint(QPainter::Antialiasing, false); // steps look crisper and draw faster
    setRubberBand(QChartView::HorizontalRubberBand);
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);

    xAxis_ = new QCategoryAxis(chart_);
    xAxis_->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    yAxis_ = new QValueAxis(chart_);
    totalAxis_ = new QValueAxis(chart_);
    for (QValueAxis* axis : {yAxis_, totalAxis_}) {
        // Ticks at round values from 0, in a binary unit (data::byte_axis).
        axis->setTickType(QValueAxis::TicksDynamic);
        axis->setTickAnchor(0);
    }
    totalAxis_->setGridLineVisible(false);
    chart_->addAxis(xAxis_, Qt::AlignBottom);
    chart_->addAxis(yAxis_, Qt::AlignLeft);
    chart_->addAxis(totalAxis_, Qt::AlignRight);

    requeryTimer_.setSingleShot(true);
    requeryTimer_.setInterval(kRequeryDelayMs);
    connect(&requeryTimer_, &QTimer::timeout, this, &LiveBytesChart::requery);
    // The ticks follow the range, however it was reached (setXRange, or the rubber band and
    // zoom-out of QChartView).
    connect(xAxis_, &QValueAxis::rangeChanged, this, [this](qreal min, qreal max) {
        updateTimeTicks(min, max);
        if (followingRange_) return requeryFollowed();
        seriesJob_.discard(); // a series of the old range is stale
        totalJob_.discard();
        requeryTimer_.start(kRequeryDelayMs);
    });
    applyPalette();
    rebuildSeries();
}

QString LiveBytesChart::helpText() {
    return tr("Drag: zoom to a range · wheel: zoom · Shift+drag or middle button: pan · "
              "right click: zoom out · 0: reset");
}

void LiveBytesChart::setTrace(TracePtr trace) {
    trace_ = std::move(trace);
    drawnTrace_.reset();
    total_.reset();
    choice_ = {};
    requestEnds_.clear();
    readError_.clear();
    marksJob_.discard();
    hasData_ = false;
    rebuildSeries();
}

void LiveBytesChart::setSessions(std::vector<std::uint64_t> sessions, bool detailed) {
    Choice choice;
    choice.sessions = std::move(sessions);
    choice.detailed = detailed;
    choice.title = detailed ? tr("Live bytes of the selected sessions")
                            : tr("Live bytes of %1 sessions").arg(choice.sessions.size());
    setSessions(std::move(choice));
}

void LiveBytesChart::setSessions(Choice choice, bool keepZoom) {
    if (keepZoom && trace_ && choice.sessions == choice_.sessions &&
        choice.detailed == choice_.detailed) {
        choice_ = std::move(choice);
        if (readError_.isEmpty() && !sessions().empty()) chart_->setTitle(choice_.title);
        return;
    }
    choice_ = std::move(choice);
    requestEnds_.clear();
    readError_.clear();
    rebuildSeries(keepZoom);
    loadMarks();
}

void LiveBytesChart::updateTrace(TracePtr trace) {
    if (!trace_ || !trace || sessions().empty()) {
        trace_ = std::move(trace);
        return rebuildSeries(true);
    }
    const ViewState view = viewState();
    trace_ = std::move(trace);
    computeRange();
    followingRange_ = true;
    restoreView(view);
    followingRange_ = false;
    requeryFollowed();
    if (choice_.detailed) loadMarks();
}

void LiveBytesChart::requeryFollowed() {
    // A query running goes on (updates come faster than a query may take: restarting it
    // each time would never draw), and the next starts when it is drawn; a query due is
    // not put off.
    if (seriesJob_.isRunning())
        requeryAgain_ = true;
    else if (!requeryTimer_.isActive())
        requeryTimer_.start(kFollowRequeryDelayMs);
}

LiveBytesChart::ViewState LiveBytesChart::viewState() const {
    ViewState view;
    const data::TimeWindow window = visibleWindow();
    view.beginNs = window.begin_ns;
    view.endNs = window.end_ns;
    const double slack = (fullMax_ - fullMin_) * 1e-3;
    view.atEnd = xAxis_->max() >= fullMax_ - slack;
    view.whole = view.atEnd && xAxis_->min() <= fullMin_ + slack;
    return view;
}

void LiveBytesChart::restoreView(const ViewState& view) {
    if (view.whole) {
        setXRange(fullMin_, fullMax_);
        return updateTimeTicks(fullMin_, fullMax_); // the scale may be new, the range the same
    }
    if (view.atEnd) { // the same width, at the new end
        const double width = scale_.toX(view.endNs) - scale_.toX(view.beginNs);
        return setXRange(std::max(fullMin_, fullMax_ - width), fullMax_);
    }
    zoomToWindow(view.beginNs, view.endNs);
}

void LiveBytesChart::computeRange() {
    std::uint64_t begin = UINT64_MAX, end = 0;
    for (std::uint64_t id : sessions()) {
        const data::SessionRow* s = trace_->session(id);
        if (!s) continue;
        begin = std::min(begin, s->open_ns);
        end = std::max(end, endOf(*s, *trace_));
    }
    if (begin == UINT64_MAX) begin = trace_->firstNs(), end = trace_->lastNs();
    if (end <= begin) end = begin + 1000;
    scale_ = TimeScale::forTrace(*trace_, double(end - begin));
    const double pad = (scale_.toX(end) - scale_.toX(begin)) * 0.02; // room to see the final drop
    fullMin_ = scale_.toX(begin) - pad;
    fullMax_ = scale_.toX(end) + pad;
    xAxis_->setTitleText(scale_.title());
}

void LiveBytesChart::loadMarks() {
    marksJob_.discard();
    if (!trace_ || !choice_.detailed) return;
    const std::vector<std::uint64_t>& all = sessions();
    const std::vector<std::uint64_t> detailed(
        all.begin(), all.begin() + std::ptrdiff_t(std::min(all.size(), kMaxDetailedSessions)));
    marksJob_.start<std::vector<std::vector<std::uint64_t>>>({
        .work =
            [readers = trace_->readers, sessions = detailed](const JobControl& job) {
                std::vector<std::vector<std::uint64_t>> ends(sessions.size());
                readers->use([&](const data::TraceReader& reader) {
                    for (std::size_t i = 0; i < sessions.size() && !job.canceled(); ++i)
                        for (const auto& request : reader.requests(sessions[i]))
                            if (request.end_ns) ends[i].push_back(request.end_ns);
                });
                return ends;
            },
        .done =
            [this](std::vector<std::vector<std::uint64_t>> ends) {
                requestEnds_ = std::move(ends);
                viewport()->update();
                Q_EMIT marksLoaded();
            },
        .failed =
            [this](const QString& message) { // a damaged batch: the marks stay off
                chart_->setTitle(readError_ = readErrorText(message));
                Q_EMIT marksLoaded();
            },
    });
}

std::size_t LiveBytesChart::requestMarkCount() const {
    std::size_t n = 0;
    for (const auto& ends : requestEnds_)
        n += ends.size();
    return n;
}

void LiveBytesChart::rebuildSeries(bool keepZoom) {
    ViewState view;
    view.whole = view.atEnd = true; // the sessions' whole range
    if (keepZoom && trace_) view = viewState();
    seriesJob_.discard(); // its series are about to go
    totalJob_.discard();
    chart_->removeAllSeries(); // deletes them
    series_.clear();
    detected_.clear();
    origins_.clear();
    totalSeries_ = nullptr;
    totalArea_ = nullptr;
    corruptionSeries_ = originSeries_ = nullptr;
    hasData_ = false;
    chart_->setTitle(QString());
    if (!trace_) return setMessage(tr("Open a trace: File > Open, a recent file, or drop it here"));
    if (trace_->sessions.empty())
        return setMessage(tr("This trace has no sessions: there is nothing to draw."));
    if (sessions().empty()) return setMessage(choice_.emptyText);

    computeRange();

    if (trace_->sessions.size() > 1) {
        // A shaded area behind the sessions' lines, on its own axis.
        totalSeries_ = new QLineSeries;
        totalArea_ = new QAreaSeries(totalSeries_);
        totalArea_->setName(
            tr("all %1 sessions (right axis)").arg(formatCount(trace_->sessions.size())));
        chart_->addSeries(totalArea_);
        totalArea_->attachAxis(xAxis_);
        totalArea_->attachAxis(totalAxis_);
    }
    for (std::uint64_t id : sessions()) {
        auto* series = new QLineSeries;
        const data::SessionRow* s = trace_->session(id);
        QString key;
        if (s)
            key = choice_.key == LegendKey::Peak
                      ? tr("peak %1").arg(formatBytes(double(s->peak_bytes)))
                      : formatGrowth(s->growth_bytes_per_request);
        series->setName(tr("#%1 %2").arg(id).arg(key));
        chart_->addSeries(series);
        series->attachAxis(xAxis_);
        series->attachAxis(yAxis_);
        series_.push_back(series);
    }
    corruptionSeries_ = new QScatterSeries;
    corruptionSeries_->setName(tr("corruption detected"));
    corruptionSeries_->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
    corruptionSeries_->setMarkerSize(11);
    originSeries_ = new QScatterSeries;
    originSeries_->setName(tr("request that allocated it"));
    originSeries_->setMarkerShape(QScatterSeries::MarkerShapeCircle);
    originSeries_->setMarkerSize(11);
    for (QScatterSeries* marks : {originSeries_, corruptionSeries_}) {
        chart_->addSeries(marks);
        marks->attachAxis(xAxis_);
        marks->attachAxis(yAxis_);
    }

    chart_->setTitle(readError_.isEmpty() ? choice_.title : readError_);
    setMessage(QString());
    updateLegend();
    applyPalette();
    restoreView(view);
    requeryTimer_.start(kRequeryDelayMs);
}

// A legend entry per session (up to kMaxLegendSessions), the total, and the corruption
// marks when there are any; the total axis only with the total.
void LiveBytesChart::updateLegend() {
    QLegend* legend = chart_->legend();
    const bool each = series_.size() <= kMaxLegendSessions;
    for (QLineSeries* series : series_)
        for (QLegendMarker* marker : legend->markers(series))
            marker->setVisible(each && message().isEmpty());
    for (QScatterSeries* marks : {corruptionSeries_, originSeries_})
        if (marks)
            for (QLegendMarker* marker : legend->markers(marks))
                marker->setVisible(marks->count() > 0 && message().isEmpty());
    totalAxis_->setVisible(totalSeries_ && message().isEmpty());
    // Qt Charts 6.4 does not lay the legend out again when a marker is shown again.
    if (QGraphicsLayout* layout = legend->layout()) layout->invalidate();
}

void LiveBytesChart::setXRange(double min, double max) {
    if (max <= min) max = min + scale_.minSpan();
    xAxis_->setRange(min, max);
}

void LiveBytesChart::updateTimeTicks(double min, double max) {
    const QStringList old = xAxis_->categoriesLabels();
    for (const QString& label : old)
        xAxis_->remove(label);
    xAxis_->setStartValue(min);
    const double width = std::max(1.0, chart_->plotArea().width());
    const int maxTicks = std::clamp(int(width / 120), 3, 10);
    // No two labels nearer than the widest of them ("12 s #4000").
    const double labelWidth = fontMetrics().horizontalAdvance(QStringLiteral("000 s #0000"));
    for (const TimeTick& tick : scale_.ticks(min, max, maxTicks, (max - min) * labelWidth / width))
        if (tick.x > min) xAxis_->append(tick.label, tick.x);
}

void LiveBytesChart::resetZoom() {
    setXRange(fullMin_, fullMax_);
}

void LiveBytesChart::zoomToWindow(std::uint64_t begin_ns, std::uint64_t end_ns) {
    setXRange(scale_.toX(begin_ns), scale_.toX(end_ns));
}

data::TimeWindow LiveBytesChart::visibleWindow() const {
    return {scale_.toNs(std::max(0.0, xAxis_->min())), scale_.toNs(std::max(0.0, xAxis_->max()))};
}

bool LiveBytesChart::isZoomed() const {
    return trace_ && (xAxis_->min() > fullMin_ || xAxis_->max() < fullMax_);
}

void LiveBytesChart::requeryNow() {
    requeryTimer_.stop();
    requery();
}

void LiveBytesChart::requery() {
    requeryTimer_.stop();
    if (!trace_ || series_.empty()) {
        seriesJob_.discard();
        totalJob_.discard();
        return;
    }
    SeriesQuery query;
    query.trace = trace_;
    query.sessions = sessions();
    query.scale = scale_;
    query.window.xMin = xAxis_->min();
    query.window.xMax = xAxis_->max();
    query.window.ns = visibleWindow();
    query.window.maxPoints =
        static_cast<std::size_t>(2 * std::max(100.0, chart_->plotArea().width()));
    query.window.yTicks = yTickCount(chart_->plotArea().height());
    seriesJob_.start<LiveBytesDrawing>({
        .work = [query](const JobControl& job) { return drawSeries(query, job); },
        .done =
            [this, trace = query.trace](LiveBytesDrawing drawn) {
                drawnTrace_ = trace;
                showSeries(std::move(drawn));
                if (std::exchange(requeryAgain_, false)) requeryFollowed();
            },
        .failed =
            [this](const QString& message) {
                chart_->setTitle(readError_ = readErrorText(message));
                emitIfDrawn();
            },
    });
    if (!totalSeries_) return;
    // The total does not depend on the sessions drawn: a new selection over the same
    // window reuses it.
    const TotalKey key{trace_.get(), query.window.xMin, query.window.xMax, query.window.maxPoints,
                       scale_.isOrdered()};
    if (total_ && key == totalKey_) return showTotal(total_);
    totalJob_.start<std::shared_ptr<const TotalDrawing>>({
        .work =
            [trace = trace_, scale = scale_, window = query.window](const JobControl& job) {
                return std::make_shared<const TotalDrawing>(drawTotal(trace, scale, window, job));
            },
        .done =
            [this, key](std::shared_ptr<const TotalDrawing> drawn) {
                total_ = drawn;
                totalKey_ = key;
                showTotal(std::move(drawn));
            },
        .failed =
            [this](const QString& message) {
                chart_->setTitle(readError_ = readErrorText(message));
                emitIfDrawn();
            },
    });
}

void LiveBytesChart::showSeries(LiveBytesDrawing drawn) {
    if (!drawn.error.isEmpty()) chart_->setTitle(readError_ = drawn.error);
    yUnit_ = drawn.yAxis.unit.scale;
    for (std::size_t i = 0; i < series_.size() && i < drawn.steps.size(); ++i)
        series_[i]->replace(drawn.steps[i]);
    detected_ = std::move(drawn.detected);
    origins_ = std::move(drawn.origins);
    corruptionSeries_->replace(drawn.detectedPoints);
    originSeries_->replace(drawn.originPoints);
    setByteAxis(yAxis_, drawn.yAxis);
    yAxis_->setTitleText(tr("live bytes per session (%1)").arg(unitText(drawn.yAxis.unit)));
    hasData_ = drawn.hasData;
    const bool zoomed = isZoomed();
    if (drawn.maxBytes <= 0)
        setMessage(zoomed ? tr("The sessions shown hold no live bytes in this range "
                               "(0 or Home: the whole trace).")
                          : tr("The sessions shown never hold live bytes: there is no line "
                               "to draw."));
    else if (!message().isEmpty())
        setMessage(QString());
    updateLegend();
    viewport()->update();
    emitIfDrawn();
}

void LiveBytesChart::showTotal(std::shared_ptr<const TotalDrawing> total) {
    const TotalDrawing& drawn = *total;
    if (!totalSeries_) return;
    totalUnit_ = drawn.axis.unit.scale;
    totalSeries_->replace(drawn.points);
    totalExact_ = drawn.exact;
    totalArea_->setName(
        drawn.exact ? tr("all %1 sessions (right axis)").arg(formatCount(trace_->sessions.size()))
                    : tr("all %1 sessions, at request ends (right axis)")
                          .arg(formatCount(trace_->sessions.size())));
    setByteAxis(totalAxis_, drawn.axis);
    totalAxis_->setTitleText(tr("all sessions (%1)").arg(unitText(drawn.axis.unit)));
    viewport()->update();
    emitIfDrawn();
}

void LiveBytesChart::emitIfDrawn() {
    // The series and the total are two jobs; whichever ends first has not drawn everything.
    if (!seriesJob_.isRunning() && !totalJob_.isRunning()) Q_EMIT requeried();
}

QLineSeries* LiveBytesChart::seriesFor(std::uint64_t session) const {
    for (std::size_t i = 0; i < sessions().size() && i < series_.size(); ++i)
        if (sessions()[i] == session) return series_[i];
    return nullptr;
}

int LiveBytesChart::corruptionCount(int marker) const {
    if (marker < 0 || marker >= corruptionMarkerCount()) return 0;
    return static_cast<int>(detected_[static_cast<std::size_t>(marker)].corruptions.size());
}

QString LiveBytesChart::corruptionToolTip(int marker) const {
    if (marker < 0 || marker >= corruptionMarkerCount()) return {};
    return markToolTip(detected_[static_cast<std::size_t>(marker)], false);
}

QString LiveBytesChart::markToolTip(const CorruptionMark& mark, bool origin) const {
    constexpr std::size_t kListed = 4;
    const std::size_t n = mark.corruptions.size();
    QString text =
        origin ? tr("<b>%n corrupted block(s)</b> allocated in this request", nullptr, int(n))
               : tr("<b>%n corruption(s)</b> detected here", nullptr, int(n));
    for (std::size_t i = 0; i < std::min(n, kListed); ++i) {
        const data::CorruptionRow& c = trace_->corruptions[mark.corruptions[i]];
        text += tr("<br>session %1, block %2 (%3 bytes, %4 scope): first modified byte at "
                   "offset +%5 past the requested size (%6 modified); allocated in request %7, "
                   "detected in request %8 at %9<br><i>%10</i>")
                    .arg(c.session)
                    .arg(c.block)
                    .arg(c.size)
                    .arg(scopeName(c.scope))
                    .arg(c.first_offset)
                    .arg(c.modified_count)
                    .arg(c.alloc_request)
                    .arg(c.request)
                    .arg(scale_.timeText(c.time_ns))
                    .arg(QString::fromStdString(c.message).toHtmlEscaped());
    }
    if (n > kListed) text += tr("<br>… and %1 more").arg(n - kListed);
    return text;
}

QString LiveBytesChart::lineToolTip(std::size_t session, double x, double bytes) const {
    const std::uint64_t id = sessions()[session];
    const data::SessionRow* s = trace_->session(id);
    return tr("<b>Session %1</b> %2<br>%3: %4 live")
        .arg(id)
        .arg(s ? QString::fromStdString(s->peer).toHtmlEscaped() : QString())
        .arg(scale_.timeText(scale_.toNs(x)))
        .arg(formatBytes(bytes));
}

QString LiveBytesChart::toolTipAt(const QPoint& viewPos) const {
    if (!trace_ || !message().isEmpty() || series_.empty()) return helpText();
    const QPointF at = chart_->mapFromScene(mapToScene(viewPos));
    if (!chart_->plotArea().contains(at)) return helpText();
    constexpr double kNear = 8; // pixels
    // Marks first: they sit on the lines.
    for (const auto& [marks, series, origin] : {std::tuple{&detected_, corruptionSeries_, false},
                                                std::tuple{&origins_, originSeries_, true}})
        for (int i = 0; i < series->count() && i < int(marks->size()); ++i)
            if (QLineF(chart_->mapToPosition(series->at(i), series), at).length() <= kNear)
                return markToolTip((*marks)[std::size_t(i)], origin);
    const double x = chart_->mapToValue(at, series_.front()).x();
    double best = kNear + 1;
    QString tip;
    for (std::size_t i = 0; i < series_.size(); ++i) {
        const double y = valueAt(series_[i]->points(), x);
        const double d = std::abs(chart_->mapToPosition(QPointF(x, y), series_[i]).y() - at.y());
        if (d < best) best = d, tip = lineToolTip(i, x, y * yUnit_);
    }
    // The total only where no session's line is as near (they meet where one session is
    // all there is).
    if (tip.isEmpty() && totalSeries_ && totalSeries_->count() > 0) {
        const double y = valueAt(totalSeries_->points(), x);
        const double d = std::abs(chart_->mapToPosition(QPointF(x, y), totalArea_).y() - at.y());
        if (d < best)
            tip = (totalExact_ ? tr("<b>All %1 sessions</b><br>%2: %3 live")
                               : tr("<b>All %1 sessions</b>, at their request ends<br>%2: %3 "
                                    "live"))
                      .arg(formatCount(trace_->sessions.size()))
                      .arg(scale_.timeText(scale_.toNs(x)))
                      .arg(formatBytes(y * totalUnit_));
    }
    return tip.isEmpty() ? helpText() : tip;
}

bool LiveBytesChart::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        const auto* help = static_cast<QHelpEvent*>(event);
        QToolTip::showText(help->globalPos(), toolTipAt(help->pos()), this);
        return true;
    }
    return ChartView::event(event);
}

void LiveBytesChart::applyPalette() {
    const QPalette pal = palette();
    styleChart(chart_, pal, font(), {xAxis_, yAxis_, totalAxis_});
    for (std::size_t i = 0; i < series_.size(); ++i)
        series_[i]->setPen(seriesPen(i));
    if (totalArea_) {
        QColor line = pal.color(QPalette::Text), fill = line;
        line.setAlpha(110);
        fill.setAlpha(28);
        totalArea_->setPen(QPen(line, 1));
        totalArea_->setBrush(fill);
    }
    if (corruptionSeries_) {
        corruptionSeries_->setColor(corruptionColor());
        corruptionSeries_->setBorderColor(pal.color(QPalette::Text));
        originSeries_->setColor(pal.color(QPalette::Base));
        originSeries_->setBorderColor(corruptionColor());
        QPen ring(corruptionColor(), 2.5);
        originSeries_->setPen(ring);
    }
}

void LiveBytesChart::paintEvent(QPaintEvent* event) {
    QChartView::paintEvent(event);
    if (!painted_ && hasData_) {
        painted_ = true;
        Q_EMIT firstPainted();
    }
}

void LiveBytesChart::resizeEvent(QResizeEvent* event) {
    QChartView::resizeEvent(event);
    updateTimeTicks(xAxis_->min(), xAxis_->max());    // as many as the width holds
    if (trace_) requeryTimer_.start(kRequeryDelayMs); // the pixel width sets the point budget
}

void LiveBytesChart::drawForeground(QPainter* painter, const QRectF& rect) {
    ChartView::drawForeground(painter, rect);
    if (!message().isEmpty()) return;
    drawRequestMarks(painter);
    drawMarkCounts(painter);
}

// Request ends as short ticks across each selected session's line, in its colour: the
// grid's lines are long and grey.
void LiveBytesChart::drawRequestMarks(QPainter* painter) const {
    if (requestEnds_.empty()) return;
    const QRectF plot = chart_->mapRectToScene(chart_->plotArea());
    const data::TimeWindow window = visibleWindow();
    const double min = xAxis_->min(), span = xAxis_->max() - xAxis_->min();
    painter->save();
    painter->setClipRect(plot);
    for (std::size_t i = 0; i < requestEnds_.size() && i < series_.size(); ++i) {
        const QList<QPointF> points = series_[i]->points();
        painter->setPen(seriesPen(i, 2));
        int lastColumn = INT_MIN; // one mark per pixel column, however many requests end there
        const auto& ends = requestEnds_[i];
        for (auto it = std::lower_bound(ends.begin(), ends.end(), window.begin_ns);
             it != ends.end() && *it <= window.end_ns; ++it) {
            const double x = scale_.toX(*it);
            const double px = plot.left() + (x - min) / span * plot.width();
            const int column = static_cast<int>(std::floor(px));
            if (column == lastColumn) continue;
            lastColumn = column;
            const double py =
                chart_
                    ->mapToScene(chart_->mapToPosition(QPointF(x, valueAt(points, x)), series_[i]))
                    .y();
            painter->drawLine(QPointF(px, py - 6), QPointF(px, py + 6));
        }
    }
    painter->restore();
}

// A mark standing for several corruptions carries their number.
void LiveBytesChart::drawMarkCounts(QPainter* painter) const {
    painter->save();
    painter->setPen(palette().color(QPalette::Text));
    QFont font = this->font();
    font.setBold(true);
    painter->setFont(font);
    for (const auto& [marks, series] :
         {std::pair{&detected_, corruptionSeries_}, std::pair{&origins_, originSeries_}}) {
        if (!series) continue;
        for (int i = 0; i < series->count() && i < int(marks->size()); ++i) {
            const std::size_t n = (*marks)[std::size_t(i)].corruptions.size();
            if (n < 2) continue;
            const QPointF at = chart_->mapToScene(chart_->mapToPosition(series->at(i), series));
            painter->drawText(at + QPointF(8, -6), QString::number(n));
        }
    }
    painter->restore();
}

void LiveBytesChart::wheelEvent(QWheelEvent* event) {
    const double steps = event->angleDelta().y() / 120.0;
    const QRectF plot = chart_->plotArea();
    if (steps == 0 || !trace_ || plot.width() <= 0) return;
    const double factor = std::pow(0.8, steps);
    const double min = xAxis_->min(), max = xAxis_->max();
    const double fraction = std::clamp(
        (chart_->mapFromScene(mapToScene(event->position().toPoint())).x() - plot.left()) /
            plot.width(),
        0.0, 1.0);
    const double anchor = min + fraction * (max - min);
    const double span = std::max(scale_.minSpan(), (max - min) * factor);
    if (span >= fullMax_ - fullMin_) {
        resetZoom();
    } else {
        setXRange(anchor - fraction * span, anchor + (1 - fraction) * span);
    }
    event->accept();
}

void LiveBytesChart::mousePressEvent(QMouseEvent* event) {
    const bool pan = event->button() == Qt::MiddleButton ||
                     (event->button() == Qt::LeftButton && event->modifiers() & Qt::ShiftModifier);
    if (pan && trace_) {
        panning_ = true;
        panStart_ = event->pos();
        panMin_ = xAxis_->min();
        panMax_ = xAxis_->max();
        setCursor(Qt::ClosedHandCursor);
        event->accept();
        return;
    }
    QChartView::mousePressEvent(event);
}

void LiveBytesChart::mouseMoveEvent(QMouseEvent* event) {
    if (panning_) {
        const double width = std::max(1.0, chart_->plotArea().width());
        const double shift = (event->pos().x() - panStart_.x()) / width * (panMax_ - panMin_);
        setXRange(panMin_ - shift, panMax_ - shift);
        event->accept();
        return;
    }
    QChartView::mouseMoveEvent(event);
}

void LiveBytesChart::mouseReleaseEvent(QMouseEvent* event) {
    if (panning_) {
        panning_ = false;
        unsetCursor();
        event->accept();
        return;
    }
    QChartView::mouseReleaseEvent(event);
}

void LiveBytesChart::keyPressEvent(QKeyEvent* event) {
    const double min = xAxis_->min(), max = xAxis_->max(), span = max - min;
    switch (event->key()) {
    case Qt::Key_0:
    case Qt::Key_Home:
        resetZoom();
        break;
    case Qt::Key_Left:
        setXRange(min - span / 10, max - span / 10);
        break;
    case Qt::Key_Right:
        setXRange(min + span / 10, max + span / 10);
        break;
    case Qt::Key_Plus:
    case Qt::Key_Equal:
        setXRange(min + span / 4, max - span / 4);
        break;
    case Qt::Key_Minus:
        if (span * 2 >= fullMax_ - fullMin_)
            resetZoom();
        else
            setXRange(min - span / 2, max + span / 2);
        break;
    default:
        QChartView::keyPressEvent(event);
        return;
    }
    event->accept();
}

} // namespace memlife::ui
