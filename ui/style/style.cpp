#include "style/style.hpp"

#include <QAbstractAxis>
#include <QApplication>
#include <QChart>
#include <QLegend>
#include <QPainter>
#include <QPalette>
#include <QPixmap>
#include <QStyle>
#include <QStyleFactory>
#include <QValueAxis>

namespace memlife::ui {

namespace {
QString& current() {
    static QString name = QStringLiteral("system");
    return name;
}

QPalette darkPalette() {
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x30), base(0x1e, 0x1f, 0x22), text(0xe6, 0xe6, 0xe6);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x27, 0x29, 0x2c));
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x8c, 0x8c, 0x8c));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Light, QColor(0x45, 0x47, 0x4a));
    p.setColor(QPalette::Midlight, QColor(0x3a, 0x3c, 0x3f));
    p.setColor(QPalette::Mid, QColor(0x50, 0x52, 0x56));
    p.setColor(QPalette::Dark, QColor(0x18, 0x19, 0x1b));
    p.setColor(QPalette::Shadow, Qt::black);
    p.setColor(QPalette::Highlight, QColor(0x3d, 0x7a, 0xd6));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x6c, 0xa6, 0xf0));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x80, 0x80, 0x80));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x80, 0x80, 0x80));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x80, 0x80, 0x80));
    return p;
}
} // namespace

bool applyPalette(const QString& name) {
    if (name == QLatin1String("dark")) {
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QApplication::setPalette(darkPalette());
    } else if (name == QLatin1String("light")) {
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QApplication::setPalette(QApplication::style()->standardPalette());
    } else if (name == QLatin1String("system")) {
        QApplication::setPalette(QPalette());
    } else {
        return false;
    }
    current() = name;
    return true;
}

QString currentPaletteName() {
    return current();
}

QColor corruptionColor() {
    return QColor(0xe0, 0x30, 0x30);
}

QColor leakColor() {
    return QColor(0xf0, 0x8c, 0x00);
}

QColor improvementColor() {
    return QColor(0x2e, 0xa0, 0x4f);
}

QColor baseColor(const QPalette& palette) {
    QColor color = palette.color(QPalette::Text);
    color.setAlpha(190);
    return color;
}

QColor rowTint(const QColor& color) {
    QColor tint = color;
    tint.setAlpha(56);
    return tint;
}

QIcon corruptionIcon() {
    return QApplication::style()->standardIcon(QStyle::SP_MessageBoxCritical);
}

QColor growthColor() {
    return QColor(0x8e, 0x44, 0xad);
}

QIcon growthIcon() {
    // A rising staircase: what a keep-alive leak looks like in the live-bytes chart.
    QIcon icon;
    for (int size : {16, 32}) {
        QPixmap pixmap(size, size);
        pixmap.fill(Qt::transparent);
        QPainter painter(&pixmap);
        painter.setRenderHint(QPainter::Antialiasing);
        const double u = size / 16.0;
        painter.setPen(Qt::NoPen);
        painter.setBrush(growthColor());
        painter.drawRoundedRect(QRectF(0.5 * u, 0.5 * u, 15 * u, 15 * u), 3 * u, 3 * u);
        painter.setPen(QPen(Qt::white, 1.8 * u, Qt::SolidLine, Qt::FlatCap, Qt::MiterJoin));
        painter.setBrush(Qt::NoBrush);
        const QPointF steps[] = {{3 * u, 13 * u},  {3 * u, 10 * u}, {6.5 * u, 10 * u},
                                 {6.5 * u, 7 * u}, {10 * u, 7 * u}, {10 * u, 4 * u},
                                 {13 * u, 4 * u}};
        painter.drawPolyline(steps, 7);
        painter.end();
        icon.addPixmap(pixmap);
    }
    return icon;
}

std::size_t seriesColorCount() {
    return kSeriesColors.size();
}

QColor seriesColor(std::size_t index) {
    return QColor(kSeriesColors[index % kSeriesColors.size()]);
}

QPen seriesPen(std::size_t index, double width) {
    // Past the palette the hues repeat, dashed, then dotted.
    static const Qt::PenStyle styles[] = {Qt::SolidLine, Qt::DashLine, Qt::DotLine};
    QPen pen(seriesColor(index), width);
    pen.setStyle(styles[(index / kSeriesColors.size()) % 3]);
    return pen;
}

QIcon leakIcon() {
    return QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
}

void styleChart(QChart* chart, const QPalette& pal, const QFont& font,
                std::initializer_list<QAbstractAxis*> axes) {
    const bool dark = pal.color(QPalette::Window).lightness() < 128;
    chart->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    chart->setBackgroundBrush(pal.base());
    chart->setBackgroundRoundness(0);
    chart->setTitleBrush(pal.text());
    QFont title = font;
    title.setBold(true);
    chart->setTitleFont(title);
    chart->legend()->setLabelColor(pal.color(QPalette::Text));
    chart->legend()->setFont(font);
    for (QAbstractAxis* axis : axes) {
        axis->setLabelsBrush(pal.text());
        axis->setTitleBrush(pal.text());
        axis->setLabelsFont(font);
        axis->setTitleFont(font);
        axis->setGridLineColor(pal.color(QPalette::Mid));
        axis->setLinePenColor(pal.color(QPalette::Mid));
    }
}

void setByteAxis(QValueAxis* axis, const data::ByteAxis& bytes) {
    axis->setTickType(QValueAxis::TicksDynamic);
    axis->setTickAnchor(0);
    // The step first: the axis lays out its ticks inside setRange.
    axis->setTickInterval(bytes.step);
    axis->setLabelFormat(QStringLiteral("%.%1f").arg(bytes.decimals));
    axis->setRange(0, bytes.top);
}

} // namespace memlife::ui
