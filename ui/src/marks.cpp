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

QColor seriesColor(std::size_t index) {
    static const QRgb colors[] = {0x4e79a7, 0x59a14f, 0xb07aa1, 0x17becf, 0x9c755f,
                                  0xbcbd22, 0xff9da7, 0x76b7b2, 0x8c8cd9, 0x7f7f7f};
    return QColor(colors[index % (sizeof colors / sizeof colors[0])]);
}

QIcon leakIcon() {
    return QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
}

} // namespace memlife::ui
