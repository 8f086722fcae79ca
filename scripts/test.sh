#!/usr/bin/env bash
# The README's second command: everything CI checks, in order. Every step runs even if an
# earlier one failed (a step whose build failed is counted as failed, not skipped), and
# the last line is "N passed, N failed". Exit status is non-zero if any step failed.
# Environment: FUZZ_SECONDS per fuzz target (default 10), JOBS (default 2; also how many
# fuzz targets run at once), BUILD_DIR_PREFIX (default <repo>/build: trees build,
# build-asan, build-fuzz), OVERLAP (default 1; 0 builds the sanitizer and fuzz trees in
# their own steps instead of in the background, see below).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export BUILD_DIR_PREFIX=${BUILD_DIR_PREFIX:-$root/build}
build=$BUILD_DIR_PREFIX
fuzz_seconds=${FUZZ_SECONDS:-10}
jobs=${JOBS:-2}
overlap=${OVERLAP:-1}
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/weir-test.XXXXXX")
bg_pid=""
# A background build (see start_background_builds) is its own process group: stop it too.
trap '[[ -z "$bg_pid" ]] || kill -- -"$bg_pid" 2>/dev/null || true; rm -rf "$log_dir"' EXIT

passed=0
failed=0
failed_steps=()
start_all=$(date +%s)

# step NAME COMMAND...: runs the command, prints its verdict and duration.
step() {
  local name=$1; shift
  local t0 rc
  t0=$(date +%s)
  echo "=== $name"
  set +e
  "$@"
  rc=$?
  set -e
  local dt=$(( $(date +%s) - t0 ))
  if ((rc == 0)); then
    passed=$((passed + 1))
    echo "=== $name: PASS (${dt}s)"
  else
    failed=$((failed + 1))
    failed_steps+=("$name")
    echo "=== $name: FAIL (exit $rc, ${dt}s)"
  fi
  return 0
}

