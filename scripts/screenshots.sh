#!/usr/bin/env bash
# Regenerates the screenshots in docs/images from freshly made traces, as docs/gui.md and
# docs/teaching.md describe. Needs a built tree (scripts/test.sh or memlife_build); no display:
# the GUI's batch modes run on Qt's offscreen platform.
#   scripts/screenshots.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cli=$build/app/memlife
gui=$build/app/memlife-gui
images=docs/images
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$cli" simulate --scenario mixed -o "$work/mixed.memlife" --connections 40 \
    --requests-per-connection 30 --threads 4 --seed 7 >/dev/null
"$cli" import nginx tests/fixtures/nginx-debug-keepalive.log -o "$work/nginx.memlife" >/dev/null
"$cli" import jsonl tests/fixtures/teaching-violation.jsonl -o "$work/violation.memlife" >/dev/null

for view in overview growth leaks sites blocks events; do
    "$gui" --palette light --view "$view" --screenshot "$images/$view.png" "$work/mixed.memlife"
done
"$gui" --palette dark --screenshot "$images/overview-dark.png" "$work/mixed.memlife"
"$gui" --palette light --view blocks --inspect-tail \
    --screenshot "$images/tail-inspector.png" "$work/mixed.memlife"
"$gui" --palette light --view blocks --screenshot-size 1024x768 \
    --screenshot "$images/blocks-1024.png" "$work/nginx.memlife"

# Compare mode: a keep-alive leak (the base) against the same server fixed.
for scenario in keepalive-leak per-request; do
    "$cli" simulate --scenario "$scenario" -o "$work/$scenario.memlife" --connections 40 \
        --requests-per-connection 30 --seed 7 >/dev/null
done
"$gui" --palette light --compare "$work/keepalive-leak.memlife" \
    --screenshot "$images/compare.png" "$work/per-request.memlife"
"$gui" --palette dark --compare "$work/keepalive-leak.memlife" \
    --screenshot "$images/compare-dark.png" "$work/per-request.memlife"
"$gui" --palette dark --compare "$work/keepalive-leak.memlife" --view growth \
    --screenshot "$images/compare-growth-dark.png" "$work/per-request.memlife"
"$gui" --palette light --compare "$work/keepalive-leak.memlife" --view sites \
    --screenshot "$images/compare-sites.png" "$work/per-request.memlife"

"$gui" --palette light --view teaching --screenshot "$images/teaching.png"
"$gui" --palette light --view teaching --teaching-what-if \
    --screenshot "$images/teaching-what-if.png"
"$gui" --palette light --view teaching --screenshot "$images/teaching-trace.png" \
    "$work/mixed.memlife"
"$gui" --palette light --view teaching --teaching-step 18 \
    --screenshot "$images/teaching-violation.png" "$work/violation.memlife"
"$gui" --palette light --view teaching --screenshot-size 1024x768 \
    --screenshot "$images/teaching-nginx.png" "$work/nginx.memlife"
echo "screenshots written to $images"
