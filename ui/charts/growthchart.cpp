#include "charts/growthchart.hpp"

#include <QFileInfo>
#include <QHelpEvent>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>

#include "memlife/data/units.hpp"
#include "style/format.hpp"
#include "style/style.hpp"

namespace memlife::ui {

LinearFit fitGrowth(const std::vector<data::RequestRow>& requests) {
    // Centered sums: live bytes can be large and request counts long.
    double n = 0, sx = 0, sy = 0;
    LinearFit fit;
    for (const auto& r : requests) {
        if (!r.end_ns) continue;
        n += 1, sx += r.number, sy += double(r.live_bytes_at_end);
        fit.first = fit.first ? std::min(fit.first, r.number) : r.number;
        fit.last = std::max(fit.last, r.number);
    }
    fit.points = static_cast<std::size_t>(n);
    if (n < 2) return fit;
    const double mx = sx / n, my = sy / n;
    double sxx = 0, sxy = 0;
    for (const auto& r : requests) {
        if (!r.end_ns) continue;
        const double dx = r.number - mx;
        sxx += dx * dx;
        sxy += dx * (double(r.live_bytes_at_end) - my);
    }
    if (sxx == 0) return fit;
    fit.slope = sxy / sxx;
    fit.intercept = my - fit.slope * mx;
    return fit;
}

// What a growth query draws, computed in the job: per session its fit and its live bytes at
// request ends (downsampled, in the y unit); in compare mode the same for the base's sessions.
struct GrowthDrawing {
    std::vector<LinearFit> fits, baseFits;
    std::vector<QList<QPointF>> points, basePoints;
    data::ByteAxis yAxis;
    double maxBytes = 0, maxIndex = 1;
    QString error; // the last session that could not be read (it stays empty)
};

namespace {

// The requests of each session; one that cannot be read (a damaged batch) stays empty and
// the drawing's error says why. Widens the drawing's ranges.
std::vector<std::vector<data::RequestRow>> readRequests(const LoadedTrace& trace,
                                                        const std::vector<std::uint64_t>& sessions,
                                                        const JobControl& job,
                                                        GrowthDrawing& drawing) {
    std::vector<std::vector<data::RequestRow>> all;
    trace.readers->use([&](const data::TraceReader& reader) {
        for (std::size_t i = 0; i < sessions.size() && !job.canceled(); ++i) {
            try {
                all.push_back(reader.requests(sessions[i]));
            } catch (const std::exception& e) {
                all.emplace_back();
                drawing.error = readErrorText(QString::fromUtf8(e.what()));
            }
            for (const auto& r : all.back()) {
                if (!r.end_ns) continue;
                drawing.maxBytes = std::max(drawing.maxBytes, double(r.live_bytes_at_end));
                drawing.maxIndex = std::max(drawing.maxIndex, double(r.number));
            }
        }
    });
    all.resize(sessions.size());
    return all;
}

// Downsampled by index buckets keeping each bucket's min and max.
QList<QPointF> downsample(const std::vector<data::RequestRow>& requests, std::size_t maxPoints,
                          double unit) {
    QList<QPointF> points;
    const std::size_t stride = std::max<std::size_t>(1, requests.size() * 2 / maxPoints);
    for (std::size_t b = 0; b < requests.size(); b += stride) {
        const data::RequestRow *lo = nullptr, *hi = nullptr;
        for (std::size_t k = b; k < std::min(requests.size(), b + stride); ++k) {
            const auto& r = requests[k];
            if (!r.end_ns) continue;
            if (!lo || r.live_bytes_at_end < lo->live_bytes_at_end) lo = &r;
            if (!hi || r.live_bytes_at_end > hi->live_bytes_at_end) hi = &r;
        }
        if (!lo) continue;
        const data::RequestRow* firstOne = lo->number <= hi->number ? lo : hi;
        const data::RequestRow* second = firstOne == lo ? hi : lo;
        points.append(QPointF(firstOne->number, double(firstOne->live_bytes_at_end) / unit));
        if (second != firstOne)
            points.append(QPointF(second->number, double(second->live_bytes_at_end) / unit));
    }
    return points;
}

struct GrowthQuery {
    TracePtr trace, base; // base: compare mode only
    std::vector<std::uint64_t> sessions, baseSessions;
    std::size_t maxPoints = 0;
    int yTicks = 0;
};

GrowthDrawing drawGrowth(const GrowthQuery& query, const JobControl& job) {
    GrowthDrawing drawing;
    const auto all = readRequests(*query.trace, query.sessions, job, drawing);
    std::vector<std::vector<data::RequestRow>> baseAll;
    if (query.base) baseAll = readRequests(*query.base, query.baseSessions, job, drawing);
    drawing.yAxis = data::byte_axis(drawing.maxBytes * 1.04, query.yTicks);
    const double unit = drawing.yAxis.unit.scale;
    for (const auto& requests : all) {
        drawing.fits.push_back(fitGrowth(requests));
        drawing.points.push_back(downsample(requests, query.maxPoints, unit));
    }
    for (const auto& requests : baseAll) {
        drawing.baseFits.push_back(fitGrowth(requests));
        drawing.basePoints.push_back(downsample(requests, query.maxPoints, unit));
    }
    return drawing;
}

// The entry of `session` in a list parallel to `sessions` (T{} when absent).
template <class T>
T atSession(const std::vector<std::uint64_t>& sessions, const std::vector<T>& values,
            std::uint64_t session) {
    for (std::size_t i = 0; i < sessions.size() && i < values.size(); ++i)
        if (sessions[i] == session) return values[i];
    return T{};
}

} // namespace

GrowthChart::GrowthChart(QWidget* parent) : ChartView(parent), job_(this) {
    chart_->legend()->setAlignment(Qt::AlignRight);
    chart_->legend()->setShowToolTips(true);
    setRenderHint(QPainter::Antialiasing, true);
    setRubberBand(QChartView::RectangleRubberBand);
    setMouseTracking(true);
    xAxis_ = new QValueAxis(chart_);
    yAxis_ = new QValueAxis(chart_);
    for (QValueAxis* axis : {xAxis_, yAxis_}) {
        axis->setTickType(QValueAxis::TicksDynamic);
        axis->setTickAnchor(0);
    }
    xAxis_->setLabelFormat(QStringLiteral("%d"));
    xAxis_->setTitleText(tr("request number within the connection"));
    chart_->addAxis(xAxis_, Qt::AlignBottom);
    chart_->addAxis(yAxis_, Qt::AlignLeft);
    applyPalette();
    rebuild();
}

void GrowthChart::setTrace(TracePtr trace) {
    trace_ = std::move(trace);
    sessions_.clear();
    rebuild();
}

void GrowthChart::setSessions(const std::vector<std::uint64_t>& sessions,
                              const QString& emptyText) {
    sessions_ = sessions;
    emptyText_ = emptyText;
    rebuild();
}

void GrowthChart::setBaseTrace(TracePtr base) {
    base_ = std::move(base);
    baseSessions_.clear();
    if (base_)
        baseSessions_ = base_->topByGrowth(
            kBaseSessions, [](const data::SessionRow& s) { return s.requests >= 2; });
}

LinearFit GrowthChart::fit(std::uint64_t session) const {
    return atSession(sessions_, fits_, session);
}

LinearFit GrowthChart::baseFit(std::uint64_t session) const {
    return atSession(baseSessions_, baseFits_, session);
}

QLineSeries* GrowthChart::seriesFor(std::uint64_t session) const {
    return atSession(sessions_, series_, session);
}

QLineSeries* GrowthChart::fitFor(std::uint64_t session) const {
    return atSession(sessions_, fitSeries_, session);
}

QLineSeries* GrowthChart::baseSeriesFor(std::uint64_t session) const {
    return atSession(baseSessions_, baseSeries_, session);
}

void GrowthChart::rebuild() {
    job_.discard();
    chart_->removeAllSeries();
    series_.clear();
    fitSeries_.clear();
    fits_.clear();
    baseSeries_.clear();
    baseFits_.clear();
    chart_->setTitle(QString());
    if (!trace_) return setMessage(tr("Open a trace to see growth per request"));
    if (trace_->sessions.empty())
        return setMessage(tr("This trace has no sessions: there is nothing to draw."));
    if (sessions_.empty())
        return setMessage(emptyText_.isEmpty() ? tr("No session to draw") : emptyText_);
    setMessage(tr("Reading the requests…"));
    const auto maxPoints =
        static_cast<std::size_t>(2 * std::max(100.0, chart_->plotArea().width()));
    const int yTicks = yTickCount(chart_->plotArea().height());
    GrowthQuery query{trace_, base_, sessions_, baseSessions_, maxPoints, yTicks};
    job_.start<GrowthDrawing>({
        .work = [query =
                     std::move(query)](const JobControl& job) { return drawGrowth(query, job); },
        .done = [this](GrowthDrawing drawing) { show(std::move(drawing)); },
        .failed =
            [this](const QString& message) {
                chart_->setTitle(readErrorText(message));
                setMessage(QString());
                Q_EMIT updated();
            },
    });
}

void GrowthChart::show(GrowthDrawing drawing) {
    yUnit_ = drawing.yAxis.unit.scale;
    for (std::size_t i = 0; i < sessions_.size() && i < drawing.fits.size(); ++i) {
        const LinearFit fit = drawing.fits[i];
        fits_.push_back(fit);
        auto* series = new QLineSeries;
        const data::SessionRow* s = trace_->session(sessions_[i]);
        series->setName(
            std::isfinite(fit.slope)
                ? tr("#%1 %2").arg(sessions_[i]).arg(formatGrowth(fit.slope))
                : tr("#%1 (%n request(s))", nullptr, s ? int(s->requests) : 0).arg(sessions_[i]));
        series->replace(drawing.points[i]);
        series->setPointsVisible(drawing.points[i].size() <= 200);
        chart_->addSeries(series);
        series->attachAxis(xAxis_);
        series->attachAxis(yAxis_);
        series_.push_back(series);

        QLineSeries* line = nullptr;
        if (std::isfinite(fit.slope)) {
            // Over the session's own requests only.
            line = new QLineSeries;
            line->setName(tr("fit #%1").arg(sessions_[i]));
            for (const double x : {double(fit.first), double(fit.last)})
                line->append(x, (fit.intercept + fit.slope * x) / yUnit_);
            chart_->addSeries(line);
            line->attachAxis(xAxis_);
            line->attachAxis(yAxis_);
        }
        fitSeries_.push_back(line);
    }
    for (std::size_t i = 0; i < baseSessions_.size() && i < drawing.baseFits.size(); ++i) {
        const LinearFit fit = drawing.baseFits[i];
        baseFits_.push_back(fit);
        auto* series = new QLineSeries;
        series->setName(std::isfinite(fit.slope)
                            ? tr("base #%1 %2").arg(baseSessions_[i]).arg(formatGrowth(fit.slope))
                            : tr("base #%1").arg(baseSessions_[i]));
        series->replace(drawing.basePoints[i]);
        chart_->addSeries(series);
        series->attachAxis(xAxis_);
        series->attachAxis(yAxis_);
        baseSeries_.push_back(series);
    }
    const QString title =
        base_ ? tr("Live bytes at each request end: this trace solid, the base (%1) dashed")
                    .arg(QFileInfo(base_->path).fileName())
              : tr("Live bytes at each request end: a keep-alive leak is a rising line");
    chart_->setTitle(drawing.error.isEmpty() ? title : drawing.error);
    if (drawing.maxBytes <= 0) {
        setMessage(tr("Live bytes are 0 at every request end of the sessions shown: none of "
                      "them keeps memory from one request to the next."));
    } else {
        setMessage(QString());
        // The slope is in the session's legend entry; the fit needs none of its own.
        for (QLineSeries* line : fitSeries_)
            if (line)
                for (QLegendMarker* marker : chart_->legend()->markers(line))
                    marker->setVisible(false);
    }
    // Whole request numbers from 0 to the longest session; bytes at 1-2-5 steps of a
    // binary unit.
    const double maxIndex = std::max(2.0, drawing.maxIndex);
    xAxis_->setTickInterval(data::tick_step(maxIndex, 8, true));
    xAxis_->setRange(0, maxIndex);
    setByteAxis(yAxis_, drawing.yAxis);
    yAxis_->setTitleText(tr("live bytes at request end (%1)")
                             .arg(QString::fromUtf8(drawing.yAxis.unit.symbol.data(),
                                                    qsizetype(drawing.yAxis.unit.symbol.size()))));
    applyPalette();
    Q_EMIT updated();
}

QString GrowthChart::toolTipAt(const QPoint& viewPos) const {
    const QPointF at = chart_->mapFromScene(mapToScene(viewPos));
    if (!trace_ || !message().isEmpty() || !chart_->plotArea().contains(at)) return {};
    constexpr double kNear = 10; // pixels
    double best = kNear;
    QString tip;
    for (std::size_t i = 0; i < series_.size(); ++i) {
        const QList<QPointF> points = series_[i]->points();
        for (const QPointF& p : points) {
            const double d = QLineF(chart_->mapToPosition(p, series_[i]), at).length();
            if (d >= best) continue;
            best = d;
            tip = tr("<b>Session %1</b>, request %2: %3 live at its end")
                      .arg(sessions_[i])
                      .arg(qint64(p.x()))
                      .arg(formatBytes(p.y() * yUnit_));
        }
    }
    return tip;
}

bool GrowthChart::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        const auto* help = static_cast<QHelpEvent*>(event);
        const QString tip = toolTipAt(help->pos());
        if (tip.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(help->globalPos(), tip, this);
        return true;
    }
    return ChartView::event(event);
}

void GrowthChart::applyPalette() {
    styleChart(chart_, palette(), font(), {xAxis_, yAxis_});
    // Each fit is dashed in its session's colour; in compare mode dotted, as the base's
    // sessions are dashed, in a muted colour of their own (they are other connections).
    for (std::size_t i = 0; i < series_.size(); ++i) {
        series_[i]->setPen(seriesPen(i));
        series_[i]->setColor(seriesColor(i));
        if (i < fitSeries_.size() && fitSeries_[i]) {
            QPen fitPen = seriesPen(i);
            fitPen.setStyle(base_ ? Qt::DotLine : Qt::DashLine);
            fitSeries_[i]->setPen(fitPen);
        }
    }
    for (QLineSeries* series : baseSeries_) {
        QPen dashed(baseColor(palette()), seriesPen(0).widthF(), Qt::DashLine);
        series->setPen(dashed);
        series->setColor(dashed.color());
    }
}

} // namespace memlife::ui
