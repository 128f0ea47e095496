#!/usr/bin/env bash
# run_with_server.sh SERVER COMMAND [ARG...]: start one of the bundled servers (im_server,
# chat_server, upload_server) on 127.0.0.1 and a free port, wait for its first line,
# `<name> listening on <host>:<port>`, run COMMAND with every "@PORT@" in its arguments replaced
# by that port (bounded by 120 s), then stop the server it started (SIGTERM by PID; SIGKILL if it
# has not left 5 s later). Exit status: COMMAND's; 1 when the server did not start within 10 s.
set -euo pipefail
server=$1
shift
out=$(mktemp)
"$server" --port 0 >"$out" &
pid=$!
stop_server() {
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$out"
}
trap stop_server EXIT
for _ in $(seq 100); do
  grep -q " listening on " "$out" && break
  kill -0 "$pid" 2>/dev/null || break  # it exited: no use waiting
  sleep 0.1
done
line=$(grep -m1 " listening on " "$out") || {
  echo "$(basename "$server") did not say it was listening within 10 s" >&2
  exit 1
}
port=${line##*:}
args=()
for a in "$@"; do args+=("${a//@PORT@/$port}"); done
status=0
timeout 120 "${args[@]}" || status=$?
exit "$status"
