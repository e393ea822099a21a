#!/usr/bin/env bash
# make-set.sh TRACE DIR: writes the hostile-trace set into DIR, one DIR/NAME.mltrace per entry
# of mutations.sql (a copy of TRACE with the entry's SQL applied by sqlite3), plus files that
# are not SQL changes: cut in half, random bytes, empty. Prints the names it wrote.
set -euo pipefail
source_trace=$1 dir=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"

apply() { # NAME SQL
  local out="$dir/$1.mltrace"
  cp "$source_trace" "$out"
  if ! printf '%s\n' "$2" | sqlite3 -bail "$out" >/dev/null; then
    echo "make-set.sh: $1: the SQL failed" >&2
    exit 1
  fi
  echo "$1"
}

name="" sql=""
while IFS= read -r line || [ -n "$line" ]; do
  if [[ $line =~ ^--\ ([a-z0-9-]+):\  ]]; then
    name=${BASH_REMATCH[1]} sql=""
  elif [ -z "$line" ]; then
    [ -n "$name" ] && apply "$name" "$sql"
    name="" sql=""
  elif [ -n "$name" ]; then
    sql+="$line"$'\n'
  fi
done <"$here/mutations.sql"
[ -n "$name" ] && apply "$name" "$sql"

size=$(stat -c %s "$source_trace")
head -c $((size / 2)) "$source_trace" >"$dir/cut-in-half.mltrace" && echo cut-in-half
head -c 65536 /dev/urandom >"$dir/random-bytes.mltrace" && echo random-bytes
: >"$dir/empty.mltrace" && echo empty
