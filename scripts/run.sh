#!/usr/bin/env bash
# The main job. Until the GUI exists: a demo of the core - one keep-alive connection with
# several requests, one corrupted tail, and the reports.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$MEMLIFE_ROOT"
memlife_require_packages "${MEMLIFE_PACKAGES[@]}"
memlife_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
exec build/app/memlife-demo "$@"
