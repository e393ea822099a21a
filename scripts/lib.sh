# Shared by the scripts: installs what a fresh Debian 12 machine lacks, configures, builds.
# shellcheck shell=bash

MEMLIFE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Everything the build, the tests and the benchmarks use, as Debian 12 packages.
MEMLIFE_PACKAGES=(
  cmake ninja-build g++ pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev sqlite3 libfmt-dev nlohmann-json3-dev libcli11-dev
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev qt6-svg-dev libgl-dev
  xvfb xauth fonts-dejavu-core
  curl wrk nginx clang libclang-rt-14-dev
  libunwind-dev libdw-dev heaptrack binutils
)

# Installs the packages that are missing (apt-get update once, then install); does
# nothing when all are present.
memlife_require_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "memlife: missing Debian packages (run as root to install): ${missing[*]}" >&2
    return 1
  fi
  echo "memlife: installing ${missing[*]}" >&2
  # Debian's nginx package would start the default site on port 80: forbid service starts
  # during the install (policy-rc.d exit 101), the tests run their own instances.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  local rc=$?
  [ "$created_policy" -eq 1 ] && rm -f "$policy"
  return $rc
}

# configure_and_build DIR [cmake options...]: configures once, then builds with -j2.
memlife_build() {
  local dir="$1"; shift
  # ccache, when the machine has it, makes rebuilds in several build trees cheap; it is
  # optional (a fresh machine builds without it).
  local launcher=()
  command -v ccache >/dev/null 2>&1 &&
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$MEMLIFE_ROOT" -B "$MEMLIFE_ROOT/$dir" -G Ninja "${launcher[@]}" "$@" >/dev/null
  cmake --build "$MEMLIFE_ROOT/$dir" -j2
}
