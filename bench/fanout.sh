#!/usr/bin/env bash
# The fanout scenario (docs/benchmarks.md): starts weir, runs pktgen once per consumer
# count, prints pktgen's JSON result lines on stdout, stops weir.
#   bench/fanout.sh [N ...]            default: 100 500 1000
# It builds nothing: build first (bash scripts/build.sh src/app/weir tools/pktgen/pktgen).
# Environment:
#   BUILD_DIR    build tree holding src/app/weir and tools/pktgen/pktgen (default <repo>/build)
#   DURATION     measured seconds per run (default 10)      WARMUP  seconds (default 2)
#   SUITE        SRTP suite for pktgen --suite (default AES_CM_128_HMAC_SHA1_80)
#   HTTP_PORT    weir's API port (default 14443)
#   RTC_MIN_PORT / RTC_MAX_PORT   weir's media port range (default 20000-29999)
#   PKTGEN_ARGS  more pktgen options, e.g. "--rate 200"
#   VERBOSE=1    pktgen's per-second progress on stderr
#   WEIR_LOG     where weir's own log goes (default a temporary file, shown on failure)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
weir="$build/src/app/weir"
pktgen="$build/tools/pktgen/pktgen"
duration=${DURATION:-10}
warmup=${WARMUP:-2}
suite=${SUITE:-AES_CM_128_HMAC_SHA1_80}
http_port=${HTTP_PORT:-14443}
rtc_min=${RTC_MIN_PORT:-20000}
rtc_max=${RTC_MAX_PORT:-29999}
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100 500 1000)

for exe in "$weir" "$pktgen"; do
  if [ ! -x "$exe" ]; then
    echo "fanout.sh: $exe not found; build it first (BUILD_DIR=$build)" >&2
    exit 2
  fi
done
for n in "${counts[@]}"; do
  if ! [[ "$n" =~ ^[1-9][0-9]*$ ]] || [ "$n" -gt $((rtc_max - rtc_min)) ]; then
    echo "fanout.sh: consumer count \"$n\" is not a number of 1..$((rtc_max - rtc_min))" >&2
    exit 2
  fi
done
git_rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
weir_log=${WEIR_LOG:-$(mktemp "${TMPDIR:-/tmp}/weir-fanout-XXXXXX.log")}

# pktgen opens one socket per consumer and weir one per transport.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

weir_pid=""
stop_weir() {
  if [ -n "$weir_pid" ] && kill -0 "$weir_pid" 2>/dev/null; then
    kill -TERM "$weir_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$weir_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$weir_pid" 2>/dev/null || true
    wait "$weir_pid" 2>/dev/null || true
  fi
  weir_pid=""
}
trap stop_weir EXIT
trap 'exit 130' INT TERM

"$weir" --log-level warn --http-port "$http_port" \
  --rtc-min-port "$rtc_min" --rtc-max-port "$rtc_max" >"$weir_log" 2>&1 &
weir_pid=$!

# weir serves HTTPS only, with a self-signed certificate by default: curl -k.
api="https://127.0.0.1:$http_port"
for _ in $(seq 300); do
  if ! kill -0 "$weir_pid" 2>/dev/null; then
    echo "fanout.sh: weir exited during startup; its log ($weir_log):" >&2
    tail -n 30 "$weir_log" >&2
    exit 1
  fi
  curl -kfsS -o /dev/null --max-time 2 "$api/stats" 2>/dev/null && break
  sleep 0.1
done
if ! curl -kfsS -o /dev/null --max-time 2 "$api/stats"; then
  echo "fanout.sh: weir's API at $api did not answer within 30 s" >&2
  exit 1
fi

quiet=(--quiet)
[ "${VERBOSE:-0}" = 1 ] && quiet=()
status=0
for n in "${counts[@]}"; do
  # shellcheck disable=SC2086  # PKTGEN_ARGS is a list of options
  if ! "$pktgen" --api "$api" --consumers "$n" --duration "$duration" --warmup "$warmup" \
      --suite "$suite" --server-pid "$weir_pid" --git "$git_rev" "${quiet[@]}" ${PKTGEN_ARGS:-}; then
    echo "fanout.sh: pktgen failed for N=$n" >&2
    status=1
  fi
  if ! kill -0 "$weir_pid" 2>/dev/null; then
    echo "fanout.sh: weir died during N=$n; its log ($weir_log):" >&2
    tail -n 30 "$weir_log" >&2
    exit 1
  fi
done
exit $status
