#!/usr/bin/env bash
# The fanout scenario (docs/benchmarks.md): starts weir, runs pktgen once per consumer
# count, prints pktgen's JSON result lines on stdout, stops weir. A wrapper of
# bench/scenario.py fanout (parameters in bench/scenarios/fanout.json).
#   bench/fanout.sh [N ...] [scenario.py options]   default N: 100 500 1000
# It builds nothing: build first (bash scripts/build.sh src/app/weir tools/pktgen/pktgen).
# Environment (kept from the first fanout.sh; options given after it win):
#   BUILD_DIR    build tree holding src/app/weir and tools/pktgen/pktgen (default <repo>/build)
#   DURATION     measured seconds per run (default 10)      WARMUP  seconds (default 2)
#   SUITE        SRTP suite for pktgen --suite (default AES_CM_128_HMAC_SHA1_80)
#   HTTP_PORT    weir's API port (default: a free one)
#   RTC_MIN_PORT / RTC_MAX_PORT   weir's media port range (default 20000 up to what N needs)
#   PKTGEN_ARGS  more pktgen options, e.g. "--rate 200"
#   VERBOSE=1    pktgen's per-second progress on stderr
#   WEIR_LOG     where weir's own log goes (default a temporary file, shown on failure)
#   MODE         uring (default): kernel UDP sockets on loopback for both.
#                dpdk: weir --dataplane dpdk and pktgen --mode dpdk, two processes joined by
#                DPDK's net_memif (weir the server, pktgen the client), EAL without
#                hugepages or PCI; media weir 10.77.0.1, pktgen 10.77.0.2 (/24); the HTTPS
#                API stays on loopback. See bench/scenario.py --help, docs/performance.md.
#   WORKERS      weir's --workers (default weir's, 1); MODE=dpdk: pktgen's --dpdk-queues
#                too (a memif client has no more queues than its server)
#   MEMIF_SOCKET (default /tmp/weir-bench-PID.sock)  MEMIF_RSIZE  log2 ring slots (default 14)
#   WEIR_EAL_MB / PKTGEN_EAL_MB  EAL memory in MB (default 1024 each)
#   WEIR_MBUFS / PKTGEN_MBUFS    mbufs per queue (default 32767 / 65535)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/scenario_env.sh"
exec python3 "$here/scenario.py" fanout "${env_args[@]}" "$@"
