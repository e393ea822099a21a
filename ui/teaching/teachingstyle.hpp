// What the teaching view's widgets share: the two scopes' colours (the same in the diagram
// frames, the bars and the lines) and signed byte deltas.
#pragma once

#include <QColor>
#include <QString>

#include <cstdint>

namespace memlife::ui {

// The two scopes keep their colours everywhere in the view: diagram frames, bars, lines.
QColor sessionScopeColor();
QColor requestScopeColor();

// "+256 B", "−4.00 KiB".
QString signedBytes(std::int64_t delta);

} // namespace memlife::ui
