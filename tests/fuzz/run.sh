#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS: first over its regression inputs
# (tests/fuzz/regress/<target>/, each must pass), then fuzzing from its seeds
# (tests/fuzz/corpus/<target>/) into build/fuzz/corpus-<target>/. Exits non-zero at
# the first crash, leak, timeout (an input slower than TIMEOUT s) or out-of-memory;
# the input that did it is left in build/fuzz/artifacts/.
#   usage: run.sh SECONDS TIMEOUT build/fuzz/fuzz_x ...
set -euo pipefail
secs=$1; timeout=$2; shift 2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p build/fuzz/artifacts
for bin in "$@"; do
  name=$(basename "$bin")
  corpus=build/fuzz/corpus-$name
  mkdir -p "$corpus"
  if compgen -G "$here/regress/$name/*" >/dev/null; then
    echo "== $name: regression inputs"
    if ! "$bin" -runs=0 -timeout="$timeout" "$here"/regress/"$name"/* >build/fuzz/$name-regress.log 2>&1; then
      tail -n 60 build/fuzz/$name-regress.log
      echo "FAIL: $name on a regression input (log: build/fuzz/$name-regress.log)"
      exit 1
    fi
  fi
  seeds=()
  [ -d "$here/corpus/$name" ] && seeds=("$here/corpus/$name")
  echo "== $name: fuzzing for $secs s"
  log=build/fuzz/$name.log
  if ! "$bin" -max_total_time="$secs" -timeout="$timeout" -rss_limit_mb=2048 \
      -max_len=8192 -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/"$name"- \
      "$corpus" "${seeds[@]}" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "FAIL: $name (log: $log, input: build/fuzz/artifacts/$name-*)"
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^#[0-9]+.*DONE' "$log" || true
done
echo "fuzz: all targets passed"
