// How memlife writes bytes and times for people: one rule for the command line, the GUI and
// anything else, so a value prints the same everywhere. Plain std::string (no Qt, no fmt):
// this is part of the installed static library and adds no link dependency.
//
// Bytes: binary units (B, KiB, MiB, GiB, TiB); the largest unit whose value, once rounded,
// stays below 1024. Bytes are whole ("512 B"); a larger unit shows three significant digits
// ("8.39 KiB", "42.1 KiB", "512 KiB"). Rounding is to nearest.
// Durations: ns, µs, ms, s; the largest unit whose value is at least 1. Nanoseconds are
// whole ("950 ns"); a larger unit shows three decimals below 10 and one from 10 on
// ("1.234 ms", "12.3 ms", "968.0 µs").
// Axes: the largest unit of which the range holds at least two ("1.5 KiB" of live bytes is
// drawn in B, "3 KiB" in KiB), so an axis keeps a few ticks in the smaller unit.
//
// Times are nanoseconds. A trace may be coarser than that (an nginx log is stamped to the
// second: TraceInfo::time_resolution_ns); the functions taking `resolution_ns` never show a
// unit or a digit finer than it, and a duration below it as "< 1 s".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace memlife::data {

// A unit of an axis or a formatted value: raw value (bytes, ns) = value in unit * scale.
struct Unit {
    double scale = 1;
    std::string_view symbol = "B"; // "B", "KiB", ... or "ns", "µs" (UTF-8), "ms", "s"
};

// "512 B", "8.39 KiB", "-1.50 MiB".
std::string format_bytes(double bytes);
// "950 ns", "1.234 ms", "12.0 s"; with resolution_ns > 1: "< 1 s", "3 s".
std::string format_duration(double ns, std::uint64_t resolution_ns = 1);

// The unit to draw an axis of bytes from 0 to max_bytes in.
Unit byte_axis_unit(double max_bytes);
// The unit to draw an axis spanning span_ns in; never finer than resolution_ns.
Unit time_axis_unit(double span_ns, std::uint64_t resolution_ns = 1);

} // namespace memlife::data
