#include "style/format.hpp"

#include <QCoreApplication>

#include "memlife/data/units.hpp"

namespace memlife::ui {

namespace {
AxisUnit axisUnit(const data::Unit& unit) {
    return {unit.scale, QString::fromUtf8(unit.symbol.data(), qsizetype(unit.symbol.size()))};
}
} // namespace

QString formatBytes(double bytes) {
    return QString::fromStdString(data::format_bytes(bytes));
}

QString formatDuration(double ns, std::uint64_t resolutionNs) {
    return QString::fromStdString(data::format_duration(ns, resolutionNs));
}

QString formatTime(std::uint64_t ns, std::uint64_t originNs, std::uint64_t resolutionNs) {
    return QString::fromStdString(data::format_time(ns, originNs, resolutionNs));
}

QString formatInterval(std::uint64_t beginNs, std::uint64_t endNs, std::uint64_t resolutionNs) {
    return QString::fromStdString(data::format_interval(beginNs, endNs, resolutionNs));
}

QString formatGrowth(double bytesPerRequest) {
    return QCoreApplication::translate("memlife::ui", "%1/req").arg(formatBytes(bytesPerRequest));
}

AxisUnit timeAxisUnit(double spanNs, std::uint64_t resolutionNs) {
    return axisUnit(data::time_axis_unit(spanNs, resolutionNs));
}

QString formatCount(std::uint64_t n) {
    // Grouped by hand: QLocale::c() omits group separators, and the system locale would
    // make CSV exports and tests depend on the user's settings.
    QString digits = QString::number(static_cast<qulonglong>(n));
    for (qsizetype i = digits.size() - 3; i > 0; i -= 3)
        digits.insert(i, QLatin1Char(','));
    return digits;
}

QString formatAddress(std::uint64_t a) {
    return QStringLiteral("0x%1").arg(a, 0, 16);
}

QString formatHex(const std::string& bytes) {
    QString out;
    out.reserve(static_cast<qsizetype>(bytes.size() * 3));
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i) out += QLatin1Char(' ');
        out +=
            QStringLiteral("%1").arg(static_cast<unsigned char>(bytes[i]), 2, 16, QLatin1Char('0'));
    }
    return out;
}

QString notificationName(Notification n) {
    if (n == Notification::None) return QStringLiteral("-");
    const auto text = name(n);
    return QString::fromLatin1(text.data(), static_cast<qsizetype>(text.size()));
}

QString scopeName(Scope s) {
    return s == Scope::Session ? QStringLiteral("session") : QStringLiteral("request");
}

QString originName(AllocOrigin o) {
    switch (o) {
    case AllocOrigin::AllocMem:
        return QStringLiteral("AllocMem");
    case AllocOrigin::AllocRequest:
        return QStringLiteral("request arena");
    case AllocOrigin::Noted:
        return QStringLiteral("noted");
    case AllocOrigin::Guarded:
        return QStringLiteral("guard page");
    }
    return QStringLiteral("?");
}

QString tailStatusName(data::TailStatus t) {
    switch (t) {
    case data::TailStatus::Intact:
        return QStringLiteral("intact");
    case data::TailStatus::Corrupted:
        return QStringLiteral("corrupted");
    case data::TailStatus::NotChecked:
        return QStringLiteral("not checked");
    }
    return QStringLiteral("?");
}

QString eventKindName(EventKind k) {
    const auto text = name(k);
    return QString::fromLatin1(text.data(), static_cast<qsizetype>(text.size()));
}

QString readErrorText(const QString& what) {
    return QCoreApplication::translate("memlife::ui", "Cannot read this trace: %1").arg(what);
}

} // namespace memlife::ui
