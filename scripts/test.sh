#!/usr/bin/env bash
# The whole test suite: CTest on the normal build, then the core and data tests again
# under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$MEMLIFE_ROOT"
memlife_require_packages "${MEMLIFE_PACKAGES[@]}"

memlife_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd build && QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j2 --timeout 600)

memlife_build build-asan -DCMAKE_BUILD_TYPE=Debug -DMEMLIFE_SANITIZE=ON \
  -DMEMLIFE_BUILD_UI=OFF -DMEMLIFE_BUILD_APP=OFF -DMEMLIFE_BUILD_BENCH=OFF
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j2 -L 'core|data' --timeout 900)
