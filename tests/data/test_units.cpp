// The one byte and time formatter of the CLI and the GUI (memlife/data/units.hpp): units,
// the rounding rule at its edges, signs, and the axis unit pickers.
#include <gtest/gtest.h>

#include "memlife/data/units.hpp"

using namespace memlife::data;

TEST(Units, BytesAreWholeBelowOneKiB) {
    EXPECT_EQ(format_bytes(0), "0 B");
    EXPECT_EQ(format_bytes(1), "1 B");
    EXPECT_EQ(format_bytes(512), "512 B");
    EXPECT_EQ(format_bytes(1023), "1023 B");
    EXPECT_EQ(format_bytes(421.6), "422 B"); // a growth per request is fractional
}

TEST(Units, LargerUnitsKeepThreeSignificantDigits) {
    EXPECT_EQ(format_bytes(1024), "1.00 KiB");
    EXPECT_EQ(format_bytes(8592), "8.39 KiB"); // the CLI printed 8.4 KiB, the GUI 8.39 KiB
    EXPECT_EQ(format_bytes(1536), "1.50 KiB");
    EXPECT_EQ(format_bytes(42.1 * 1024), "42.1 KiB");
    EXPECT_EQ(format_bytes(512 * 1024), "512 KiB");
    EXPECT_EQ(format_bytes(3.0 * 1024 * 1024), "3.00 MiB");
    EXPECT_EQ(format_bytes(5.25 * 1024 * 1024 * 1024), "5.25 GiB");
    EXPECT_EQ(format_bytes(2048.0 * 1024 * 1024 * 1024 * 1024), "2048 TiB"); // no larger unit
}

TEST(Units, RoundingCarriesIntoTheNextDecadeOrUnit) {
    EXPECT_EQ(format_bytes(9.996 * 1024), "10.0 KiB");
    EXPECT_EQ(format_bytes(99.96 * 1024), "100 KiB");
    EXPECT_EQ(format_bytes(1023.7), "1.00 KiB");
    EXPECT_EQ(format_bytes(1023.8 * 1024), "1.00 MiB");
}

TEST(Units, TiesRoundAwayFromZero) {
    EXPECT_EQ(format_bytes(0.5), "1 B");
    EXPECT_EQ(format_bytes(2.5), "3 B");
    EXPECT_EQ(format_bytes(-2.5), "-3 B");
    EXPECT_EQ(format_duration(2.5), "3 ns");
}

TEST(Units, NegativeValuesKeepTheirSignButNeverShowMinusZero) {
    EXPECT_EQ(format_bytes(-1536), "-1.50 KiB");
    EXPECT_EQ(format_bytes(-0.2), "0 B");
    EXPECT_EQ(format_duration(-1500), "-1.500 \u00b5s");
}

