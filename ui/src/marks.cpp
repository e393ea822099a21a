#include "memlife/ui/marks.hpp"

#include <QApplication>
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

QIcon leakIcon() {
    return QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
}

} // namespace memlife::ui
