#include "teaching/teachinggrowthchart.hpp"

#include <QLineSeries>
#include <QValueAxis>

#include <algorithm>

#include "style/format.hpp"
#include "style/style.hpp"
#include "teaching/teachingstyle.hpp"

namespace memlife::ui {

TeachingGrowthChart::TeachingGrowthChart(QWidget* parent) : QChartView(parent) {
    auto* chart = new QChart;
    chart->setMargins(QMargins(6, 6, 6, 6));
    chart->legend()->setAlignment(Qt::AlignTop);
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setTitle(tr("What if: live bytes at each request end, same filter, two allocators"));
    setChart(chart);
    setRenderHint(QPainter::Antialiasing, true);
    sessionLine_ = new QLineSeries(chart);
    requestLine_ = new QLineSeries(chart);
    chart->addSeries(sessionLine_);
    chart->addSeries(requestLine_);
    xAxis_ = new QValueAxis(chart);
    xAxis_->setLabelFormat(QStringLiteral("%d"));
    xAxis_->setTitleText(tr("request index within the connection"));
    yAxis_ = new QValueAxis(chart);
    chart->addAxis(xAxis_, Qt::AlignBottom);
    chart->addAxis(yAxis_, Qt::AlignLeft);
    for (QLineSeries* line : {sessionLine_, requestLine_}) {
        line->attachAxis(xAxis_);
        line->attachAxis(yAxis_);
        line->setPointsVisible(true);
    }
    applyPalette();
}

void TeachingGrowthChart::setLines(const std::vector<std::uint64_t>& sessionMemory,
                                   const std::vector<std::uint64_t>& requestMemory) {
    double maxBytes = 1;
    for (const auto* values : {&sessionMemory, &requestMemory})
        for (std::uint64_t v : *values)
            maxBytes = std::max(maxBytes, double(v));
    const data::ByteAxis bytes = data::byte_axis(maxBytes * 1.05);
    auto fill = [unit = bytes.unit.scale](QLineSeries* line,
                                          const std::vector<std::uint64_t>& values) {
        QList<QPointF> points;
        for (std::size_t i = 0; i < values.size(); ++i)
            points.append(QPointF(double(i + 1), double(values[i]) / unit));
        line->replace(points);
    };
    fill(sessionLine_, sessionMemory);
    fill(requestLine_, requestMemory);
    auto perRequest = [](const std::vector<std::uint64_t>& v) {
        return v.size() < 2 ? 0.0 : (double(v.back()) - double(v.front())) / double(v.size() - 1);
    };
    sessionLine_->setName(tr("URL copy with AllocMem: %1 per request")
                              .arg(signedBytes(std::int64_t(perRequest(sessionMemory)))));
    requestLine_->setName(
        perRequest(requestMemory) == 0
            ? tr("URL copy with request memory: flat at %1")
                  .arg(formatBytes(requestMemory.empty() ? 0.0 : double(requestMemory.front())))
            : tr("URL copy with request memory: %1 per request")
                  .arg(signedBytes(std::int64_t(perRequest(requestMemory)))));
    const auto n = double(std::max(sessionMemory.size(), requestMemory.size()));
    xAxis_->setRange(0, std::max(2.0, n + 1));
    xAxis_->setTickCount(int(std::max(2.0, n + 1)) + 1);
    setByteAxis(yAxis_, bytes);
    yAxis_->setTitleText(
        tr("live bytes (%1)")
            .arg(QString::fromUtf8(bytes.unit.symbol.data(), qsizetype(bytes.unit.symbol.size()))));
}

void TeachingGrowthChart::applyPalette() {
    styleChart(chart(), palette(), font(), {xAxis_, yAxis_});
    sessionLine_->setPen(QPen(sessionScopeColor(), 2));
    sessionLine_->setColor(sessionScopeColor());
    requestLine_->setPen(QPen(requestScopeColor(), 2));
    requestLine_->setColor(requestScopeColor());
}

void TeachingGrowthChart::changeEvent(QEvent* event) {
    QChartView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) applyPalette();
}

} // namespace memlife::ui
