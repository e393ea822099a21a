// Saves a chart view as PNG (a grab of the widget) or SVG (the scene rendered as vectors).
#pragma once

#include <QString>

class QChartView;

namespace memlife::ui {

// Picks the format from the suffix (.svg or anything else = PNG). On failure returns false
// with a one-line message naming the file.
bool saveChart(QChartView& view, const QString& file, QString* error);

} // namespace memlife::ui
