#!/usr/bin/env bash
# The architecture check must fail on a forbidden include: a copy of the headers where
# report/console.hpp includes the engine (report/ may include only core and stats).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/include" "$work/include"
sed -i '0,/^#include <wsload\//s//#include <wsload\/runtime\/engine.hpp>\n#include <wsload\//' "$work/include/wsload/report/console.hpp"
status=0
output=$(bash "$here/tests/architecture/check_includes.sh" "$work/include" "$here/docs/architecture.md" 2>&1) || status=$?
echo "$output"
if ((status != 1)); then
  echo "expected the check to fail with status 1, got $status" >&2
  exit 1
fi
grep -q 'report/console.hpp:[0-9]*: "report" includes <wsload/runtime/engine.hpp>' <<<"$output" ||
  { echo "the failure does not name report/console.hpp and the engine" >&2; exit 1; }
echo "the check caught the forbidden include"
