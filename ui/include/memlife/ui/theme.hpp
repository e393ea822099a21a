// Light and dark palettes (Fusion style), so the views can be checked in both.
#pragma once

#include <QString>

namespace memlife::ui {

// "light", "dark" or "system" (the platform's). Returns false for another name.
bool applyPalette(const QString& name);
QString currentPaletteName();

} // namespace memlife::ui
