#!/usr/bin/env bash
# Builds everything and runs every test (unit, integration against real servers on
# loopback, and the find_package consumer project); then the unit and integration suites
# again under ASan + UBSan (build-asan/) and under TSan (build-tsan/), and a bounded fuzz run
# of every parser (build-fuzz/). Prints each phase's wall time; exits non-zero if any failed.
#   WSLOAD_TEST_PHASES  which of: ctest asan tsan fuzz (default: all four)
#   FUZZ_SECONDS        fuzzing time per target (default 60, as issue 9 asks; 2 targets at once)
# Arguments go to the first ctest run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

phases=" ${WSLOAD_TEST_PHASES:-ctest asan tsan fuzz} "
BUILD_DIR=${BUILD_DIR:-build}
summary=()
failed=0

# phase <name> <command...>: runs it, records its wall time and result, goes on either way.
phase() {
  local name=$1 start=$SECONDS status=0
  shift
  echo "==== test.sh: $name" >&2
  "$@" || status=$?
  local result=ok
  ((status == 0)) || { result="FAILED (status $status)"; failed=1; }
  summary+=("$(printf '%-24s %5ss  %s' "$name" "$((SECONDS - start))" "$result")")
}

wants() { [[ $phases == *" $1 "* ]]; }

phase "build" bash scripts/setup.sh
if ((failed == 0)); then
  if wants ctest; then phase "tests" ctest --test-dir "$BUILD_DIR" --output-on-failure "$@"; fi
  if wants asan; then phase "asan+ubsan build+tests" bash scripts/sanitize.sh address; fi
  if wants tsan; then phase "tsan build+tests" bash scripts/sanitize.sh thread; fi
  if wants fuzz; then phase "fuzz build+run" bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}"; fi
fi

echo "==== test.sh: wall time per phase" >&2
printf '  %s\n' "${summary[@]}" >&2
echo "  total                    ${SECONDS}s" >&2
exit "$failed"
