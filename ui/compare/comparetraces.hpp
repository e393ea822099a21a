// The comparison of two loaded traces (memlife/data/compare.hpp), for a job: each trace is
// read through its own reader pool on the worker; a canceled job stops the event pass. The
// job's progress is the percent of both traces' events decoded (the base's first).
#pragma once

#include "jobs/jobtracker.hpp"
#include "memlife/data/compare.hpp"
#include "window/loadedtrace.hpp"

namespace memlife::ui {

data::Comparison compareTraces(const LoadedTrace& base, const LoadedTrace& next,
                               data::ProfileOptions options, const JobControl& job);

} // namespace memlife::ui
