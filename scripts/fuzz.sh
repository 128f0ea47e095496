#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang++-14 (ASan + UBSan) into build-fuzz/,
# replays every committed seed (each file under tests/fuzz/corpus/ is a regression test), then
# fuzzes each target for N seconds (default 60), as many at once as there are cores:
#   bash scripts/fuzz.sh [seconds-per-target] [target...]
# Runs start from a copy of the seeds, so the repository does not grow. Exits non-zero on any
# finding; the input is kept in build-fuzz/findings/<target>/ and the way to replay it printed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(url duration flags upgrade_response frames lean_frames tcp_framing http_response socketio_packet deflate)
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${FUZZ_JOBS:-$(nproc)}

# Longest input per target: room for every seed and for the case it exists to reach (frames,
# lean_frames: several frames and a 16-bit length; upgrade: a response longer than Beast's
# 1536-byte read buffer). Longer inputs only slow the search down.
declare -A max_len=([url]=256 [duration]=64 [flags]=1024 [upgrade_response]=4096 [frames]=4096
                    [lean_frames]=4096 [tcp_framing]=4096 [http_response]=4096 [socketio_packet]=1024)

cmake -S tests/fuzz -B "$build_dir" -DCMAKE_CXX_COMPILER="${FUZZ_CXX:-clang++-14}" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

# Stacks with file:line: the runtime looks for "llvm-symbolizer", which llvm-14 names with its version.
if ! command -v llvm-symbolizer >/dev/null && [ -x /usr/bin/llvm-symbolizer-14 ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14
fi
export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

# libFuzzer flags shared by the replay and the runs: time and memory bounds per input.
common_flags=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512)

fail=0
report() {  # target, log, what happened
  local t=$1 log=$2 what=$3 bin=$PWD/$build_dir/fuzz_$1
  echo "fuzz.sh: $t: $what; last lines of $log:" >&2
  tail -n 60 "$log" >&2
  local crash
  for crash in "$build_dir/findings/$t"/*; do
    [ -e "$crash" ] || continue
    echo "fuzz.sh: $t: input saved as $crash" >&2
    echo "  replay:   $bin $PWD/$crash" >&2
    echo "  keep it:  cp $crash tests/fuzz/corpus/$t/<what-it-is>   (then fix the cause)" >&2
  done
  fail=1
}

# Replay: every committed seed once, whatever the time budget. A target whose seeds fail is
# not fuzzed (its runs would stop at once on the same input); the others still are.
fuzzable=()
for t in "${targets[@]}"; do
  mkdir -p "$build_dir/logs"
  rm -rf "$build_dir/findings/$t" && mkdir -p "$build_dir/findings/$t"
  log=$build_dir/logs/$t.replay.log
  if "$build_dir/fuzz_$t" "${common_flags[@]}" -artifact_prefix="$build_dir/findings/$t/" \
       tests/fuzz/corpus/"$t"/* >"$log" 2>&1; then
    fuzzable+=("$t")
  else
    report "$t" "$log" "a committed seed fails (not fuzzed)"
    for seed in tests/fuzz/corpus/"$t"/*; do  # name every failing seed, not just the first
      "$build_dir/fuzz_$t" "$seed" >/dev/null 2>&1 || echo "fuzz.sh: $t: fails: $build_dir/fuzz_$t $seed" >&2
    done
  fi
done
((seconds > 0 && ${#fuzzable[@]} > 0)) || exit "$fail"

run() {  # target: fuzz it from a fresh copy of its seeds; its status goes to run/<target>.status
  local t=$1 work=$build_dir/run/$1 rc=0
  rm -rf "$work" && mkdir -p "$work/corpus"
  cp tests/fuzz/corpus/"$t"/* "$work/corpus/"
  local dict=()
  [ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
  "$build_dir/fuzz_$t" "${common_flags[@]}" "${dict[@]}" -max_total_time="$seconds" -max_len="${max_len[$t]:-4096}" \
    -print_final_stats=1 -artifact_prefix="$build_dir/findings/$t/" "$work/corpus" \
    >"$build_dir/logs/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$build_dir/run/$t.status"
}

for t in "${fuzzable[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  run "$t" &
done
wait
for t in "${fuzzable[@]}"; do
  log=$build_dir/logs/$t.log
  if [ "$(cat "$build_dir/run/$t.status")" = 0 ]; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    echo "fuzz.sh: $t: no finding in ${seconds}s (${execs:-?} inputs, ${cov:-cov: ?})"
  else
    report "$t" "$log" "FINDING"
  fi
done
exit "$fail"
