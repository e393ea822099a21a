#include "teaching/teachingstyle.hpp"

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

} // namespace memlife::ui
