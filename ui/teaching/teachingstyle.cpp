#include "teaching/teachingstyle.hpp"

#include <QObject>

#include "style/format.hpp"
#include "style/style.hpp"

namespace memlife::ui {

QColor sessionScopeColor() {
    return seriesColor(0);
}
QColor requestScopeColor() {
    return seriesColor(1);
}

QString signedBytes(std::int64_t delta) {
    return (delta > 0 ? QStringLiteral("+") : QStringLiteral("−")) +
           formatBytes(double(delta > 0 ? delta : -delta));
}

// A byte axis unit for values up to maxBytes.
std::pair<double, QString> byteUnit(double maxBytes) {
    if (maxBytes >= 2.0 * 1024 * 1024) return {1024.0 * 1024, QObject::tr("MiB")};
    if (maxBytes >= 2048) return {1024.0, QObject::tr("KiB")};
    return {1.0, QObject::tr("B")};
}

} // namespace memlife::ui
