#!/usr/bin/env bash
# A/B of bench/startup.py: alternately from the base tree ($BASE, default /work/wt/first-load-base) and this one,
# ROUNDS times (default 2), -n N (default 10); prints the load and the two result lines of each run.
# BUSY=k also runs k busy loops (nice 0) for the whole A/B (controlled load).
set -u
HERE=$(cd "$(dirname "$0")/.." && pwd)
BASE=${BASE:-/work/wt/first-load-base}
busy=()
for _ in $(seq 1 "${BUSY:-0}"); do
  nice -n 0 python3 -c 'while True: pass' & busy+=($!)
done
for r in $(seq 1 "${ROUNDS:-2}"); do
  for tree in "$BASE" "$HERE"; do
    name=$([ "$tree" = "$HERE" ] && echo new || echo base)
    out=$(cd "$tree" && .venv/bin/python bench/startup.py -n "${N:-10}" 2>/dev/null)
    echo "$(date -u +%H:%M:%S) $name: $(echo "$out" | grep -o 'at the start: .*' ) -> $(echo "$out" | grep -o 'at the end: .*')"
    echo "$out" | grep -E "ratio" | sed 's/^/    /'
  done
done
for p in "${busy[@]}"; do kill "$p"; done
