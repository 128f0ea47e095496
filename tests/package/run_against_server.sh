#!/usr/bin/env bash
# run_against_server.sh IM_SERVER SCENARIO RESULT_JSON: start im_server on a free port, run the
# scenario against it, stop the server. Exit status: the scenario's.
set -euo pipefail
server=$1 scenario=$2 result=$3
out=$(mktemp)
"$server" --port 0 >"$out" 2>/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do
  grep -q "listening on" "$out" && break
  sleep 0.1
done
line=$(grep "listening on" "$out") || { echo "im_server did not start" >&2; exit 1; }
port=${line##*:}
"$scenario" --target "ws://127.0.0.1:${port}/ws" --quiet --json "$result"
