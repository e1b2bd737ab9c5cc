#!/usr/bin/env bash
# Runs every libFuzzer target of fuzz/ for FUZZ_SECONDS each, FUZZ_JOBS at a time, and fails if
# any of them finds a crash. Targets work on a copy of their seed corpus (plus the checked-in
# regressions) under the build directory: new corpus entries never land in the repository.
# Crash inputs are left in BUILD/artifacts/TARGET/; to keep one, copy it to
# fuzz/regressions/TARGET/ so that the replay tests run it in every build.
# Usage: scripts/run-fuzz.sh BUILD_DIR   (after `cmake --build --preset fuzz`)
set -euo pipefail

build=${1:?usage: run-fuzz.sh BUILD_DIR}
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
targets=(fuzz_request_parser fuzz_response_parser fuzz_chunked fuzz_config fuzz_agent_answer)
here=$(cd "$(dirname "$0")/.." && pwd)

run_one() {
  local target=$1 corpus=$build/corpus/$1 artifacts=$build/artifacts/$1/ log=$build/logs/$1.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  local seeds
  for seeds in "$here/fuzz/corpus/$target" "$here/fuzz/regressions/$target"; do
    if [ -d "$seeds" ]; then find "$seeds" -maxdepth 1 -type f -exec cp -n {} "$corpus/" \;; fi
  done
  local dict=()
  case $target in
    fuzz_request_parser | fuzz_response_parser | fuzz_chunked) dict=(-dict="$here/fuzz/dict/http.dict") ;;
    fuzz_config) dict=(-dict="$here/fuzz/dict/config.dict") ;;
  esac
  local status=0
  # -timeout: one input may not take longer than 10 s (a hang is a bug too).
  "$build/bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts" "${dict[@]}" "$corpus" >"$log" 2>&1 ||
    status=$?
  echo "$status" >"$build/logs/$target.status"
}
export -f run_one
export build seconds here

rm -rf "$build/logs"
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'

failed=0
printf '%-22s %12s %10s %8s %8s %8s %s\n' target executions exec/s cov ft corpus result
for target in "${targets[@]}"; do
  log=$build/logs/$target.log
  status=$(cat "$build/logs/$target.status")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  result=ok
  if [ "$status" != 0 ]; then
    result="CRASH (exit $status): see $log and $build/artifacts/$target/"
    failed=1
  fi
  printf '%-22s %12s %10s %8s %8s %8s %s\n' "$target" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "${ft:-?}" "${corp:-?}" "$result"
done
exit $failed
