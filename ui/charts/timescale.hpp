// Where a chart puts a trace time on its x axis, and what it writes there.
//
// A measured trace (time_resolution_ns 1) is drawn against time since its start, in the
// unit its span needs. A coarse one (an nginx import: stamps to the second) would put every
// event of a second on one vertical line, so it is drawn against event order instead: each
// second that holds events gets as many positions as it has stamps (trace-format.md: the
// nanoseconds below a step are the order of the events in it), seconds follow each other
// without gaps, and the axis is labelled with the seconds ("12 s") or, zoomed into one, with
// the order within it ("12 s #40"): the same text as the tables (style/format.hpp).
#pragma once

#include <QString>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "style/format.hpp"

namespace memlife::data {
class TraceReader;
}

namespace memlife::ui {

struct LoadedTrace;

// The steps of a coarse clock (seconds) that hold events, in order, each with the position
// of its first stamp on the order axis; a step is as wide as its highest stamp.
class StepIndex {
public:
    StepIndex() = default;
    // Every event's time, read on a worker (the loader does it for coarse traces only):
    // one entry per second that holds events.
    static StepIndex scan(const data::TraceReader& reader, std::uint64_t resolutionNs,
                          const std::atomic<bool>& canceled);
    static StepIndex fromTimes(const std::vector<std::uint64_t>& times, std::uint64_t resolutionNs);

    bool empty() const { return steps_.empty(); }
    std::uint64_t resolution() const { return resolution_; }
    std::size_t size() const { return steps_.size(); }
    std::uint64_t step(std::size_t i) const { return steps_[i]; } // time / resolution
    double start(std::size_t i) const { return double(offsets_[i]); }
    double width(std::size_t i) const { return double(offsets_[i + 1] - offsets_[i]); }
    double end() const { return offsets_.empty() ? 0.0 : double(offsets_.back()); }

    // The position of a time: its step's start plus its order within the step; a time in a
    // step without events sits where the next step with events starts.
    double position(std::uint64_t ns) const;
    // The time at a position (the stamp at or before it).
    std::uint64_t time(double position) const;
    // The first step whose start is at or after `position`.
    std::size_t stepAtOrAfter(double position) const;

private:
    void add(std::uint64_t ns);
    void finish();
    void mergeLate();

    std::uint64_t resolution_ = 1;
    std::vector<std::uint64_t> steps_;                          // ascending
    std::vector<std::uint64_t> offsets_;                        // per step, plus the end
    std::vector<std::pair<std::uint64_t, std::uint64_t>> late_; // out of order (step, width)
};

struct TimeTick {
    double x = 0;
    QString label;
};

class TimeScale {
public:
    TimeScale() = default;
    // Time since originNs in `unit` (a measured trace).
    static TimeScale measured(std::uint64_t originNs, AxisUnit unit);
    // Event order over `steps` (a coarse trace).
    static TimeScale ordered(std::uint64_t originNs, std::shared_ptr<const StepIndex> steps);
    // The scale for a trace, with the unit for a span of spanNs (measured traces).
    static TimeScale forTrace(const LoadedTrace& trace, double spanNs);

    bool isOrdered() const { return steps_ != nullptr; }
    std::uint64_t resolution() const { return steps_ ? steps_->resolution() : 1; }
    double toX(std::uint64_t ns) const;
    std::uint64_t toNs(double x) const;
    // The time as the tables write it: "1.234 ms", "12 s #3".
    QString timeText(std::uint64_t ns) const;
    QString title() const;
    // The smallest span a zoom may reach (100 ns, or 10 positions).
    double minSpan() const;
    // Ticks at round values over [min, max], at most about maxTicks: 1-2-5 steps of the
    // unit; ordered: the seconds, or within a second its order at 1-2-5 steps (seconds are
    // as wide as their stamps: a tick nearer than minGap to the one before is left out).
    std::vector<TimeTick> ticks(double min, double max, int maxTicks, double minGap = 0) const;

private:
    std::vector<TimeTick> orderTicks(double min, double max, int maxTicks) const;

    std::uint64_t origin_ = 0;
    AxisUnit unit_{1, QStringLiteral("ns")};
    std::shared_ptr<const StepIndex> steps_;
};

} // namespace memlife::ui
