#!/usr/bin/env bash
# The README's second command: everything CI checks, in order. Every step runs even if an
# earlier one failed (a step whose build failed is counted as failed, not skipped), and
# the last line is "N passed, N failed". Exit status is non-zero if any step failed.
# Environment: FUZZ_SECONDS per fuzz target (default 10), JOBS (default 2),
# BUILD_DIR_PREFIX (default <repo>/build: trees build, build-asan, build-fuzz).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export BUILD_DIR_PREFIX=${BUILD_DIR_PREFIX:-$root/build}
build=$BUILD_DIR_PREFIX
fuzz_seconds=${FUZZ_SECONDS:-10}
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/weir-test.XXXXXX")
trap 'rm -rf "$log_dir"' EXIT

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

run_fuzzers() {
  local dir=$build-fuzz/tests/fuzz
  local found=0 rc=0
  for exe in "$dir"/fuzz_*; do
    [[ -x "$exe" && -f "$exe" ]] || continue
    found=1
    local name corpus scratch
    name=$(basename "$exe")
    corpus=tests/fuzz/corpus/$name
    # The one-parser RTCP targets start from the compound target's seeds.
    [[ -d "$corpus" || "$name" != fuzz_rtcp_* ]] || corpus=tests/fuzz/corpus/fuzz_rtcp
    scratch=$(mktemp -d "$log_dir/$name.XXXXXX")
    # New inputs go to the scratch dir (first corpus argument); the checked-in corpus
    # is only read. Crash artifacts land in the scratch dir too.
    local corpora=("$scratch")
    [[ -d "$corpus" ]] && corpora+=("$corpus")
    echo "--- $name for ${fuzz_seconds}s"
    if ! "$exe" -max_total_time="$fuzz_seconds" -print_final_stats=1 \
         -artifact_prefix="$scratch/" "${corpora[@]}" >"$log_dir/$name.log" 2>&1; then
      echo "--- $name FAILED; last lines of its log:"
      tail -n 40 "$log_dir/$name.log"
      for a in "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-*; do
        [[ -f "$a" ]] && echo "--- artifact $a: $(od -An -tx1 -v "$a" | tr -d '\n' | head -c 400)"
      done
      rc=1
    else
      grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$log_dir/$name.log" | tail -n 1 || true
    fi
  done
  if ((found == 0)); then
    echo "no fuzz targets in $dir" >&2
    return 1
  fi
  return $rc
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

step "install deps" bash scripts/install-deps.sh
step "layering" bash scripts/check-layering.sh

step "build (werror)" bash scripts/build.sh --werror
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

step "build (asan+ubsan)" bash scripts/build.sh --werror --sanitize
if last_ok "build (asan+ubsan)"; then
  step "tests under asan+ubsan" meson test -C "$build-asan" --print-errorlogs --suite unit --suite integration \
    --timeout-multiplier 3
else
  skip_failed "tests under asan+ubsan" "build (asan+ubsan)"
fi

step "build (fuzz)" bash scripts/build.sh --fuzz
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
