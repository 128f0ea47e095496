#!/usr/bin/env bash
# Builds everything and runs every test (unit, integration against real servers on
# loopback, and the find_package consumer project).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure "$@"
