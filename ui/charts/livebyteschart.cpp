#include "charts/livebyteschart.hpp"

#include <QLegendMarker>
#include <QLineSeries>
#include <QMouseEvent>
#include <QScatterSeries>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "style/style.hpp"

namespace memlife::ui {

// What a series query draws, computed in the job: the steps of each session and the
// corruption markers, scaled to the y unit.
struct LiveBytesDrawing {
    std::vector<QList<QPointF>> steps; // parallel to the sessions
    QList<QPointF> marks;
    std::vector<std::size_t> markers; // indices into LoadedTrace::corruptions, parallel to marks
    AxisUnit yUnit;
    double maxBytes = 0;
    bool hasData = false;
    QString error; // the first session that could not be read (the others are drawn)
};

namespace {

// A round tick step (1, 2 or 5 times a power of ten) giving about 8 ticks over `span`.
double tickStepFor(double span) {
    if (span <= 0) return 1;
    const double raw = span / 8;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (double step : {1.0, 2.0, 5.0})
        if (step * magnitude >= raw) return step * magnitude;
    return 10 * magnitude;
}

// The label precision that shows a tick step exactly.
QString labelFormatFor(double step) {
    const int decimals = step > 0 ? std::clamp(int(std::ceil(-std::log10(step) - 1e-9)), 0, 9) : 0;
    return QStringLiteral("%.%1f").arg(decimals);
}

// A round upper bound for the y axis.
double niceCeil(double value) {
    if (value <= 0) return 1;
    const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
    for (double step : {1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0})
        if (step * magnitude >= value) return step * magnitude;
    return 10 * magnitude;
}

struct SeriesQuery {
    TracePtr trace;
    std::vector<std::uint64_t> sessions;
    data::TimeWindow window;
    std::size_t maxPoints = 0;
    std::uint64_t originNs = 0;
    double xScale = 1; // ns per x unit
};

LiveBytesDrawing drawSeries(const SeriesQuery& q, const JobControl& job) {
    const auto toX = [&q](std::uint64_t ns) {
        return (double(ns) - double(q.originNs)) / q.xScale;
    };
    std::vector<std::vector<data::SeriesPoint>> points(q.sessions.size());
    LiveBytesDrawing drawn;
    q.trace->readers->use([&](const data::TraceReader& reader) {
        for (std::size_t i = 0; i < q.sessions.size() && !job.canceled(); ++i) {
            // A session that did not live in the window has nothing to draw there.
            const data::SessionRow* s = q.trace->session(q.sessions[i]);
            if (s &&
                (s->open_ns > q.window.end_ns || (s->closed() && s->close_ns < q.window.begin_ns)))
                continue;
            try {
                points[i] = reader.live_bytes_series(q.sessions[i], q.window, q.maxPoints);
            } catch (const std::exception& e) { // a damaged batch: this session stays empty
                if (drawn.error.isEmpty()) drawn.error = readErrorText(QString::fromUtf8(e.what()));
            }
            for (const auto& p : points[i])
                drawn.maxBytes = std::max(drawn.maxBytes, double(p.live_bytes));
        }
    });
    drawn.yUnit = byteAxisUnit(drawn.maxBytes);
    const double yScale = drawn.yUnit.scale;

    const std::uint64_t last = q.trace->lastNs();
    drawn.steps.resize(q.sessions.size());
    for (std::size_t i = 0; i < q.sessions.size(); ++i) {
        const auto& pts = points[i];
        QList<QPointF>& steps = drawn.steps[i];
        steps.reserve(static_cast<qsizetype>(pts.size() * 2 + 1));
        for (std::size_t j = 0; j < pts.size(); ++j) {
            const double x = toX(pts[j].time_ns);
            if (j > 0) steps.append(QPointF(x, double(pts[j - 1].live_bytes) / yScale));
            steps.append(QPointF(x, double(pts[j].live_bytes) / yScale));
        }
        // A session still open at the end of the trace keeps its last value to the end.
        const data::SessionRow* s = q.trace->session(q.sessions[i]);
        if (!pts.empty() && s && !s->closed()) {
            const std::uint64_t until = std::min(q.window.end_ns, last);
            if (until > pts.back().time_ns)
                steps.append(QPointF(toX(until), double(pts.back().live_bytes) / yScale));
        }
    }

    // Corruption markers sit on their session's step at the time of detection.
    std::unordered_map<std::uint64_t, std::size_t> indexOf;
    for (std::size_t i = 0; i < q.sessions.size(); ++i)
        indexOf.emplace(q.sessions[i], i);
    const auto& corruptions = q.trace->corruptions;
    for (std::size_t k = 0; k < corruptions.size(); ++k) {
        const data::CorruptionRow& c = corruptions[k];
        auto it = indexOf.find(c.session);
        if (it == indexOf.end() || c.time_ns < q.window.begin_ns || c.time_ns > q.window.end_ns)
            continue;
        const auto& pts = points[it->second];
        auto after = std::upper_bound(
            pts.begin(), pts.end(), c.time_ns,
            [](std::uint64_t t, const data::SeriesPoint& p) { return t < p.time_ns; });
        const double bytes = after == pts.begin() ? 0.0 : double(std::prev(after)->live_bytes);
        drawn.marks.append(QPointF(toX(c.time_ns), bytes / yScale));
        drawn.markers.push_back(k);
    }
    drawn.hasData =
        std::any_of(points.begin(), points.end(), [](const auto& p) { return !p.empty(); });
    return drawn;
}

} // namespace

LiveBytesChart::LiveBytesChart(QWidget* parent)
    : QChartView(parent), seriesJob_(this), marksJob_(this) {
    chart_ = new QChart;
    chart_->setMargins(QMargins(6, 6, 6, 6));
    chart_->legend()->setAlignment(Qt::AlignTop);
    chart_->setAnimationOptions(QChart::NoAnimation);
    setChart(chart_);
    setRenderHint(QPainter::Antialiasing, false); // steps look crisper and draw faster
    setRubberBand(QChartView::HorizontalRubberBand);
    setFocusPolicy(Qt::StrongFocus);
    setToolTip(tr("Drag: zoom to a range · wheel: zoom · Shift+drag or middle button: pan · "
                  "right click: zoom out · 0: reset"));

    xAxis_ = new QValueAxis(chart_);
    yAxis_ = new QValueAxis(chart_);
    yAxis_->setTickCount(6);
    yAxis_->setLabelFormat(QStringLiteral("%.1f"));
    chart_->addAxis(xAxis_, Qt::AlignBottom);
    chart_->addAxis(yAxis_, Qt::AlignLeft);

    requeryTimer_.setSingleShot(true);
    requeryTimer_.setInterval(kRequeryDelayMs);
    connect(&requeryTimer_, &QTimer::timeout, this, &LiveBytesChart::requery);
    // Ticks at round values from 0 (the trace start), however the range was reached
    // (setXRange, or the rubber band and zoom-out of QChartView).
    xAxis_->setRange(0, 1);
    xAxis_->setTickInterval(tickStepFor(1));
    xAxis_->setTickType(QValueAxis::TicksDynamic);
    xAxis_->setTickAnchor(0);
    connect(xAxis_, &QValueAxis::rangeChanged, this, [this](qreal min, qreal max) {
        const double step = tickStepFor(max - min);
        xAxis_->setTickInterval(step);
        xAxis_->setLabelFormat(labelFormatFor(step));
        seriesJob_.discard(); // a series of the old range is stale
        requeryTimer_.start();
    });
    applyPalette();
    rebuildSeries();
}

double LiveBytesChart::toX(std::uint64_t ns) const {
    return (double(ns) - double(originNs_)) / unit_.scale;
}

std::uint64_t LiveBytesChart::toNs(double x) const {
    const double ns = double(originNs_) + x * unit_.scale;
    return ns <= 0 ? 0 : static_cast<std::uint64_t>(ns);
}

void LiveBytesChart::setTrace(TracePtr trace) {
    trace_ = std::move(trace);
    sessions_.clear();
    requestEnds_.clear();
    readError_.clear();
    marksJob_.discard();
    hasData_ = false;
    rebuildSeries();
}

void LiveBytesChart::setSessions(std::vector<std::uint64_t> sessions, bool detailed) {
    sessions_ = std::move(sessions);
    detailed_ = detailed;
    requestEnds_.clear();
    readError_.clear();
    rebuildSeries();
    loadMarks();
}

void LiveBytesChart::loadMarks() {
    marksJob_.discard();
    if (!trace_ || !detailed_) return;
    const std::vector<std::uint64_t> sessions(
        sessions_.begin(),
        sessions_.begin() + std::ptrdiff_t(std::min(sessions_.size(), kMaxDetailedSessions)));
    marksJob_.start<std::vector<std::uint64_t>>({
        .work =
            [readers = trace_->readers, sessions](const JobControl& job) {
                std::vector<std::uint64_t> ends;
                readers->use([&](const data::TraceReader& reader) {
                    for (std::size_t i = 0; i < sessions.size() && !job.canceled(); ++i)
                        for (const auto& request : reader.requests(sessions[i]))
                            if (request.end_ns) ends.push_back(request.end_ns);
                });
                std::sort(ends.begin(), ends.end());
                return ends;
            },
        .done =
            [this](std::vector<std::uint64_t> ends) {
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

void LiveBytesChart::rebuildSeries() {
    seriesJob_.discard();      // its series are about to go
    chart_->removeAllSeries(); // deletes them
    series_.clear();
    markers_.clear();
    corruptionSeries_ = nullptr;
    if (!trace_) {
        chart_->setTitle(tr("Open a trace: File > Open, a recent file, or drop it here"));
        xAxis_->setTitleText(QString());
        yAxis_->setTitleText(QString());
        viewport()->update();
        return;
    }
    originNs_ = trace_->firstNs();
    std::uint64_t begin = UINT64_MAX, end = 0;
    const std::uint64_t last = trace_->lastNs();
    for (std::uint64_t id : sessions_) {
        const data::SessionRow* s = trace_->session(id);
        if (!s) continue;
        begin = std::min(begin, s->open_ns);
        end = std::max(end, s->closed() ? s->close_ns : last);
    }
    if (begin == UINT64_MAX) begin = originNs_, end = last;
    if (end <= begin) end = begin + 1000;
    unit_ = timeAxisUnit(double(end - begin));
    const double pad = (double(end) - double(begin)) * 0.02; // room to see the final drop
    fullMin_ = toX(begin) - pad / unit_.scale;
    fullMax_ = toX(end) + pad / unit_.scale;
    xAxis_->setTitleText(tr("time since trace start (%1)").arg(unit_.suffix));

    for (std::uint64_t id : sessions_) {
        auto* series = new QLineSeries;
        const data::SessionRow* s = trace_->session(id);
        series->setName(s ? tr("#%1 %2").arg(id).arg(QString::fromStdString(s->peer))
                          : tr("#%1").arg(id));
        chart_->addSeries(series);
        series->attachAxis(xAxis_);
        series->attachAxis(yAxis_);
        series_.push_back(series);
    }
    corruptionSeries_ = new QScatterSeries;
    corruptionSeries_->setName(tr("corruption"));
    corruptionSeries_->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
    corruptionSeries_->setMarkerSize(11);
    chart_->addSeries(corruptionSeries_);
    corruptionSeries_->attachAxis(xAxis_);
    corruptionSeries_->attachAxis(yAxis_);
    connect(corruptionSeries_, &QScatterSeries::hovered, this,
            &LiveBytesChart::onCorruptionHovered);

    chart_->setTitle(detailed_ ? tr("Live bytes of the selected sessions")
                               : tr("Live bytes of the %1 sessions with the highest peak "
                                    "(select sessions to choose)")
                                     .arg(sessions_.size()));
    if (!readError_.isEmpty()) chart_->setTitle(readError_);
    applyPalette();
    // Hide the corruption legend entry when there is none to explain.
    setXRange(fullMin_, fullMax_);
    requeryTimer_.start();
}

void LiveBytesChart::setXRange(double min, double max) {
    if (max <= min) max = min + 1e-9;
    // The tick step first: the axis lays out its ticks inside setRange, and the old step
    // over a much wider range would mean millions of tick items.
    const double step = tickStepFor(max - min);
    xAxis_->setTickInterval(step);
    xAxis_->setLabelFormat(labelFormatFor(step));
    xAxis_->setRange(min, max);
}

void LiveBytesChart::resetZoom() {
    setXRange(fullMin_, fullMax_);
}

void LiveBytesChart::zoomToWindow(std::uint64_t begin_ns, std::uint64_t end_ns) {
    setXRange(toX(begin_ns), toX(end_ns));
}

data::TimeWindow LiveBytesChart::visibleWindow() const {
    return {toNs(std::max(0.0, xAxis_->min())), toNs(std::max(0.0, xAxis_->max()))};
}

void LiveBytesChart::requeryNow() {
    requeryTimer_.stop();
    requery();
}

void LiveBytesChart::requery() {
    requeryTimer_.stop();
    if (!trace_ || series_.empty()) {
        seriesJob_.discard();
        markers_.clear();
        if (corruptionSeries_) corruptionSeries_->clear();
        return;
    }
    SeriesQuery query;
    query.trace = trace_;
    query.sessions = sessions_;
    query.window = visibleWindow();
    query.maxPoints = static_cast<std::size_t>(2 * std::max(100.0, chart_->plotArea().width()));
    query.originNs = originNs_;
    query.xScale = unit_.scale;
    seriesJob_.start<LiveBytesDrawing>({
        .work = [query](const JobControl& job) { return drawSeries(query, job); },
        .done = [this](LiveBytesDrawing drawn) { showSeries(std::move(drawn)); },
        .failed =
            [this](const QString& message) {
                chart_->setTitle(readError_ = readErrorText(message));
                Q_EMIT requeried();
            },
    });
}

void LiveBytesChart::showSeries(LiveBytesDrawing drawn) {
    if (!drawn.error.isEmpty()) chart_->setTitle(readError_ = drawn.error);
    yUnit_ = drawn.yUnit.scale;
    for (std::size_t i = 0; i < series_.size() && i < drawn.steps.size(); ++i)
        series_[i]->replace(drawn.steps[i]);
    markers_.clear();
    for (std::size_t k : drawn.markers)
        markers_.push_back(&trace_->corruptions[k]);
    corruptionSeries_->replace(drawn.marks);
    for (QLegendMarker* marker : chart_->legend()->markers(corruptionSeries_))
        marker->setVisible(!markers_.empty());

    yAxis_->setRange(0, niceCeil(std::max(drawn.maxBytes / yUnit_, 1.0) * 1.08));
    yAxis_->setTitleText(tr("live bytes (%1)").arg(drawn.yUnit.suffix));
    hasData_ = drawn.hasData;
    viewport()->update();
    Q_EMIT requeried();
}

QLineSeries* LiveBytesChart::seriesFor(std::uint64_t session) const {
    for (std::size_t i = 0; i < sessions_.size() && i < series_.size(); ++i)
        if (sessions_[i] == session) return series_[i];
    return nullptr;
}

QString LiveBytesChart::corruptionToolTip(int marker) const {
    if (marker < 0 || marker >= static_cast<int>(markers_.size())) return {};
    const data::CorruptionRow& c = *markers_[static_cast<std::size_t>(marker)];
    return tr("<b>Corruption</b> in session %1, block %2 (%3 bytes, %4 scope)<br>"
              "first modified byte at offset +%5 past the requested size (%6 modified)<br>"
              "detected in request %7 at %8<br><i>%9</i>")
        .arg(c.session)
        .arg(c.block)
        .arg(c.size)
        .arg(scopeName(c.scope))
        .arg(c.first_offset)
        .arg(c.modified_count)
        .arg(c.request)
        .arg(formatDuration(double(c.time_ns) - double(originNs_)))
        .arg(QString::fromStdString(c.message).toHtmlEscaped());
}

void LiveBytesChart::onCorruptionHovered(const QPointF& point, bool state) {
    if (!state) {
        QToolTip::hideText();
        return;
    }
    const QList<QPointF> pts = corruptionSeries_->points();
    int best = -1;
    double bestDistance = 0;
    for (int i = 0; i < pts.size(); ++i) {
        const QPointF a = chart_->mapToPosition(pts[i], corruptionSeries_);
        const QPointF b = chart_->mapToPosition(point, corruptionSeries_);
        const double d = QLineF(a, b).length();
        if (best < 0 || d < bestDistance) best = i, bestDistance = d;
    }
    if (best >= 0) QToolTip::showText(QCursor::pos(), corruptionToolTip(best), this);
}

void LiveBytesChart::applyPalette() {
    const QPalette pal = palette();
    styleChart(chart_, pal, font(), {xAxis_, yAxis_});
    for (std::size_t i = 0; i < series_.size(); ++i)
        series_[i]->setPen(QPen(seriesColor(i), 1.5));
    if (corruptionSeries_) {
        corruptionSeries_->setColor(corruptionColor());
        corruptionSeries_->setBorderColor(pal.color(QPalette::Text));
    }
}

void LiveBytesChart::changeEvent(QEvent* event) {
    QChartView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) applyPalette();
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
    if (trace_) requeryTimer_.start(); // the pixel width sets the point budget
}

void LiveBytesChart::drawForeground(QPainter* painter, const QRectF& rect) {
    QChartView::drawForeground(painter, rect);
    if (requestEnds_.empty()) return;
    const QRectF plot = chart_->mapRectToScene(chart_->plotArea());
    const data::TimeWindow window = visibleWindow();
    const double min = xAxis_->min(), span = xAxis_->max() - xAxis_->min();
    QColor color = palette().color(QPalette::Text);
    color.setAlpha(70);
    painter->save();
    painter->setPen(QPen(color, 0));
    int lastColumn = INT_MIN; // one mark per pixel column, however many requests end there
    for (auto it = std::lower_bound(requestEnds_.begin(), requestEnds_.end(), window.begin_ns);
         it != requestEnds_.end() && *it <= window.end_ns; ++it) {
        const double px = plot.left() + (toX(*it) - min) / span * plot.width();
        const int column = static_cast<int>(std::floor(px));
        if (column == lastColumn) continue;
        lastColumn = column;
        painter->drawLine(QPointF(px, plot.top()), QPointF(px, plot.bottom()));
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
    const double minSpan = 100.0 / unit_.scale; // 100 ns
    const double span = std::max(minSpan, (max - min) * factor);
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
