#!/usr/bin/env bash
# Reliability load run (docs/reliability.md): builds `housekeeper serve` and
# runs it over loopback against the GitHub emulator — a burst of webhooks
# through a bounded queue (refused ones redelivered by the reconciler),
# injected faults, 30 planted secrets, hostile input, a fork PR adding a
# 100 MiB text file (peak RSS, key found; 16 MiB in --short), SIGTERM
# mid-burst — and prints the figures. Bounded in count and time; 127.0.0.1
# only.
#
#   scripts/load.sh                 # the full run: 1,000 events (~7 minutes)
#   scripts/load.sh --short         # the CI run (~1 minute)
#   scripts/load.sh -events 500 -phases load,faults   # any driver flag
#   scripts/load.sh -phases hostile-map             # time to handle 1 MiB adversarial maps (goal ≤ 2 s)
#   scripts/load.sh -phases bigfile                 # the 100 MiB fork PR only (peak RSS, key found)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
out="${TMPDIR:-/tmp}/housekeeper-load"
mkdir -p "$out"
go build -o "$out/housekeeper" ./cmd/housekeeper
go build -o "$out/load" ./internal/reliability/cmd/load
args=("$@")
if [ "${1:-}" = "--short" ]; then
  args=(-events 150 -prs 60 -fault-events 60 -hostile-files 20001 -tree-limit 20000 -map-runs 1 -bigfile-mb 16 -timeout 90s "${@:2}")
fi
exec timeout 20m "$out/load" -binary "$out/housekeeper" "${args[@]}"
