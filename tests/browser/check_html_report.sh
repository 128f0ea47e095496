#!/usr/bin/env bash
# The HTML report in a real browser: runs im_bench (messaging, steps of 25 then 50 users, 2 s
# each: 4 s) against a fresh im_server with --html and --csv, opens the page in headless Debian
# Chromium, then checks the DOM Chromium built (every chart present, with points and drawn paths
# or bars, the per-phase tables) and a screenshot (the right size, many colours, chart colours on it). inspect_report.py does the
# checking; its lines say what failed.
#
#   check_html_report.sh IM_BENCH IM_SERVER [OUT_DIR]
#
# OUT_DIR (default: a temporary directory) keeps report.html, report.png, dom.html, the CSV
# files and the logs, to look at after a failure.
set -euo pipefail

if (($# < 2)); then
  echo "usage: check_html_report.sh IM_BENCH IM_SERVER [OUT_DIR]" >&2
  exit 2
fi
im_bench=$1
im_server=$2
out=${3:-$(mktemp -d)}
chromium=${CHROMIUM:-/usr/bin/chromium}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

fail() {
  echo "check_html_report: $*" >&2
  exit 1
}
[ -x "$chromium" ] || fail "$chromium not found: install Debian's chromium (bash scripts/setup.sh does)"
[ -x "$im_bench" ] || fail "$im_bench is not an executable (build the im_bench target)"
[ -x "$im_server" ] || fail "$im_server is not an executable (build the im_server target)"

mkdir -p "$out"
out=$(cd "$out" && pwd)  # Chromium wants an absolute file:// URL
rm -f "$out"/report.html "$out"/report.png "$out"/dom.html "$out"/run_*.csv
scratch=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

# im_server on port 0; its first stdout line names the port. Read through a FIFO, so the
# script waits for exactly that line (bounded by read -t) instead of sleeping.
mkfifo "$scratch/server.out"
"$im_server" --port 0 >"$scratch/server.out" 2>"$out/server.err" &
server_pid=$!
exec 3<"$scratch/server.out"
line=
read -r -t 20 line <&3 || true
[[ $line =~ ^im_server\ listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]] ||
  fail "im_server did not say where it listens (first line: \"$line\"; see $out/server.err)"
port=${BASH_REMATCH[1]}
echo "im_server (pid $server_pid) listening on port $port"

status=0
timeout 120 "$im_bench" --target "ws://127.0.0.1:$port/ws" --mode messaging --steps 25,50 --step-duration 2s \
  --message-interval 100ms --ping-interval 1s --quiet \
  --html "$out/report.html" --csv "$out/run" >"$out/bench.out" 2>"$out/bench.err" || status=$?
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=
exec 3<&-
((status == 0)) || fail "im_bench exited with status $status (see $out/bench.out and $out/bench.err)"
[ -s "$out/report.html" ] || fail "im_bench wrote no $out/report.html"

# Each Chromium gets its own throw-away profile; no network, nothing phones home.
chromium_run() {
  local profile
  profile=$(mktemp -d -p "$scratch")
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" "$@"
}
chromium_run --dump-dom "file://$out/report.html" >"$out/dom.html" 2>"$out/chromium-dom.err" ||
  fail "chromium --dump-dom failed (see $out/chromium-dom.err)"
chromium_run --screenshot="$out/report.png" --window-size=1280,2000 "file://$out/report.html" \
  >/dev/null 2>"$out/chromium-screenshot.err" ||
  fail "chromium --screenshot failed (see $out/chromium-screenshot.err)"
[ -s "$out/report.png" ] || fail "chromium wrote no screenshot (see $out/chromium-screenshot.err)"
file "$out/report.png" 2>/dev/null || true

/usr/bin/python3 "$here/inspect_report.py" "$out"
echo "html_report_chromium: ok (report, DOM and screenshot in $out)"
