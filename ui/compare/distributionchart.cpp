#include "compare/distributionchart.hpp"

#include <QBarCategoryAxis>
#include <QBoxPlotSeries>
#include <QBoxSet>
#include <QFileInfo>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

#include "memlife/data/units.hpp"
#include "style/format.hpp"
#include "style/style.hpp"

namespace memlife::ui {

BoxStats boxStats(std::vector<double> values) {
    BoxStats s;
    s.count = values.size();
    if (values.empty()) return s;
    std::sort(values.begin(), values.end());
    // The value at fraction q of the way from the smallest to the largest (the median of an
    // even count is the mean of the two middle values, as memlife diff says).
    const auto at = [&](double q) {
        const double pos = q * static_cast<double>(values.size() - 1);
        const auto lo = static_cast<std::size_t>(pos);
        const std::size_t hi = std::min(lo + 1, values.size() - 1);
        return values[lo] + (values[hi] - values[lo]) * (pos - static_cast<double>(lo));
    };
    s.min = values.front();
    s.q1 = at(0.25);
    s.median = at(0.5);
    s.q3 = at(0.75);
    s.max = values.back();
    return s;
}

std::vector<double> DistributionChart::values(const LoadedTrace& trace, Figure figure) {
    std::vector<double> out;
    for (const data::SessionRow& s : trace.sessions) {
        if (figure == Figure::Peak)
            out.push_back(static_cast<double>(s.peak_bytes));
        else if (s.requests >= 2)
            out.push_back(s.growth_bytes_per_request);
    }
    return out;
}

DistributionChart::DistributionChart(Figure figure, QWidget* parent)
    : QChartView(parent), figure_(figure), chart_(new QChart) {
    chart_->setMargins(QMargins(4, 4, 4, 4));
    chart_->legend()->setAlignment(Qt::AlignBottom);
    chart_->setAnimationOptions(QChart::NoAnimation);
    setChart(chart_);
    setRenderHint(QPainter::Antialiasing, true);
    xAxis_ = new QBarCategoryAxis(chart_);
    xAxis_->setLabelsVisible(false); // one category: the title names the figure
    yAxis_ = new QValueAxis(chart_);
    chart_->addAxis(xAxis_, Qt::AlignBottom);
    chart_->addAxis(yAxis_, Qt::AlignLeft);
    rebuild();
}

void DistributionChart::setTraces(TracePtr base, TracePtr next) {
    baseTrace_ = std::move(base);
    nextTrace_ = std::move(next);
    rebuild();
}

void DistributionChart::rebuild() {
    chart_->removeAllSeries();
    baseSeries_ = nextSeries_ = nullptr;
    base_ = baseTrace_ ? boxStats(values(*baseTrace_, figure_)) : BoxStats{};
    next_ = nextTrace_ ? boxStats(values(*nextTrace_, figure_)) : BoxStats{};
    const QString figure =
        figure_ == Figure::Peak ? tr("peak per session") : tr("growth per request");
    xAxis_->setCategories({figure});
    if (base_.count == 0 && next_.count == 0) {
        chart_->setTitle(figure_ == Figure::Peak ? tr("No sessions to compare")
                                                 : tr("No session with two requests to compare"));
        applyPalette();
        return;
    }
    // Growth can fall below 0 (a session that shrinks): the axis starts at the lowest value.
    const double lowest = std::min({0.0, base_.min, next_.min});
    const data::ByteAxis axis = data::byte_axis(std::max(base_.max, next_.max) * 1.08, 5);
    const data::Unit unit = axis.unit;
    const auto add = [&](const BoxStats& s, const TracePtr& trace, const QString& role) {
        auto* series = new QBoxPlotSeries;
        const QString name = trace ? QFileInfo(trace->path).fileName() : QString();
        // The file names are in the panel's header; the legend stays short enough to read.
        series->setName(tr("%1 (%2)").arg(role).arg(s.count));
        series->setObjectName(name);
        if (s.count != 0)
            series->append(new QBoxSet(s.min / unit.scale, s.q1 / unit.scale, s.median / unit.scale,
                                       s.q3 / unit.scale, s.max / unit.scale, figure));
        chart_->addSeries(series);
        series->attachAxis(xAxis_);
        series->attachAxis(yAxis_);
        return series;
    };
    baseSeries_ = add(base_, baseTrace_, tr("base, dashed"));
    nextSeries_ = add(next_, nextTrace_, tr("this trace"));
    const QString medians = tr("%1 → %2").arg(base_.count ? formatBytes(base_.median) : tr("none"),
                                              next_.count ? formatBytes(next_.median) : tr("none"));
    chart_->setTitle(figure_ == Figure::Peak ? tr("Peak, median %1").arg(medians)
                                             : tr("Growth/request, median %1").arg(medians));
    setByteAxis(yAxis_, axis);
    if (lowest < 0) yAxis_->setMin(std::floor(lowest / unit.scale / axis.step) * axis.step);
    const QString symbol =
        QString::fromUtf8(unit.symbol.data(), static_cast<qsizetype>(unit.symbol.size()));
    yAxis_->setTitleText(figure_ == Figure::Peak ? symbol : tr("%1/request").arg(symbol));
    applyPalette();
}

void DistributionChart::applyPalette() {
    styleChart(chart_, palette(), font(), {xAxis_, yAxis_});
    // The base dashed and hollow-ish, this trace solid: the same as in the growth view.
    const QColor base = baseColor(palette());
    if (baseSeries_ != nullptr) {
        QColor fill = base;
        fill.setAlpha(40);
        baseSeries_->setPen(QPen(base, 1.5, Qt::DashLine));
        baseSeries_->setBrush(fill);
    }
    if (nextSeries_ != nullptr) {
        QColor fill = seriesColor(0);
        fill.setAlpha(140);
        nextSeries_->setPen(QPen(seriesColor(0).darker(130), 1.5));
        nextSeries_->setBrush(fill);
    }
}

void DistributionChart::changeEvent(QEvent* event) {
    QChartView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) applyPalette();
}

} // namespace memlife::ui
