// The look of every view in one place: the palettes (light, dark, the platform's; Fusion
// style, so the views can be checked in both), the two semantic colours (corruption red,
// leak orange, picked to read on either palette) with the icons that go with them (a problem
// is never shown by colour alone), the series colours, and the chart styling.
#pragma once

#include <QColor>
#include <QFont>
#include <QIcon>
#include <QPalette>
#include <QString>
#include <initializer_list>

class QAbstractAxis;
class QChart;

namespace memlife::ui {

// "light", "dark" or "system" (the platform's). Returns false for another name.
bool applyPalette(const QString& name);
QString currentPaletteName();

QColor corruptionColor();
QColor leakColor();
// A translucent version for row backgrounds (readable text on either palette).
QColor rowTint(const QColor& color);
QIcon corruptionIcon();
// Series colours: distinct from each other and from the two semantic colours, readable
// on light and dark backgrounds.
QColor seriesColor(std::size_t index);
QIcon leakIcon();

// Styles a chart and its axes from the widget's palette and font (the chart theme picks
// series colours that read on the background; the rest follows the palette).
void styleChart(QChart* chart, const QPalette& palette, const QFont& font,
                std::initializer_list<QAbstractAxis*> axes);

} // namespace memlife::ui
