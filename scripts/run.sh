#!/usr/bin/env bash
# The README's first command: install what is missing, build, start weir with its defaults.
# Arguments are passed to weir, e.g. `bash scripts/run.sh --http-port 8443 --log-level debug`.
# BUILD_DIR_PREFIX (default <repo>/build) picks the build tree, as in build.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD_DIR_PREFIX=${BUILD_DIR_PREFIX:-$root/build}
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh" src/app/weir
bash "$root/scripts/build-web.sh"  # the demo page weir serves at https://localhost:4443/
exec "$BUILD_DIR_PREFIX/src/app/weir" "$@"
