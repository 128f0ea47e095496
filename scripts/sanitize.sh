#!/usr/bin/env bash
# Builds the unit and integration suites (and the im_bench and im_server they start) with
# sanitizers and runs them:
#   bash scripts/sanitize.sh address   # ASan + UBSan, in build-asan/
#   bash scripts/sanitize.sh thread    # TSan, in build-tsan/
# Any sanitizer report fails the run: the first error stops the process that hit it, and every
# report, from the test runners or from the servers and scenarios they start (which inherit the
# options below), is also written to <build dir>/sanitizer-logs/, which must stay empty.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

kind=${1:-}
case "$kind" in
  address) build_dir=${ASAN_BUILD_DIR:-build-asan} ;;
  thread) build_dir=${TSAN_BUILD_DIR:-build-tsan} ;;
  *) echo "usage: scripts/sanitize.sh address|thread" >&2; exit 2 ;;
esac
shift

# Debug: Boost and wsload assertions stay on; WSLOAD_SANITIZE adds -O1 -g to our own targets.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DWSLOAD_SANITIZE="$kind" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target wsload_unit wsload_integration im_bench im_server

logs=$PWD/$build_dir/sanitizer-logs
rm -rf "$logs"
mkdir -p "$logs"
common="halt_on_error=1:log_path=$logs/report"
export ASAN_OPTIONS="$common:detect_leaks=1:print_stacktrace=1"
export UBSAN_OPTIONS="$common:print_stacktrace=1"
export TSAN_OPTIONS="$common:second_deadlock_stack=1${WSLOAD_TSAN_SUPPRESSIONS:+:suppressions=$WSLOAD_TSAN_SUPPRESSIONS}"

status=0
ctest --test-dir "$build_dir" --output-on-failure -R '^(unit|integration)$' "$@" || status=$?

reports=("$logs"/report*)
if [ -e "${reports[0]}" ]; then
  for r in "${reports[@]}"; do
    echo "=== sanitizer report $r" >&2
    cat "$r" >&2
  done
  echo "sanitize.sh $kind: ${#reports[@]} sanitizer report(s), see above" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "sanitize.sh $kind: tests failed (status $status)" >&2
fi
exit "$status"
