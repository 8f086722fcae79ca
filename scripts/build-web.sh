#!/usr/bin/env bash
# Builds the demo web app: `npm ci` in web/ (only when package-lock.json changed since the
# last install), then the esbuild bundle into web/dist/ (index.html, app.js, style.css).
# A second run with nothing changed takes about a second and rewrites nothing.
# Usage: scripts/build-web.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# npm_ci DIR: installs DIR's locked packages unless node_modules matches the lock file.
npm_ci() {
  local dir=$1 stamp sum
  stamp=$dir/node_modules/.weir-lock.sha256
  sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$sum" ]]; then
    return 0
  fi
  echo "build-web: npm ci in ${dir#"$root"/}"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$sum" >"$stamp"
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "build-web: node and npm are needed (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
npm_ci "$root/web"
node "$root/web/build.mjs"
