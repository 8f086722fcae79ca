#!/usr/bin/env bash
# The dataplane scenario (docs/benchmarks.md): one DPDK worker on an in-process net_ring
# port, 1 SRTP producer -> N consumers, no kernel on the media path. Builds
# bench/weir_dataplane_bench if needed, runs it once per consumer count and prints its
# JSON result lines on stdout (a summary per run on stderr).
#   bench/dataplane.sh [N ...]         default: 100 1000
# Environment:
#   BUILD_DIR  build tree (default <repo>/build; configured with scripts/build.sh if missing)
#   DURATION   measured seconds per run (default 10)      WARMUP  seconds (default 2)
#   SUITE      AES_CM_128_HMAC_SHA1_80 (default) or AEAD_AES_128_GCM
#   REPEAT     runs per N (default 1); the lines of every run are printed
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
duration=${DURATION:-10}
warmup=${WARMUP:-2}
suite=${SUITE:-AES_CM_128_HMAC_SHA1_80}
repeat=${REPEAT:-1}
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100 1000)
for n in "${counts[@]}"; do
  if ! [[ "$n" =~ ^[1-9][0-9]*$ ]] || [ "$n" -gt 9999 ]; then
    echo "dataplane.sh: consumer count \"$n\" is not a number of 1..9999" >&2
    exit 2
  fi
done

# ninja only rebuilds what changed; an unconfigured tree is set up the project's way.
if [ ! -f "$build/build.ninja" ]; then
  BUILD_DIR_PREFIX="$build" bash "$root/scripts/build.sh" bench/weir_dataplane_bench >&2
else
  ninja -C "$build" -j "${JOBS:-2}" bench/weir_dataplane_bench >&2
fi
bench="$build/bench/weir_dataplane_bench"
git_rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)

status=0
for n in "${counts[@]}"; do
  for _ in $(seq "$repeat"); do
    # EAL and the worker log their start at INFO on stderr: keep only the summary.
    if ! "$bench" --consumers "$n" --duration "$duration" --warmup "$warmup" --suite "$suite" \
        --git "$git_rev" 2> >(grep -v ' INFO ' >&2); then
      echo "dataplane.sh: the run with N=$n failed" >&2
      status=1
    fi
  done
done
exit $status
