#!/usr/bin/env bash
# Configures (once) and builds weir.
#   build.sh                 -> build/       (debugoptimized)
#   build.sh --werror        -> build/       with -Dwerror=true (what CI uses)
#   build.sh --sanitize      -> build-asan/  (address + undefined sanitizers)
#   build.sh --fuzz          -> build-fuzz/  (clang, -Dfuzz=true: parsers + libFuzzer targets)
# --sanitize and --fuzz select which trees to build (several may be given); without them
# the plain tree is built. --werror/--no-werror set -Dwerror on the selected trees;
# without either an existing tree keeps its setting (so run.sh after test.sh rebuilds
# nothing). Any other arguments are ninja targets, e.g. `build.sh src/app/weir`.
# Environment: JOBS (default 2), BUILD_DIR_PREFIX (default <repo>/build).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${JOBS:-2}
prefix=${BUILD_DIR_PREFIX:-$root/build}
werror=""
trees=()
targets=()
for arg in "$@"; do
  case "$arg" in
    --werror) werror=true ;;
    --no-werror) werror=false ;;
    --sanitize) trees+=(asan) ;;
    --fuzz) trees+=(fuzz) ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
    *) targets+=("$arg") ;;
  esac
done
((${#trees[@]} > 0)) || trees=(plain)

# Sets up or reconfigures $1 with the meson options that follow; remembers them so an
# unchanged call does nothing but ninja.
configure() {
  local dir=$1; shift
  local wanted="$*"
  local stamp="$dir/.weir-build-options"
  if [[ -f "$dir/meson-private/coredata.dat" ]]; then
    if [[ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]]; then
      echo "build.sh: reconfiguring $dir: $wanted"
      meson setup --reconfigure "$dir" "$root" "$@"
      echo "$wanted" >"$stamp"
    fi
  else
    echo "build.sh: setting up $dir: $wanted"
    meson setup "$dir" "$root" "$@"
    echo "$wanted" >"$stamp"
  fi
}

werror_option() {  # $1: build dir; prints the -Dwerror option to use
  local dir=$1
  if [[ -n "$werror" ]]; then
    echo "-Dwerror=$werror"
  elif [[ -f "$dir/.weir-build-options" ]] && grep -q -- '-Dwerror=true' "$dir/.weir-build-options"; then
    echo "-Dwerror=true"
  else
    echo "-Dwerror=false"
  fi
}

for tree in "${trees[@]}"; do
  case "$tree" in
    plain)
      dir=$prefix
      # Line tables only (-g1): backtraces keep file:line, the build is ~20% cheaper.
      # For gdb with locals: meson configure "$dir" -Ddebuginfo=full (kept until the
      # options here change).
      configure "$dir" --buildtype=debugoptimized -Ddebuginfo=lines "$(werror_option "$dir")"
      ;;
    asan)
      dir=$prefix-asan
      # GCC spends most of this tree's time optimizing and describing (var-tracking) the
      # sanitizer-inflated code: -O0 with line tables only (-g1: reports keep file:line)
      # compiles 2-3x faster than -O1 -g. Benchmarks mean nothing under sanitizers.
      configure "$dir" --buildtype=debug -Doptimization=0 -Ddebuginfo=lines "$(werror_option "$dir")" \
        -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false
      ;;
    fuzz)
      dir=$prefix-fuzz
      # The compiler is fixed when a tree is first set up; reconfiguring keeps it.
      CXX=clang++ configure "$dir" --buildtype=debugoptimized -Ddebuginfo=lines "$(werror_option "$dir")" \
        -Dfuzz=true
      ;;
  esac
  echo "build.sh: ninja -C $dir -j$jobs ${targets[*]}"
  ninja -C "$dir" -j"$jobs" "${targets[@]}"
done
