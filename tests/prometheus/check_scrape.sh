#!/usr/bin/env bash
# A real Prometheus scrapes a real run: im_server on loopback, im_bench with --metrics-listen,
# and Debian's /usr/bin/prometheus scraping it every second. Passes when Prometheus's HTTP API
# shows the 50 connections, messages received, round trips, the 7 request-failure classes and
# up == 1 while the run goes, and im_bench then ends with status 0. Everything listens on
# 127.0.0.1; everything started here is stopped by its PID on exit. Bounded to 60 s.
#
#   tests/prometheus/check_scrape.sh <im_bench> <im_server>
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 <im_bench> <im_server>" >&2
  exit 2
fi
im_bench=$1
im_server=$2
prometheus=${PROMETHEUS:-/usr/bin/prometheus}
limit=60  # seconds for the whole script
users=50

fail() {
  echo "check_scrape: FAIL: $*" >&2
  for log in "$tmp"/*.log; do
    [ -s "$log" ] || continue
    echo "---- last lines of $(basename "$log") ----" >&2
    tail -n 15 "$log" >&2
  done
  exit 1
}
[ -x "$prometheus" ] || { echo "check_scrape: FAIL: $prometheus not found (apt-get install prometheus)" >&2; exit 1; }

# Loopback only: no proxy may stand between Prometheus (or our queries) and 127.0.0.1.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsload-prometheus.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 30); do  # up to 3 s for them to leave on their own
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# Two free ports at once (both sockets open together, so they differ).
read -r metrics_port prometheus_port < <(python3 -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')

ready() {
  python3 -c '
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    sys.exit(0 if opener.open(sys.argv[1], timeout=2).status == 200 else 1)
except Exception:
    sys.exit(1)' "http://127.0.0.1:$prometheus_port/-/ready"
}
in_time() { ((SECONDS < limit)); }

# 1. The server, on a free port it reports on its first line. The log exists before the
# server starts: the background child creates it only when it runs, and a sed on a missing
# file would end this script (set -e) before the server got there.
: > "$tmp/im_server.log"
"$im_server" --host 127.0.0.1 --port 0 > "$tmp/im_server.log" 2>&1 &
pids+=($!)
server_port=
while in_time && [ -z "$server_port" ]; do
  server_port=$(sed -n '1s/^im_server listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/im_server.log")
  [ -n "$server_port" ] || { kill -0 "${pids[0]}" 2>/dev/null || fail "im_server exited"; sleep 0.05; }
done
[ -n "$server_port" ] || fail "im_server did not report its port"

# 2. Prometheus, scraping the metrics port every second; nothing else configured (no remote
#    write, no alertmanager, no service discovery), so it talks to 127.0.0.1 only.
cat > "$tmp/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: wsload
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
YML
"$prometheus" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$prometheus_port" --log.level=warn > "$tmp/prometheus.log" 2>&1 &
prometheus_pid=$!
pids+=("$prometheus_pid")
until ready; do
  kill -0 "$prometheus_pid" 2>/dev/null || fail "prometheus exited"
  in_time || fail "prometheus was not ready on 127.0.0.1:$prometheus_port"
  sleep 0.1
done

# 3. The run, serving its metrics where Prometheus looks.
"$im_bench" --target "ws://127.0.0.1:$server_port/ws" --mode messaging --conns "$users" --ramp 1s \
  --duration 12s --message-interval 100ms --ping-interval 1s --quiet \
  --metrics-listen "127.0.0.1:$metrics_port" > "$tmp/im_bench.log" 2>&1 &
bench_pid=$!
pids+=("$bench_pid")

# 4. Poll Prometheus's HTTP API (one interpreter, many quick queries) while the run goes,
#    until each instant query has shown what it should.
python3 - "$prometheus_port" "$users" "$bench_pid" "$((limit - SECONDS))" <<'PY' || fail "Prometheus did not see the run (see above)"
import json, os, sys, time, urllib.parse, urllib.request
port, users, bench, budget = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy

def values(expr):
    url = "http://127.0.0.1:%s/api/v1/query?query=%s" % (port, urllib.parse.quote(expr))
    try:
        with opener.open(url, timeout=2) as r:
            return [float(s["value"][1]) for s in json.load(r)["data"]["result"]]
    except Exception:
        return []

checks = {  # query -> (what is wanted, test on its single series)
    "wsload_active_connections": ("== %d" % users, lambda v: v == users),
    "wsload_messages_received_total": ("> 0", lambda v: v > 0),
    "wsload_round_trip_seconds_count": ("> 0", lambda v: v > 0),
    'up{job="wsload"}': ("== 1", lambda v: v == 1),
    # Every request-failure class is a series, zeros included (stats::request_failure_count).
    # (wsload_http_responses_total has series only for codes seen: none in a WebSocket run.)
    "count(wsload_request_failures_total)": ("== 7", lambda v: v == 7),
}
seen, last = {}, {}
deadline = time.monotonic() + budget
def running():
    try:
        os.kill(bench, 0)
        return True
    except OSError:
        return False
while len(seen) < len(checks) and running() and time.monotonic() < deadline:
    for expr, (_, ok) in checks.items():
        if expr in seen:
            continue
        v = last[expr] = values(expr)
        if len(v) == 1 and ok(v[0]):
            seen[expr] = v[0]
    time.sleep(0.2)
for expr, (want, _) in checks.items():
    got = seen.get(expr, last.get(expr))
    print("check_scrape: %s = %s (want %s)%s" % (expr, got, want, "" if expr in seen else "  <-- not seen"),
          flush=True)
sys.exit(0 if len(seen) == len(checks) else 1)
PY

# 5. The run ends by itself, with its report, and the endpoint does not keep it alive.
while in_time && kill -0 "$bench_pid" 2>/dev/null; do sleep 0.2; done
kill -0 "$bench_pid" 2>/dev/null && fail "im_bench still running after ${limit}s"
status=0
wait "$bench_pid" || status=$?
((status == 0)) || fail "im_bench exited with status $status"
grep -q "Connections" "$tmp/im_bench.log" || fail "im_bench printed no report"
echo "check_scrape: PASS in ${SECONDS}s"
