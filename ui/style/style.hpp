// The look of every view in one place: the palettes (light, dark, the platform's; Fusion
// style, so the views can be checked in both), the semantic colours of the findings
// (corruption red, leak orange, growth purple, picked to read on either palette) with the
// icons that go with them (a finding is never shown by colour alone), the series colours,
// and the chart styling.
#pragma once

#include "memlife/data/units.hpp"

#include <QColor>
#include <QFont>
#include <QIcon>
#include <QPalette>
#include <QPen>
#include <QString>
#include <array>
#include <initializer_list>

class QAbstractAxis;
class QChart;

class QValueAxis;

namespace memlife::ui {

// "light", "dark" or "system" (the platform's). Returns false for another name.
bool applyPalette(const QString& name);
QString currentPaletteName();

QColor corruptionColor();
QColor leakColor();
// Compare mode: a change for the better (less memory, fewer findings); a change for the
// worse takes corruptionColor(). Always beside the change's sign and verdict in words.
QColor improvementColor();
// Compare mode: the base trace's lines and boxes (dashed wherever drawn), the palette's text
// colour slightly muted, so they read on either palette and never look like a series.
QColor baseColor(const QPalette& palette);
// A translucent version for row backgrounds (readable text on either palette).
QColor rowTint(const QColor& color);
QIcon corruptionIcon();
QIcon leakIcon();
// Keep-alive growth above the limit (a finding of its own: purple, a rising staircase).
QColor growthColor();
QIcon growthIcon();

// Series colours: a qualitative palette of mid-tone hues (CIE L* 50-60) that reads on both
// palettes' backgrounds (WCAG contrast >= 3:1 on white and on the dark base) and keeps its
// hues apart (CIE76 distance >= 30 between any two, and from the corruption red): one
// palette for both themes, so a session keeps its colour when the theme changes.
inline constexpr std::array<QRgb, 8> kSeriesColors{0x047dc0, 0xa77118, 0x249954, 0xc561bb,
                                                   0x15a0a4, 0x796ed6, 0x8a9920, 0x8d616e};
std::size_t seriesColorCount();
QColor seriesColor(std::size_t index);
// The pen of series `index`: its colour, solid; past the palette dashed, then dotted.
QPen seriesPen(std::size_t index, double width = 1.5);

// Styles a chart and its axes from the widget's palette and font (the chart theme picks
// series colours that read on the background; the rest follows the palette).
void styleChart(QChart* chart, const QPalette& palette, const QFont& font,
                std::initializer_list<QAbstractAxis*> axes);

// Lays out a byte axis from 0 (data::byte_axis: 1-2-5 steps of a binary unit, whole bytes):
// ticks every `bytes.step` from 0, labels with just the decimals the step needs.
void setByteAxis(QValueAxis* axis, const data::ByteAxis& bytes);

} // namespace memlife::ui
