#!/usr/bin/env bash
# Browser end-to-end tests: builds the demo web app, then runs tests/e2e/*.test.mjs (node's
# test runner, one file at a time) against the given weir binary, with headless Debian
# chromium driven by playwright-core. Exit status is non-zero if any test failed.
# Usage: scripts/test-e2e.sh <path to weir> [test file...]
# Environment: E2E_ARTIFACT_DIR (screenshots; default <build tree>/e2e-artifacts),
# CHROMIUM (default /usr/bin/chromium), E2E_TIMEOUT_S for the whole run (default 420).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if (($# < 1)); then
  echo "usage: $0 <path to weir> [test file...]" >&2
  exit 2
fi
weir=$(realpath "$1")
shift
if [[ ! -x "$weir" ]]; then
  echo "test-e2e: $weir is not an executable" >&2
  exit 1
fi
chromium=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x "$chromium" ]]; then
  echo "test-e2e: $chromium not found (scripts/install-deps.sh installs Debian's chromium)" >&2
  exit 1
fi

bash "$root/scripts/build-web.sh"

e2e=$root/tests/e2e
stamp=$e2e/node_modules/.weir-lock.sha256
sum=$(sha256sum "$e2e/package-lock.json" | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$sum" ]]; then
  echo "test-e2e: npm ci in tests/e2e"
  (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$sum" >"$stamp"
fi

# weir lives at <build>/src/app/weir: keep the screenshots in that build tree.
export E2E_ARTIFACT_DIR=${E2E_ARTIFACT_DIR:-$(dirname "$(dirname "$(dirname "$weir")")")/e2e-artifacts}
export WEIR_BIN=$weir
export CHROMIUM=$chromium
mkdir -p "$E2E_ARTIFACT_DIR"

if (($# > 0)); then
  files=("$@")
else
  files=("$e2e"/*.test.mjs)
fi
echo "test-e2e: weir $weir, chromium $("$chromium" --version 2>/dev/null | head -n 1), artifacts in $E2E_ARTIFACT_DIR"
# --test-concurrency=1: two cores; each file has its own weir and browser.
exec timeout --signal=TERM --kill-after=20 "${E2E_TIMEOUT_S:-420}" \
  node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
