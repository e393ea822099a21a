#!/usr/bin/env bash
# run-set.sh BIN_DIR [--gui] [--memory-kib N]: records a trace with BIN_DIR/memlife, makes the
# hostile-trace set from it (make-set.sh) and runs every command that reads a trace on every
# trace of the set - report, report --json, check, export csv and jsonl, sql - and with --gui
# every view of BIN_DIR/memlife-gui (--screenshot --view NAME), each under `ulimit -v` (1 GiB
# by default: the GUI needs under 200 MiB on such a trace) and a 60 s timeout. Each run must
# end by itself (no crash, no hang) with exit 0, 1 or 2, and say what is wrong in at most one
# line on stderr naming the trace. Prints one line per trace; exit 1 if any run broke a rule.
set -uo pipefail
bin=$(cd "$1" && pwd); shift
gui=0 memory_kib=$((1024 * 1024))
while [ $# -gt 0 ]; do
  case $1 in
    --gui) gui=1 ;;
    --memory-kib) memory_kib=$2; shift ;;
    *) echo "run-set.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/memlife-hostile-XXXXXX)
trap 'rm -rf "$work"' EXIT

"$bin/memlife" simulate --scenario mixed --connections 24 --requests-per-connection 12 \
  --threads 2 -o "$work/recorded.mltrace" 2>/dev/null || { echo "run-set.sh: simulate failed" >&2; exit 1; }
names=$("$here/make-set.sh" "$work/recorded.mltrace" "$work/set") || exit 1
names="recorded $names"
cp "$work/recorded.mltrace" "$work/set/recorded.mltrace"

views=""
if [ "$gui" -eq 1 ]; then
  # "memlife-gui: unknown view 'none' (views: overview, growth, ...)"
  views=$(QT_QPA_PLATFORM=offscreen "$bin/memlife-gui" --view none 2>&1 |
    sed -n 's/.*(views: \(.*\))$/\1/p' | tr -d ',')
  [ -n "$views" ] || { echo "run-set.sh: no views in memlife-gui --help" >&2; exit 1; }
  export QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR="$work/runtime"
  mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
fi

failures=0
# check WHAT TRACE CODE ERRFILE ALLOWED_CODES: one rule per run.
check() {
  local what=$1 trace=$2 code=$3 err=$4 allowed=$5 lines
  lines=$(wc -l <"$err")
  local why=""
  if [ "$code" -eq 124 ]; then why="did not end within 60 s"
  elif [[ " $allowed " != *" $code "* ]]; then why="exit $code"
  elif [ "$lines" -gt 1 ]; then why="$lines lines on stderr"
  elif [ "$lines" -eq 1 ] && ! grep -qF "$trace" "$err"; then why="its error does not name the trace"
  elif [ "$code" -eq 2 ] && [ "$lines" -ne 1 ]; then why="exit 2 without a line saying why"
  fi
  if [ -n "$why" ]; then
    echo "  FAIL $what: $why: $(head -c 300 "$err")"
    failures=$((failures + 1))
  fi
}

run() { # ALLOWED_CODES TRACE LABEL COMMAND...
  local allowed=$1 trace=$2 label=$3; shift 3
  (ulimit -v "$memory_kib"; exec timeout 60 "$@") >"$work/out" 2>"$work/err"
  local code=$?
  check "$label" "$trace" "$code" "$work/err" "$allowed"
  codes+="$code"
}

for name in $names; do
  trace="$work/set/$name.mltrace"
  codes=""
  run "0 2" "$trace" "report" "$bin/memlife" report "$trace"
  run "0 2" "$trace" "report --json" "$bin/memlife" report --json "$trace"
  run "0 1 2" "$trace" "check" "$bin/memlife" check "$trace"
  run "0 1 2" "$trace" "check --max-growth 0" "$bin/memlife" check --max-growth 0 "$trace"
  for format in csv jsonl; do
    rm -f "$work/export.$format"
    run "0 2" "$trace" "export $format" "$bin/memlife" export "$trace" --format "$format" -o "$work/export.$format"
  done
  for query in "SELECT * FROM sessions" "SELECT * FROM meta" "SELECT count(*), sum(size) FROM events" \
               "SELECT * FROM requests" "SELECT * FROM blocks" "SELECT * FROM releases LIMIT 100"; do
    run "0 2" "$trace" "sql $query" "$bin/memlife" sql --timeout 30 "$trace" "$query"
  done
  codes+=" "
  for view in $views; do
    run "0 2" "$trace" "memlife-gui --view $view" \
      "$bin/memlife-gui" --screenshot "$work/shot.png" --view "$view" "$trace"
  done
  printf '%-26s exit codes %s\n' "$name" "$codes"
done
count=$(echo "$names" | wc -w)
if [ "$failures" -ne 0 ]; then
  echo "hostile set: $failures run(s) broke a rule ($count traces)"
  exit 1
fi
echo "hostile set: $count traces, every run ended by itself with one line at most (ulimit -v $memory_kib KiB)"
