// Human-readable numbers and names for the views. Bytes, durations and axis units are the
// shared rule of memlife/data/units.hpp (the CLI prints the same text), as QStrings.
#pragma once

#include <QString>

#include <cstdint>

#include "memlife/data/trace.hpp"
#include "memlife/event.hpp"

namespace memlife::ui {

QString formatBytes(double bytes);           // "1.50 KiB", "512 B"
QString formatDuration(double ns);           // "1.234 ms", "12.0 s"
QString formatCount(std::uint64_t n);        // "1,234,567"
QString formatAddress(std::uint64_t a);      // "0x7f12..."
QString formatHex(const std::string& bytes); // "ab 01 ff"

// The unit of an axis: raw value (bytes, ns) = axis value * scale.
struct AxisUnit {
    double scale = 1;
    QString suffix;
};
AxisUnit byteAxisUnit(double maxBytes); // B, KiB, MiB, GiB, TiB
AxisUnit timeAxisUnit(double spanNs);   // ns, µs, ms, s

QString notificationName(Notification n);
QString scopeName(Scope s);
QString originName(AllocOrigin o);
QString tailStatusName(data::TailStatus t);
QString eventKindName(EventKind k);

// What a view shows in place of its data when the trace cannot be read there (a damaged
// batch found after the trace opened): "Cannot read this trace: PATH: reason".
QString readErrorText(const QString& what);

} // namespace memlife::ui
