// What the teaching view's widgets share: the two scopes' colours (the same in the diagram
// frames, the bars and the lines), signed byte deltas and the byte unit of their axes.
#pragma once

#include <QColor>
#include <QString>

#include <cstdint>
#include <utility>

namespace memlife::ui {

// The two scopes keep their colours everywhere in the view: diagram frames, bars, lines.
QColor sessionScopeColor();
QColor requestScopeColor();

// "+256 B", "−4.00 KiB".
QString signedBytes(std::int64_t delta);
// A byte axis unit for values up to maxBytes: bytes per unit and its name.
std::pair<double, QString> byteUnit(double maxBytes);

} // namespace memlife::ui
