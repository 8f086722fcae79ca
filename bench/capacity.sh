#!/usr/bin/env bash
# The capacity scenario (docs/benchmarks.md): fanout runs with N doubling from a start value,
# then bisection between the last good and the first bad N, until a run loses more than
# 0.1 % or its p99 latency passes 20 ms. Prints every run's line and a final
# {"scenario":"capacity",...,"consumers":<largest good N>} line. A wrapper of
# bench/scenario.py capacity (parameters in bench/scenarios/capacity.json).
#   bench/capacity.sh [--start N --max-consumers N --max-runs K --plot FILE.svg ...]
# Environment: as bench/fanout.sh (BUILD_DIR, DURATION, WARMUP, SUITE, HTTP_PORT, ...).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/scenario_env.sh"
exec python3 "$here/scenario.py" capacity "${env_args[@]}" "$@"
