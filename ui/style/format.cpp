#include "style/format.hpp"

#include <QCoreApplication>

#include <cmath>

namespace memlife::ui {

QString formatBytes(double bytes) {
    static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    const bool negative = bytes < 0;
    double value = std::fabs(bytes);
    int unit = 0;
    while (value >= 1024.0 && unit < 4) {
        value /= 1024.0;
        ++unit;
    }
    const int decimals = unit == 0 ? 0 : (value < 10 ? 2 : value < 100 ? 1 : 0);
    return QStringLiteral("%1%2 %3")
        .arg(negative ? QStringLiteral("-") : QString())
        .arg(value, 0, 'f', decimals)
        .arg(QLatin1String(units[unit]));
}

TimeUnit timeUnitFor(double span_ns) {
    if (span_ns < 2e3) return {1.0, QStringLiteral("ns")};
    if (span_ns < 2e6) return {1e3, QStringLiteral("µs")};
    if (span_ns < 2e9) return {1e6, QStringLiteral("ms")};
    return {1e9, QStringLiteral("s")};
}

QString formatDuration(double ns) {
    // Switches unit at 1000 (axes switch at 2000 to keep more ticks in the smaller unit).
    const TimeUnit unit = timeUnitFor(std::fabs(ns) * 2);
    const double value = ns / unit.ns_per_unit;
    const int decimals = unit.ns_per_unit == 1.0 ? 0 : (std::fabs(value) < 10 ? 3 : 1);
    return QStringLiteral("%1 %2").arg(value, 0, 'f', decimals).arg(unit.suffix);
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