TEST(Units, Durations) {
    EXPECT_EQ(format_duration(0), "0 ns");
    EXPECT_EQ(format_duration(950), "950 ns");
    EXPECT_EQ(format_duration(1000), "1.000 \u00b5s");
    EXPECT_EQ(format_duration(968'000), "968.0 \u00b5s");
    EXPECT_EQ(format_duration(1'234'000), "1.234 ms");
    EXPECT_EQ(format_duration(12'345'678), "12.3 ms");
    EXPECT_EQ(format_duration(12e9), "12.0 s");
    EXPECT_EQ(format_duration(7200e9), "7200.0 s"); // seconds are the largest unit
}

TEST(Units, DurationsNeverFinerThanTheResolution) {
    const std::uint64_t second = 1'000'000'000;
    EXPECT_EQ(format_duration(115, second), "< 1 s");
    EXPECT_EQ(format_duration(2.4e9, second), "2 s");
    EXPECT_EQ(format_duration(2.6e9, second), "3 s");
    EXPECT_EQ(format_duration(1.5e6, 1'000'000), "2 ms"); // a tie, away from zero
    EXPECT_EQ(format_duration(1'234'567, 100'000), "1.2 ms");
    EXPECT_EQ(format_duration(1'234'567, 1), format_duration(1'234'567));
    EXPECT_EQ(format_duration(1.5e6, 1'500'000), "1.5 ms"); // the resolution itself
    EXPECT_EQ(format_duration(4e6, 1'500'000), "4.5 ms");   // a multiple of it
    EXPECT_EQ(format_duration(1e9, second), "1 s");
}

TEST(Units, ByteAxisKeepsTwoUnitsOfRange) {
    EXPECT_EQ(byte_axis_unit(0).symbol, "B");
    EXPECT_EQ(byte_axis_unit(2047).symbol, "B");
    EXPECT_EQ(byte_axis_unit(2048).symbol, "KiB");
    EXPECT_EQ(byte_axis_unit(2048).scale, 1024.0);
    EXPECT_EQ(byte_axis_unit(2.0 * 1024 * 1024).symbol, "MiB");
    EXPECT_EQ(byte_axis_unit(3.0 * 1024 * 1024 * 1024).symbol, "GiB");
    EXPECT_EQ(byte_axis_unit(1e15).symbol, "TiB");
}

TEST(Units, TimeAxisKeepsTwoUnitsOfSpan) {
    EXPECT_EQ(time_axis_unit(0).symbol, "ns");
    EXPECT_EQ(time_axis_unit(1999).symbol, "ns");
    EXPECT_EQ(time_axis_unit(2000).symbol, "\u00b5s");
    EXPECT_EQ(time_axis_unit(2000).scale, 1e3);
    EXPECT_EQ(time_axis_unit(1.5e6).symbol, "\u00b5s");
    EXPECT_EQ(time_axis_unit(2e6).symbol, "ms");
    EXPECT_EQ(time_axis_unit(2e9).symbol, "s");
    EXPECT_EQ(time_axis_unit(1e15).symbol, "s");
    // A trace stamped to the second is drawn in seconds whatever the span.
    EXPECT_EQ(time_axis_unit(500, 1'000'000'000).symbol, "s");
    EXPECT_EQ(time_axis_unit(5e9, 1'000).symbol, "s");
}

TEST(Units, TimesOfAMeasuredTraceAreDurationsSinceItsStart) {
    EXPECT_EQ(format_time(1'000'000 + 1'234'000, 1'000'000), "1.234 ms");
    EXPECT_EQ(format_time(500, 500), "0 ns");
    EXPECT_EQ(format_time(400, 500), "0 ns"); // never before the start
    EXPECT_EQ(format_interval(100, 1'334), "1.234 \u00b5s");
    EXPECT_EQ(format_interval(100, 100), "0 ns");
}

// An nginx import: stamps to the second, the nanoseconds below them are the order of the
// lines within that second (trace-format.md).
TEST(Units, TimesOfACoarseTraceAreTheStepAndTheOrderWithinIt) {
    const std::uint64_t second = 1'000'000'000;
    const std::uint64_t start = 1'732'000'000 * second; // first stamp of the trace
    EXPECT_EQ(format_time(start, start, second), "0 s #1");
    EXPECT_EQ(format_time(start + 368, start, second), "0 s #369");
    EXPECT_EQ(format_time(start + 12 * second + 2, start, second), "12 s #3");
    // An origin inside its second (lines before the first event): seconds still count
    // from the origin's second.
    EXPECT_EQ(format_time(start + second + 4, start + 7, second), "1 s #5");
    EXPECT_EQ(format_time(start + 1500 * second, start, second), "1500 s #1");
    EXPECT_EQ(stamp_ns(start + 42, second), start);
    EXPECT_EQ(order_in_step(start + 42, second), 43u);
}

TEST(Units, IntervalsOfACoarseTraceAreWholeSteps) {
    const std::uint64_t second = 1'000'000'000;
    const std::uint64_t start = 1'732'000'000 * second;
    EXPECT_EQ(format_interval(start + 369, start + 709, second), "< 1 s"); // not "340 ns"
    EXPECT_EQ(interval_ns(start + 369, start + 709, second), 0u);
    EXPECT_EQ(format_interval(start + 900, start + second + 2, second), "1 s");
    EXPECT_EQ(format_interval(start + 5, start + 3 * second, second), "3 s");
    EXPECT_EQ(interval_ns(start + 5, start + 3 * second, second), 3 * second);
    EXPECT_EQ(format_interval(start + 5, start, second), "< 1 s");
    EXPECT_EQ(format_interval(start, start + 1'500'000, 1'000'000), "1 ms");
}

TEST(Units, TickStepsAreOneTwoOrFiveTimesAPowerOfTen) {
    EXPECT_EQ(tick_step(10, 5), 2);
    EXPECT_EQ(tick_step(7.2, 5), 2);
    EXPECT_EQ(tick_step(100, 5), 20);
    EXPECT_EQ(tick_step(30, 6), 5);
    EXPECT_DOUBLE_EQ(tick_step(0.9, 5), 0.2);
    EXPECT_EQ(tick_step(20, 5, true), 5);
    EXPECT_EQ(tick_step(3, 5, true), 1); // whole: never half a request
    EXPECT_EQ(tick_step(0, 5), 1);
    EXPECT_EQ(step_decimals(0.5), 1);
    EXPECT_EQ(step_decimals(0.2), 1);
    EXPECT_EQ(step_decimals(0.05), 2);
    EXPECT_EQ(step_decimals(2), 0);
    EXPECT_EQ(step_decimals(1), 0);
}

TEST(Units, ByteAxesTickAtRoundValuesOfABinaryUnit) {
    // 7.2 KiB: 0, 2, 4, 6, 8 KiB (not 2.4 / 4.8 / 7.2).
    ByteAxis a = byte_axis(7.2 * 1024, 5);
    EXPECT_EQ(a.unit.symbol, "KiB");
    EXPECT_EQ(a.step, 2);
    EXPECT_EQ(a.top, 8);
    EXPECT_EQ(a.decimals, 0);
    // Whole bytes: "400 B", never "400.0 B".
    a = byte_axis(400, 5);
    EXPECT_EQ(a.unit.symbol, "B");
    EXPECT_EQ(a.step, 100);
    EXPECT_EQ(a.top, 400);
    EXPECT_EQ(a.decimals, 0);
    a = byte_axis(3, 6);
    EXPECT_EQ(a.step, 1);
    EXPECT_EQ(a.top, 3);
    // 2.5 KiB: half KiB steps with one decimal.
    a = byte_axis(2.5 * 1024, 6);
    EXPECT_EQ(a.unit.symbol, "KiB");
    EXPECT_DOUBLE_EQ(a.step, 0.5);
    EXPECT_DOUBLE_EQ(a.top, 2.5);
    EXPECT_EQ(a.decimals, 1);
    a = byte_axis(38.8 * 1024, 6);
    EXPECT_EQ(a.step, 10);
    EXPECT_EQ(a.top, 40);
}

TEST(Units, TheStepAloneOfACoarseTime) {
    const std::uint64_t second = 1'000'000'000;
    const std::uint64_t start = 1'732'000'000 * second + 5;
    EXPECT_EQ(format_step(start, start, second), "0 s");
    EXPECT_EQ(format_step(start + 12 * second, start, second), "12 s");
}
