// What following a trace does to the loaded trace: a TraceChanges (a poll's delta) applied
// to a LoadedTrace gives the next LoadedTrace and a TraceUpdate that says what moved, so that
// models insert and change rows in place (selection, sorting, filters and zoom stay) instead
// of resetting. The loaded trace is never changed in place: jobs may still read the
// previous one on a worker.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "memlife/data/follow.hpp"
#include "window/loadedtrace.hpp"

namespace memlife::ui {

struct TraceUpdate {
    // Sessions new to the trace, appended to LoadedTrace::sessions in this order.
    std::vector<std::uint64_t> added;
    // Sessions already in the trace whose row changed (their index stays).
    std::vector<std::uint64_t> changed;
    std::size_t corruptionsAdded = 0, leaksAdded = 0;
    std::uint64_t previousLastNs = 0; // the trace's end before the update
    data::RecordingState state = data::RecordingState::Live;
    bool sessionsMoved() const { return !added.empty() || !changed.empty(); }
};

// `trace` with `changes` applied: session rows replaced or appended, findings appended, the
// info, time span and cursor replaced; the readers shared. Fills `update`.
std::shared_ptr<LoadedTrace> applyChanges(const LoadedTrace& trace,
                                          const data::TraceChanges& changes, TraceUpdate& update);

} // namespace memlife::ui
