#!/usr/bin/env bash
# The main job: opens memlife-gui on a freshly simulated keep-alive trace, or on TRACE.
#   scripts/run.sh [TRACE]
# Without a display it renders the window under Xvfb into build/run/screenshot.png instead.
# (Before the GUI is built, it runs the core's keep-alive demo.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$MEMLIFE_ROOT"
memlife_require_packages "${MEMLIFE_PACKAGES[@]}"
memlife_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

if [ ! -x build/app/memlife-gui ]; then
  exec build/app/memlife-demo
fi

trace="${1:-}"
if [ -z "$trace" ]; then
  mkdir -p build/run
  trace=build/run/keepalive.trace
  rm -f "$trace"
  build/app/memlife simulate --scenario mixed --connections 40 --requests-per-connection 25 \
    --threads 2 -o "$trace"
fi
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec build/app/memlife-gui "$trace"
fi
echo "memlife: no display; rendering the window into build/run/screenshot.png" >&2
mkdir -p build/run
xvfb-run -a -s "-screen 0 1400x900x24" build/app/memlife-gui --screenshot build/run/screenshot.png "$trace"
echo "build/run/screenshot.png"
