#!/usr/bin/env bash
# The whole test suite:
#   1. CTest on the normal build (core, data, app, ui, install; real processes, real nginx);
#      then the hostile-trace set (tests/hostile/) through every command and GUI view;
#   2. the core and data tests again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the recorder's multi-threaded tests under ThreadSanitizer;
#   4. a 30 s libFuzzer smoke run of each importer (clang).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$MEMLIFE_ROOT"
memlife_require_packages "${MEMLIFE_PACKAGES[@]}"

echo "== build + ctest (build/)"
memlife_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMLIFE_BUILD_UI=ON
(cd build && QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j2 --timeout 900)

echo "== the hostile-trace set through every command and every GUI view, under ulimit -v"
tests/hostile/run-set.sh build/app --gui

echo "== ASan+UBSan: core and data (build-asan/)"
memlife_build build-asan -DCMAKE_BUILD_TYPE=Debug -DMEMLIFE_SANITIZE=ON \
  -DMEMLIFE_BUILD_UI=OFF -DMEMLIFE_BUILD_APP=OFF -DMEMLIFE_BUILD_BENCH=OFF
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j2 -L 'core|data' --timeout 900)

echo "== TSan: the recorder with 8 sessions on 8 threads (build-tsan/)"
memlife_build build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMLIFE_TSAN=ON \
  -DMEMLIFE_BUILD_UI=OFF -DMEMLIFE_BUILD_APP=OFF -DMEMLIFE_BUILD_BENCH=OFF
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1 \
  ctest --output-on-failure -R '^data\.Recorder\.' --timeout 900)

echo "== libFuzzer smoke run of the importers and the trace BLOB decoders, 30 s each (build-fuzz/)"
memlife_build build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DMEMLIFE_FUZZ=ON \
  -DMEMLIFE_BUILD_UI=OFF -DMEMLIFE_BUILD_APP=OFF -DMEMLIFE_BUILD_BENCH=OFF
fuzz() { # TARGET CORPUS [DICT]
  local target=$1 corpus=$2 scratch
  scratch=$(mktemp -d) # new corpus units go here, not into the committed seeds
  build-fuzz/tests/fuzz/fuzz_$target -max_total_time=30 -print_final_stats=1 \
    -artifact_prefix=build-fuzz/ ${3:+-dict=$3} "$scratch" "$corpus" \
    2>build-fuzz/fuzz_$target.log ||
    { tail -40 build-fuzz/fuzz_$target.log; rm -rf "$scratch"; exit 1; }
  grep -E "^stat::number_of_executed_units" build-fuzz/fuzz_$target.log | sed "s/^/fuzz_$target: /"
  rm -rf "$scratch"
}
fuzz import_nginx tests/fuzz/corpus/nginx tests/fuzz/nginx.dict
fuzz import_jsonl tests/fuzz/corpus/jsonl tests/fuzz/jsonl.dict
fuzz trace_batch tests/fuzz/corpus/batch
echo "all test stages passed"
