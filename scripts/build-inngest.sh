#!/usr/bin/env bash
# Builds the Inngest dev server (github.com/inngest/inngest/cmd, pinned in
# tools/inngestdev) into $1, showing that it is working: the first build
# compiles a few thousand packages and takes minutes. A line every
# PROGRESS_EVERY seconds (30) says it is still working and for how long.
set -euo pipefail
out=$1
version=${2:-}
echo "Building the Inngest dev server $version into $out: once, then cached."
echo "  It compiles the whole dev server from the Go module proxy; expect 3 to 5 minutes on 2 cores, less on more."
start=$SECONDS
(cd tools/inngestdev && exec "${GO:-go}" build -o "$out" github.com/inngest/inngest/cmd) &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; exit 130' INT TERM HUP
while kill -0 "$pid" 2>/dev/null; do
  for _ in $(seq 1 "${PROGRESS_EVERY:-30}"); do
    kill -0 "$pid" 2>/dev/null || break 2
    sleep 1
  done
  echo "  ... still building the Inngest dev server ($((SECONDS - start))s so far)"
done
wait "$pid"
echo "Built the Inngest dev server in $((SECONDS - start))s."
