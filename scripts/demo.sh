#!/usr/bin/env bash
# Builds im_server and im_bench, starts the server on loopback and runs a ~20 s messaging
# load test with a few thousand connections; the report is printed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
WSLOAD_SETUP=demo bash scripts/setup.sh --target im_server im_bench
BUILD_DIR=${BUILD_DIR:-build}

out=$(mktemp)
"$BUILD_DIR/examples/im_server" --port 0 --threads 1 >"$out" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$out" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$out")
[ -n "$port" ] || { echo "demo: im_server did not start" >&2; exit 1; }

"$BUILD_DIR/examples/im_bench" --target "ws://127.0.0.1:${port}/ws" --mode messaging \
  --conns 3000 --ramp 5s --duration 20s --message-interval 1s --ping-interval 5s "$@"
