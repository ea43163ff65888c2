#!/usr/bin/env bash
# Fails when a file in server/ includes a header of a higher layer than its own, or
# when a module is in no layer (scripts/layers.txt). Run by `make test` (make layers).
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A layer name
while read -r num lname mods; do
  [[ -z "$num" || "$num" == \#* ]] && continue
  for m in $mods; do layer["$m"]=$num; name["$num"]=${lname%:}; done
done < scripts/layers.txt

layer_of() { # module -> layer number, or empty
  local m=$1 p
  if [[ -n "${layer[$m]:-}" ]]; then echo "${layer[$m]}"; return 0; fi
  for p in "${!layer[@]}"; do
    # shellcheck disable=SC2053
    if [[ "$p" == *[\*?]* && "$m" == $p ]]; then echo "${layer[$p]}"; return 0; fi
  done
  return 0
}

bad=0
for f in server/*.c server/*.h; do
  mod=$(basename "$f"); mod=${mod%.*}
  own=$(layer_of "$mod")
  if [[ -z "$own" ]]; then
    echo "layers: $f: module '$mod' is in no layer (add it to scripts/layers.txt)"; bad=1; continue
  fi
  while IFS=: read -r line inc; do
    dep=${inc#*\"}; dep=${dep%%.h\"*}
    dl=$(layer_of "$dep")
    if [[ -z "$dl" ]]; then
      echo "layers: $f:$line: includes \"$dep.h\", which is in no layer"; bad=1
    elif (( dl > own )); then
      echo "layers: $f:$line: ${name[$own]} ($own) includes \"$dep.h\" from ${name[$dl]} ($dl), a layer above"; bad=1
    fi
  done < <(grep -n '^#include "' "$f" || true)
done
if (( bad )); then echo "layers: FAILED"; exit 1; fi
echo "layers: every include stays in its layer or goes down"
