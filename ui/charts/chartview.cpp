#include "charts/chartview.hpp"

#include <QAbstractAxis>
#include <QAbstractSeries>
#include <QEvent>
#include <QLegend>

#include <algorithm>

namespace memlife::ui {

int yTickCount(double pixels) {
    return std::clamp(int(pixels / 45), 3, 10);
}

ChartView::ChartView(QWidget* parent) : QChartView(parent) {
    chart_ = new QChart;
    chart_->setMargins(QMargins(6, 6, 6, 6));
    chart_->setAnimationOptions(QChart::NoAnimation);
    setChart(chart_);
}

void ChartView::setMessage(const QString& text) {
    message_ = text;
    const bool show = text.isEmpty();
    for (QAbstractAxis* axis : chart_->axes())
        axis->setVisible(show);
    for (QAbstractSeries* series : chart_->series())
        series->setVisible(show);
    chart_->legend()->setVisible(show);
    viewport()->update();
}

void ChartView::drawForeground(QPainter* painter, const QRectF& rect) {
    QChartView::drawForeground(painter, rect);
    if (message_.isEmpty()) return;
    painter->save();
    QFont font = this->font();
    font.setPointSizeF(font.pointSizeF() * 1.15);
    painter->setFont(font);
    painter->setPen(palette().color(QPalette::Text));
    const QRectF area = chart_->mapRectToScene(chart_->rect()).adjusted(40, 40, -40, -40);
    painter->drawText(area, Qt::AlignCenter | Qt::TextWordWrap, message_);
    painter->restore();
}

void ChartView::changeEvent(QEvent* event) {
    QChartView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) applyPalette();
}

} // namespace memlife::ui
