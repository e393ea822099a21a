#include "charts/growthchart.hpp"

#include <QLegendMarker>
#include <QLineSeries>
#include <QValueAxis>

#include <algorithm>

#include "style/format.hpp"
#include "style/style.hpp"

namespace memlife::ui {

LinearFit fitGrowth(const std::vector<data::RequestRow>& requests) {
    // Centered sums: live bytes can be large and request counts long.
    double n = 0, sx = 0, sy = 0;
    for (const auto& r : requests)
        if (r.end_ns) n += 1, sx += r.number, sy += double(r.live_bytes_at_end);
    LinearFit fit;
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
// request ends (downsampled, in the y unit).
struct GrowthDrawing {
    std::vector<LinearFit> fits;
    std::vector<QList<QPointF>> points;
    AxisUnit yUnit;
    double maxBytes = 0, maxIndex = 1;
    QString error; // the last session that could not be read (it stays empty)
};

namespace {

GrowthDrawing drawGrowth(const TracePtr& trace, const std::vector<std::uint64_t>& sessions,
                         std::size_t maxPoints, const JobControl& job) {
    GrowthDrawing drawing;
    std::vector<std::vector<data::RequestRow>> all;
    trace->readers->use([&](const data::TraceReader& reader) {
        for (std::size_t i = 0; i < sessions.size() && !job.canceled(); ++i) {
            try {
                all.push_back(reader.requests(sessions[i]));
            } catch (const std::exception& e) { // a damaged batch: this session stays empty
                all.emplace_back();
                drawing.error = readErrorText(QString::fromUtf8(e.what()));
            }
            for (const auto& r : all.back())
                drawing.maxBytes = std::max(drawing.maxBytes, double(r.live_bytes_at_end)),
                drawing.maxIndex = std::max(drawing.maxIndex, double(r.number));
        }
    });
    all.resize(sessions.size());
    drawing.yUnit = byteAxisUnit(drawing.maxBytes);
    const double unit = drawing.yUnit.scale;
    for (const auto& requests : all) {
        drawing.fits.push_back(fitGrowth(requests));
        // Downsampled by index buckets keeping each bucket's min and max.
        QList<QPointF>& points = drawing.points.emplace_back();
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
    }
    return drawing;
}

} // namespace

GrowthChart::GrowthChart(QWidget* parent) : QChartView(parent), job_(this) {
    chart_ = new QChart;
    chart_->setMargins(QMargins(6, 6, 6, 6));
    chart_->legend()->setAlignment(Qt::AlignTop);
    chart_->setAnimationOptions(QChart::NoAnimation);
    setChart(chart_);
    setRenderHint(QPainter::Antialiasing, true);
    setRubberBand(QChartView::RectangleRubberBand);
    xAxis_ = new QValueAxis(chart_);
    yAxis_ = new QValueAxis(chart_);
    xAxis_->setLabelFormat(QStringLiteral("%d"));
    xAxis_->setTitleText(tr("request index within the connection"));
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

void GrowthChart::setSessions(const std::vector<std::uint64_t>& sessions) {
    sessions_ = sessions;
    if (sessions_.empty() && trace_) {
        for (std::uint64_t id : trace_->topByGrowth(kTopSessions))
            if (trace_->session(id)->requests >= 2) sessions_.push_back(id);
    }
    rebuild();
}

LinearFit GrowthChart::fit(std::uint64_t session) const {
    for (std::size_t i = 0; i < sessions_.size() && i < fits_.size(); ++i)
        if (sessions_[i] == session) return fits_[i];
    return {};
}

QLineSeries* GrowthChart::seriesFor(std::uint64_t session) const {
    for (std::size_t i = 0; i < sessions_.size() && i < series_.size(); ++i)
        if (sessions_[i] == session) return series_[i];
    return nullptr;
}

void GrowthChart::rebuild() {
    job_.discard();
    chart_->removeAllSeries();
    series_.clear();
    fitSeries_.clear();
    fits_.clear();
    if (!trace_ || sessions_.empty()) {
        chart_->setTitle(trace_ ? tr("No session with two or more requests")
                                : tr("Open a trace to see growth per request"));
        return;
    }
    chart_->setTitle(tr("Live bytes at each request end: a keep-alive leak is a rising line"));
    const auto maxPoints =
        static_cast<std::size_t>(2 * std::max(100.0, chart_->plotArea().width()));
    job_.start<GrowthDrawing>({
        .work = [trace = trace_, sessions = sessions_, maxPoints](
                    const JobControl& job) { return drawGrowth(trace, sessions, maxPoints, job); },
        .done = [this](GrowthDrawing drawing) { show(std::move(drawing)); },
        .failed =
            [this](const QString& message) {
                chart_->setTitle(readErrorText(message));
                Q_EMIT updated();
            },
    });
}

void GrowthChart::show(GrowthDrawing drawing) {
    if (!drawing.error.isEmpty()) chart_->setTitle(drawing.error);
    const double unit = drawing.yUnit.scale;
    for (std::size_t i = 0; i < sessions_.size() && i < drawing.fits.size(); ++i) {
        const LinearFit fit = drawing.fits[i];
        fits_.push_back(fit);
        const QList<QPointF>& points = drawing.points[i];
        auto* series = new QLineSeries;
        const data::SessionRow* s = trace_->session(sessions_[i]);
        const QString label =
            tr("#%1 %2").arg(sessions_[i]).arg(s ? QString::fromStdString(s->peer) : QString());
        series->setName(std::isfinite(fit.slope)
                            ? tr("%1: %2/request").arg(label, formatBytes(fit.slope))
                            : label);
        series->replace(points);
        series->setPointsVisible(points.size() <= 200);
        chart_->addSeries(series);
        series->attachAxis(xAxis_);
        series->attachAxis(yAxis_);
        series_.push_back(series);

        if (std::isfinite(fit.slope)) {
            auto* line = new QLineSeries;
            line->setName(tr("fit #%1").arg(sessions_[i]));
            const double x0 = 1, x1 = drawing.maxIndex;
            line->append(x0, (fit.intercept + fit.slope * x0) / unit);
            line->append(x1, (fit.intercept + fit.slope * x1) / unit);
            chart_->addSeries(line);
            line->attachAxis(xAxis_);
            line->attachAxis(yAxis_);
            // The slope is in the session's legend entry; the fit needs none of its own.
            for (QLegendMarker* marker : chart_->legend()->markers(line))
                marker->setVisible(false);
            fitSeries_.push_back(line);
        }
    }
    // applyNiceNumbers() starts from the axis' tick count and changes it: from the same count
    // each time, the axes depend on the data only, not on how often the chart was drawn.
    for (QValueAxis* axis : {xAxis_, yAxis_})
        axis->setTickCount(kTickCount);
    xAxis_->setRange(0, std::max(2.0, drawing.maxIndex + 1));
    xAxis_->applyNiceNumbers();
    yAxis_->setRange(0, std::max(1.0, drawing.maxBytes / unit * 1.08));
    yAxis_->applyNiceNumbers();
    yAxis_->setTitleText(tr("live bytes at request end (%1)").arg(drawing.yUnit.suffix));
    applyPalette();
    Q_EMIT updated();
}

void GrowthChart::applyPalette() {
    styleChart(chart_, palette(), font(), {xAxis_, yAxis_});
    // Each fit is dashed in its session's colour.
    for (std::size_t i = 0, f = 0; i < series_.size(); ++i) {
        series_[i]->setPen(QPen(seriesColor(i), 1.5));
        series_[i]->setColor(seriesColor(i));
        if (f < fitSeries_.size() && std::isfinite(fits_[i].slope))
            fitSeries_[f++]->setPen(QPen(seriesColor(i), 1.5, Qt::DashLine));
    }
}

void GrowthChart::changeEvent(QEvent* event) {
    QChartView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) applyPalette();
}

} // namespace memlife::ui
