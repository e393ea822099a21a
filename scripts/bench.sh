#!/usr/bin/env bash
# Runs the benchmarks on a Release build. One line per figure:
#   name  value  unit  baseline  ratio      (ratio = value / baseline, same run)
# The raw Google Benchmark tables go to build-release/bench.log. bench_follow (about 70 s)
# records 30 s at 1M events/s twice, with and without the GUI following:
# follow_latency_p95_ms (against 1000 ms; target <= 0.5), follow_gui_cpu_vs_core (<= 0.25),
# follow_wal_vs_alone (< 2).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$MEMLIFE_ROOT"
memlife_require_packages "${MEMLIFE_PACKAGES[@]}"
memlife_build build-release -DCMAKE_BUILD_TYPE=Release -DMEMLIFE_BUILD_TESTS=OFF -DMEMLIFE_BUILD_UI=ON >/dev/null

log=build-release/bench.log
: > "$log"
printf '%-36s %14s %-10s %14s %10s\n' name value unit baseline ratio
for program in build-release/bench/bench_*; do
  [ -x "$program" ] || continue
  "$program" --benchmark_min_time=0.5 2>>"$log"
done
