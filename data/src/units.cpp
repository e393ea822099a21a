#include "memlife/data/units.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace memlife::data {

namespace {

constexpr std::array<Unit, 5> kByteUnits{{{1.0, "B"},
                                          {1024.0, "KiB"},
                                          {1024.0 * 1024, "MiB"},
                                          {1024.0 * 1024 * 1024, "GiB"},
                                          {1024.0 * 1024 * 1024 * 1024, "TiB"}}};
constexpr std::array<Unit, 4> kTimeUnits{{{1.0, "ns"}, {1e3, "\u00b5s"}, {1e6, "ms"}, {1e9, "s"}}};

// Rounded to `decimals`, ties away from zero (as Qt's and most people's rounding; printf
// alone would round exact ties to even).
double rounded(double value, int decimals) {
    const double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}

std::string fixed(double value, int decimals, std::string_view symbol, bool negative) {
    char text[64];
    std::snprintf(text, sizeof text, "%s%.*f %.*s", negative && value != 0 ? "-" : "", decimals,
                  value, static_cast<int>(symbol.size()), symbol.data());
    return text;
}

// The index of the largest unit whose scale is at most `value` (0 if none).
template <std::size_t N> std::size_t largestAtMost(const std::array<Unit, N>& units, double value) {
    std::size_t i = 0;
    while (i + 1 < N && units[i + 1].scale <= value)
        ++i;
    return i;
}

// The decimals a value in `unit` may show with a clock of resolution_ns: as many as the
// resolution itself has in that unit (1 s: 0; 100 µs in ms: 1; 1.5 ms: 1), at most 3.
int decimalsAllowed(const Unit& unit, std::uint64_t resolution_ns) {
    const double step = double(resolution_ns) / unit.scale;
    for (int decimals = 0; decimals < 3; ++decimals) {
        const double scaled = step * std::pow(10.0, decimals);
        if (std::fabs(scaled - std::round(scaled)) < 1e-9 * std::max(1.0, scaled)) return decimals;
    }
    return 3;
}

} // namespace

std::string format_bytes(double bytes) {
    const bool negative = bytes < 0;
    const double magnitude = std::fabs(bytes);
    std::size_t unit = largestAtMost(kByteUnits, magnitude);
    double value = magnitude / kByteUnits[unit].scale;
    int decimals = unit == 0 ? 0 : value < 10 ? 2 : value < 100 ? 1 : 0;
    // Rounding may carry into the next decade ("9.996" -> "10.0") or unit ("1023.7 B").
    if (decimals > 0 && rounded(value, decimals) >= (decimals == 2 ? 10 : 100)) --decimals;
    if (rounded(value, decimals) >= 1024 && unit + 1 < kByteUnits.size()) {
        value = magnitude / kByteUnits[++unit].scale;
        decimals = 2;
    }
    return fixed(rounded(value, decimals), decimals, kByteUnits[unit].symbol, negative);
}

std::string format_duration(double ns, std::uint64_t resolution_ns) {
    const bool negative = ns < 0;
    double magnitude = std::fabs(ns);
    if (resolution_ns > 1) {
        if (magnitude < double(resolution_ns))
            return "< " + format_duration(double(resolution_ns), resolution_ns);
        magnitude = std::round(magnitude / double(resolution_ns)) * double(resolution_ns);
    }
    const std::size_t unit =
        std::max(largestAtMost(kTimeUnits, magnitude), largestAtMost(kTimeUnits, resolution_ns));
    const double value = magnitude / kTimeUnits[unit].scale;
    int decimals = unit == 0 ? 0 : value < 10 ? 3 : 1;
    decimals = std::min(decimals, decimalsAllowed(kTimeUnits[unit], resolution_ns));
    return fixed(rounded(value, decimals), decimals, kTimeUnits[unit].symbol, negative);
}

namespace {
// A whole number of steps of the clock, in the resolution's own unit: "0 s", "12 s".
std::string format_steps(std::uint64_t ns, std::uint64_t resolution_ns) {
    if (ns != 0) return format_duration(double(ns), resolution_ns);
    const Unit& unit = kTimeUnits[largestAtMost(kTimeUnits, double(resolution_ns))];
    return fixed(0, decimalsAllowed(unit, resolution_ns), unit.symbol, false);
}
} // namespace

std::uint64_t stamp_ns(std::uint64_t time_ns, std::uint64_t resolution_ns) {
    return resolution_ns > 1 ? time_ns - time_ns % resolution_ns : time_ns;
}

std::uint64_t order_in_step(std::uint64_t time_ns, std::uint64_t resolution_ns) {
    return resolution_ns > 1 ? time_ns % resolution_ns + 1 : 1;
}

std::string format_time(std::uint64_t time_ns, std::uint64_t origin_ns,
                        std::uint64_t resolution_ns) {
    if (resolution_ns <= 1)
        return format_duration(time_ns > origin_ns ? double(time_ns - origin_ns) : 0.0);
    return format_step(time_ns, origin_ns, resolution_ns) + " #" +
           std::to_string(order_in_step(time_ns, resolution_ns));
}

std::string format_step(std::uint64_t time_ns, std::uint64_t origin_ns,
                        std::uint64_t resolution_ns) {
    resolution_ns = std::max<std::uint64_t>(1, resolution_ns);
    const std::uint64_t stamp = stamp_ns(time_ns, resolution_ns);
    return format_steps(stamp - std::min(stamp, stamp_ns(origin_ns, resolution_ns)), resolution_ns);
}

std::uint64_t interval_ns(std::uint64_t begin_ns, std::uint64_t end_ns,
                          std::uint64_t resolution_ns) {
    if (end_ns <= begin_ns) return 0;
    return stamp_ns(end_ns, resolution_ns) - stamp_ns(begin_ns, resolution_ns);
}

std::string format_interval(std::uint64_t begin_ns, std::uint64_t end_ns,
                            std::uint64_t resolution_ns) {
    return format_duration(double(interval_ns(begin_ns, end_ns, resolution_ns)), resolution_ns);
}

double tick_step(double span, int max_ticks, bool whole) {
    if (!(span > 0) || max_ticks < 1) return 1;
    const double raw = span / max_ticks;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = 10 * magnitude;
    for (double m : {1.0, 2.0, 5.0})
        if (m * magnitude >= raw * (1 - 1e-9)) {
            step = m * magnitude;
            break;
        }
    return whole ? std::max(1.0, step) : step;
}

int step_decimals(double step) {
    if (!(step > 0)) return 0;
    return std::clamp(int(std::ceil(-std::log10(step) - 1e-9)), 0, 9);
}

ByteAxis byte_axis(double max_bytes, int max_ticks) {
    ByteAxis axis;
    axis.unit = byte_axis_unit(max_bytes);
    const double value = std::max(0.0, max_bytes) / axis.unit.scale;
    const bool bytes = axis.unit.scale == 1;
    axis.step = tick_step(value, max_ticks, bytes);
    axis.top = std::max(axis.step, std::ceil(value / axis.step - 1e-9) * axis.step);
    axis.decimals = bytes ? 0 : step_decimals(axis.step);
    return axis;
}

Unit byte_axis_unit(double max_bytes) {
    return kByteUnits[largestAtMost(kByteUnits, std::fabs(max_bytes) / 2)];
}

Unit time_axis_unit(double span_ns, std::uint64_t resolution_ns) {
    return kTimeUnits[std::max(largestAtMost(kTimeUnits, std::fabs(span_ns) / 2),
                               largestAtMost(kTimeUnits, double(resolution_ns)))];
}

} // namespace memlife::data
