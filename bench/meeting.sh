#!/usr/bin/env bash
# The meeting scenario (docs/benchmarks.md): R rooms x K peers, every peer sending audio and
# video and consuming all the others of its room. Starts weir, runs pktgen once per shape,
# prints the JSON result lines on stdout, stops weir. A wrapper of bench/scenario.py meeting
# (parameters in bench/scenarios/meeting.json: 1x5 and 10x4 peers).
#   bench/meeting.sh [--rooms R --peers K] [scenario.py options, e.g. --duration 2]
# Environment: as bench/fanout.sh (BUILD_DIR, DURATION, WARMUP, SUITE, HTTP_PORT, ...).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/scenario_env.sh"
exec python3 "$here/scenario.py" meeting "${env_args[@]}" "$@"
