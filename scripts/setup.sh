#!/usr/bin/env bash
# Installs the Debian 12 packages wsload needs (only those missing), then configures and
# builds. Run by demo.sh (WSLOAD_SETUP=demo: what building needs) and test.sh (the default:
# what the tests need too); `BUILD_DIR` and `BUILD_TYPE` may be set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# What building needs, and so the demo (scripts/demo.sh sets WSLOAD_SETUP=demo). Boost.Test is
# here because configuring the project (tests/ included) looks for it.
packages=(build-essential cmake pkg-config openssl libssl-dev
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev libboost-test1.81-dev
  libboost-url1.81-dev)
# What only the tests need (scripts/test.sh, the default): the browser for the HTML report,
# Prometheus, the third-party peers and servers, valgrind, clang for the fuzzers, and the Python
# packages Conan 2 (../shared/tools/conan, ctest package_conan) imports.
test_packages=(chromium prometheus python3-websockets node-ws libwebsockets-test-server socat valgrind
  clang-14 libclang-rt-14-dev llvm-14 nginx-light wrk curl
  python3-requests python3-urllib3 python3-colorama python3-yaml python3-patch-ng
  python3-fasteners python3-distro python3-jinja2 python3-dateutil)
case "${WSLOAD_SETUP:-test}" in
  demo) ;;
  test) packages+=("${test_packages[@]}") ;;
  *) echo "setup.sh: WSLOAD_SETUP is \"${WSLOAD_SETUP}\": use demo or test" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "wsload: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The Socket.IO example's server runs on npm's socket.io (examples/socketio/package.json, pinned
# by its lock file), for the tests. Node.js comes from Debian only where there is none.
if [ "${WSLOAD_SETUP:-test}" = test ]; then
  if ! command -v npm >/dev/null; then
    echo "wsload: installing nodejs npm" >&2
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq nodejs npm >/dev/null
  fi
  if [ ! -d examples/socketio/node_modules/socket.io ]; then
    echo "wsload: installing socket.io from the npm registry (examples/socketio)" >&2
    (cd examples/socketio && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi

BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-Release}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" "$@"
