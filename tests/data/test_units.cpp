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
