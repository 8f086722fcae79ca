# Sourced by the bench/*.sh wrappers: the environment variables of the first fanout.sh as
# bench/scenario.py options, in env_args.
env_args=()
[ -n "${BUILD_DIR:-}" ] && env_args+=(--build "$BUILD_DIR")
[ -n "${DURATION:-}" ] && env_args+=(--duration "$DURATION")
[ -n "${WARMUP:-}" ] && env_args+=(--warmup "$WARMUP")
[ -n "${SUITE:-}" ] && env_args+=(--suite "$SUITE")
[ -n "${HTTP_PORT:-}" ] && env_args+=(--http-port "$HTTP_PORT")
[ -n "${RTC_MIN_PORT:-}" ] && env_args+=(--rtc-min-port "$RTC_MIN_PORT")
[ -n "${RTC_MAX_PORT:-}" ] && env_args+=(--rtc-max-port "$RTC_MAX_PORT")
[ -n "${PKTGEN_ARGS:-}" ] && env_args+=("--pktgen-args=$PKTGEN_ARGS")  # = : the value starts with --
[ "${VERBOSE:-0}" = 1 ] && env_args+=(--verbose)
[ -n "${WEIR_LOG:-}" ] && env_args+=(--weir-log "$WEIR_LOG")
[ -n "${MODE:-}" ] && env_args+=(--mode "$MODE")
[ -n "${WORKERS:-}" ] && env_args+=(--workers "$WORKERS")
[ -n "${MEMIF_SOCKET:-}" ] && env_args+=(--memif-socket "$MEMIF_SOCKET")
[ -n "${MEMIF_RSIZE:-}" ] && env_args+=(--memif-rsize "$MEMIF_RSIZE")
[ -n "${WEIR_EAL_MB:-}" ] && env_args+=(--weir-eal-mb "$WEIR_EAL_MB")
[ -n "${PKTGEN_EAL_MB:-}" ] && env_args+=(--pktgen-eal-mb "$PKTGEN_EAL_MB")
[ -n "${WEIR_MBUFS:-}" ] && env_args+=(--weir-mbufs "$WEIR_MBUFS")
[ -n "${PKTGEN_MBUFS:-}" ] && env_args+=(--pktgen-mbufs "$PKTGEN_MBUFS")
true
