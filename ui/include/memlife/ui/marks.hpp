// The two semantic colours (corruption red, leak orange), picked to read on light and dark
// palettes, and the icons that go with them: a problem is never shown by colour alone.
#pragma once

#include <QColor>
#include <QIcon>

namespace memlife::ui {

QColor corruptionColor();
QColor leakColor();
// A translucent version for row backgrounds (readable text on either palette).
QColor rowTint(const QColor& color);
QIcon corruptionIcon();
QIcon leakIcon();

} // namespace memlife::ui
