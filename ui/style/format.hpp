// Human-readable numbers and names for the views. Bytes, durations and axis units are the
// shared rule of memlife/data/units.hpp (the CLI prints the same text), as QStrings.
#pragma once

#include <QString>

#include <cstdint>

#include "memlife/data/trace.hpp"
#include "memlife/event.hpp"

namespace memlife::ui {

QString formatBytes(double bytes); // "1.50 KiB", "512 B"
// "1.234 ms", "12.0 s"; never finer than the trace's clock (resolutionNs > 1: "< 1 s", "3 s").
QString formatDuration(double ns, std::uint64_t resolutionNs = 1);
// A time of a trace since its start (originNs): "1.234 ms"; for a coarse clock the step and
// the order within it: "12 s #3".
QString formatTime(std::uint64_t ns, std::uint64_t originNs, std::uint64_t resolutionNs);
// The time between two stamps: "1.234 ms"; for a coarse clock whole steps or "< 1 s".
QString formatInterval(std::uint64_t beginNs, std::uint64_t endNs, std::uint64_t resolutionNs);
QString formatCount(std::uint64_t n);         // "1,234,567"
QString formatAddress(std::uint64_t a);       // "0x7f12..."
QString formatHex(const std::string& bytes);  // "ab 01 ff"
QString formatGrowth(double bytesPerRequest); // "422 B/req"

// The unit of an axis: raw value (bytes, ns) = axis value * scale.
struct AxisUnit {
    double scale = 1;
    QString suffix;
};
AxisUnit timeAxisUnit(double spanNs, std::uint64_t resolutionNs = 1); // ns, µs, ms, s

QString notificationName(Notification n);
QString scopeName(Scope s);
QString originName(AllocOrigin o);
QString tailStatusName(data::TailStatus t);
QString eventKindName(EventKind k);

// What a view shows in place of its data when the trace cannot be read there (a damaged
// batch found after the trace opened): "Cannot read this trace: PATH: reason".
QString readErrorText(const QString& what);

} // namespace memlife::ui