last_ok() { [[ ${#failed_steps[@]} -eq 0 || "${failed_steps[-1]}" != "$1" ]]; }

skip_failed() {  # a step that cannot run because what it needs failed
  echo "=== $1: FAIL (not run: $2 failed)"
  failed=$((failed + 1))
  failed_steps+=("$1")
}

# fuzz_one EXE: one fuzz target for $fuzz_seconds; its report goes to $log_dir/NAME.report.
fuzz_one() {
  local exe=$1 name corpus scratch report
  name=$(basename "$exe")
  report=$log_dir/$name.report
  corpus=tests/fuzz/corpus/$name
  # The one-parser RTCP targets start from the compound target's seeds.
  [[ -d "$corpus" || "$name" != fuzz_rtcp_* ]] || corpus=tests/fuzz/corpus/fuzz_rtcp
  scratch=$(mktemp -d "$log_dir/$name.XXXXXX")
  # New inputs go to the scratch dir (first corpus argument); the checked-in corpus
  # is only read. Crash artifacts land in the scratch dir too.
  local corpora=("$scratch")
  [[ -d "$corpus" ]] && corpora+=("$corpus")
  echo "--- $name for ${fuzz_seconds}s" >"$report"
  if ! "$exe" -max_total_time="$fuzz_seconds" -print_final_stats=1 \
       -artifact_prefix="$scratch/" "${corpora[@]}" >"$log_dir/$name.log" 2>&1; then
    {
      echo "--- $name FAILED; last lines of its log:"
      tail -n 40 "$log_dir/$name.log"
      for a in "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-*; do
        [[ -f "$a" ]] && echo "--- artifact $a: $(od -An -tx1 -v "$a" | tr -d '\n' | head -c 400)"
      done
    } >>"$report"
    return 1
  fi
  grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$log_dir/$name.log" | tail -n 1 >>"$report" || true
}

# Every target gets its full time on its own core: $jobs of them run at once (each is
# one single-threaded process), and the reports are printed in order.
run_fuzzers() {
  local dir=$build-fuzz/tests/fuzz
  local exe rc=0 i
  local exes=() pids=()
  for exe in "$dir"/fuzz_*; do
    [[ -x "$exe" && -f "$exe" ]] && exes+=("$exe")
  done
  if ((${#exes[@]} == 0)); then
    echo "no fuzz targets in $dir" >&2
    return 1
  fi
  for exe in "${exes[@]}"; do
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
    fuzz_one "$exe" &
    pids+=($!)
  done
  for i in "${!exes[@]}"; do
    wait "${pids[$i]}" || rc=1
    cat "$log_dir/$(basename "${exes[$i]}").report"
  done
  return $rc
}

# The sanitizer and fuzz trees need both cores for ~10 minutes, while the plain tree's
# tests and browser tests leave one mostly idle (they wait on sockets, timers and real-time
# media). With OVERLAP=1 those two builds start right after the plain build, in the
# background at SCHED_IDLE priority (plus nice 19 and idle I/O): the kernel runs them only
# on a core that nothing else wants, so the timed tests keep their CPU. Their steps below
# then just wait for them and show their logs.
idle_prio() {
  if chrt --idle 0 true 2>/dev/null; then
    chrt --idle 0 nice -n 19 ionice -c 3 "$@"
  else
    nice -n 19 "$@"
  fi
}
start_background_builds() {
  set -m  # its own process group, so that the EXIT trap can stop all of it
  (
    for tree in asan fuzz; do
      t0=$(date +%s)
      if [[ $tree == asan ]]; then args=(--werror --sanitize); else args=(--fuzz); fi
      set +e
      idle_prio bash scripts/build.sh "${args[@]}" >"$log_dir/build-$tree.log" 2>&1
      echo $? >"$log_dir/build-$tree.rc"
      echo $(( $(date +%s) - t0 )) >"$log_dir/build-$tree.time"
      set -e
    done
  ) &
  bg_pid=$!
  set +m
  echo "test.sh: building the asan+ubsan and fuzz trees in the background (pid $bg_pid, idle priority)"
}
# wait_background_build TREE: waits until that tree's background build is done, shows its log.
wait_background_build() {
  local tree=$1
  while [[ ! -f "$log_dir/build-$tree.time" ]]; do
    if ! kill -0 "$bg_pid" 2>/dev/null && [[ ! -f "$log_dir/build-$tree.time" ]]; then
      echo "test.sh: the background build stopped before the $tree tree was built" >&2
      cat "$log_dir/build-$tree.log" 2>/dev/null || true
      return 1
    fi
    sleep 1
  done
  cat "$log_dir/build-$tree.log"
  echo "test.sh: the $tree tree took $(cat "$log_dir/build-$tree.time")s in the background"
  return "$(cat "$log_dir/build-$tree.rc")"
}
build_tree() {  # build_tree TREE: in the foreground, or waiting for the background build
  if ((overlap)); then
    wait_background_build "$1"
  elif [[ $1 == asan ]]; then
    bash scripts/build.sh --werror --sanitize
  else
    bash scripts/build.sh --fuzz
  fi
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

step "install deps" bash scripts/install-deps.sh
step "layering" bash scripts/check-layering.sh

step "build (werror)" bash scripts/build.sh --werror
((overlap)) && start_background_builds
build_ok=0
last_ok "build (werror)" && build_ok=1
if ((build_ok)); then
  step "tests (unit + integration)" meson test -C "$build" --print-errorlogs --suite unit --suite integration
else
  skip_failed "tests (unit + integration)" "build (werror)"
fi
# The browser tests: the demo web app is built by the step itself (npm ci + esbuild).
if ((build_ok)); then
  step "e2e (chromium)" bash scripts/test-e2e.sh "$build/src/app/weir"
else
  skip_failed "e2e (chromium)" "build (werror)"
fi

step "build (asan+ubsan)" build_tree asan
if last_ok "build (asan+ubsan)"; then
  step "tests under asan+ubsan" meson test -C "$build-asan" --print-errorlogs --suite unit --suite integration \
    --timeout-multiplier 3
else
  skip_failed "tests under asan+ubsan" "build (asan+ubsan)"
fi

step "build (fuzz)" build_tree fuzz
if last_ok "build (fuzz)"; then
  step "fuzz (${fuzz_seconds}s per target)" run_fuzzers
else
  skip_failed "fuzz" "build (fuzz)"
fi

echo
echo "test.sh: $(( $(date +%s) - start_all ))s total"
if ((failed > 0)); then
  echo "test.sh: failed steps: ${failed_steps[*]}"
fi
echo "$passed passed, $failed failed"
((failed == 0))
