#include "memlife/ui/marks.hpp"

#include <QAbstractAxis>
#include <QApplication>
#include <QChart>
#include <QLegend>
#include <QStyle>

namespace memlife::ui {

QColor corruptionColor() {
    return QColor(0xe0, 0x30, 0x30);
}

QColor leakColor() {
    return QColor(0xf0, 0x8c, 0x00);
}

QColor rowTint(const QColor& color) {
    QColor tint = color;
    tint.setAlpha(56);
    return tint;
}

QIcon corruptionIcon() {
    return QApplication::style()->standardIcon(QStyle::SP_MessageBoxCritical);
}

QColor seriesColor(std::size_t index) {
    static const QRgb colors[] = {0x4e79a7, 0x59a14f, 0xb07aa1, 0x17becf, 0x9c755f,
                                  0xbcbd22, 0xff9da7, 0x76b7b2, 0x8c8cd9, 0x7f7f7f};
    return QColor(colors[index % (sizeof colors / sizeof colors[0])]);
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

} // namespace memlife::ui
