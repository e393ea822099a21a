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
// unit or a digit finer than it, and a duration below it as "< 1 s". Such a trace's events
// are ordered within a step by the nanoseconds below it (trace-format.md), so a point in
// time is shown as its step and that order: "12 s #3" (the third stamp in second 12).
//
// Axis ticks: 1, 2 or 5 times a power of ten of the axis unit (bytes: in B, KiB, ...; never
// "2.4 KiB" steps), with as many decimals as the step needs (none for whole bytes).
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

// A point in time, as time since `origin_ns` (the trace's start): "1.234 ms"; with
// resolution_ns > 1 the step and the order within it: "0 s #1", "12 s #3".
std::string format_time(std::uint64_t time_ns, std::uint64_t origin_ns,
                        std::uint64_t resolution_ns = 1);
// The step alone of a time of a coarse clock, since the origin's step: "0 s", "12 s".
std::string format_step(std::uint64_t time_ns, std::uint64_t origin_ns,
                        std::uint64_t resolution_ns);
// The time from begin_ns to end_ns: format_duration of interval_ns.
std::string format_interval(std::uint64_t begin_ns, std::uint64_t end_ns,
                            std::uint64_t resolution_ns = 1);
// The time from begin_ns to end_ns that the clock measured: with resolution_ns > 1, whole
// steps between their stamps (0 for two stamps of one step: "< 1 s").
std::uint64_t interval_ns(std::uint64_t begin_ns, std::uint64_t end_ns,
                          std::uint64_t resolution_ns = 1);
// What a coarse clock said: time_ns cut to its step; and the order within the step (1-based).
std::uint64_t stamp_ns(std::uint64_t time_ns, std::uint64_t resolution_ns);
std::uint64_t order_in_step(std::uint64_t time_ns, std::uint64_t resolution_ns);

// The unit to draw an axis of bytes from 0 to max_bytes in.
Unit byte_axis_unit(double max_bytes);
// The unit to draw an axis spanning span_ns in; never finer than resolution_ns.
Unit time_axis_unit(double span_ns, std::uint64_t resolution_ns = 1);

// A tick step of 1, 2 or 5 times a power of ten giving at most max_ticks steps over span
// (and at least 1 when whole is set: whole bytes, request numbers).
double tick_step(double span, int max_ticks, bool whole = false);
// The decimals that show every multiple of `step` exactly ("0.5": 1; "20": 0).
int step_decimals(double step);

// A byte axis from 0: its unit, a 1-2-5 step in that unit, the top (a multiple of the step
// at or above max_bytes) and the decimals of its labels.
struct ByteAxis {
    Unit unit;
    double step = 1; // in unit
    double top = 1;  // in unit
    int decimals = 0;
};
ByteAxis byte_axis(double max_bytes, int max_ticks = 6);

} // namespace memlife::data
