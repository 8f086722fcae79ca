#!/usr/bin/env bash
# Fails if a lower layer includes a header of a higher one. Layers, lowest first:
# base < wire < dataplane < control < signaling < app; tools/pktgen may include only
# base, wire and dataplane. The static libraries catch most of this at link time; this
# catches header-only uses the linker never sees.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

layers=(base wire dataplane control signaling app)
violations=0

# $1: folder to scan; rest: folders it must not include from.
check() {
  local dir=$1; shift
  [[ -d "$dir" ]] || return 0
  local pattern
  pattern=$(IFS='|'; echo "$*")
  local hits
  hits=$(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"($pattern)/" "$dir" \
           --include='*.h' --include='*.hh' --include='*.hpp' --include='*.cc' --include='*.cpp' \
           || true)
  if [[ -n "$hits" ]]; then
    echo "layering: $dir must not include from: $*" >&2
    echo "$hits" >&2
    violations=$((violations + 1))
  fi
}

for ((i = 0; i < ${#layers[@]} - 1; i++)); do
  check "src/${layers[i]}" "${layers[@]:i+1}"
done
check tools/pktgen control signaling app

if ((violations > 0)); then
  echo "layering: $violations violation(s)" >&2
  exit 1
fi
echo "layering: ok (${layers[*]}; tools/pktgen -> base, wire, dataplane)"
