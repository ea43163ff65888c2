#!/usr/bin/env bash
# Line coverage of the server sources reached by each fuzz target's corpus
# (build/fuzz/corpus-<target>/ and tests/fuzz/corpus/<target>/): builds the targets
# again with clang's source-based coverage into build/fuzz-cov/, replays the corpora,
# and prints llvm-cov's per-file summary for the files each target is about.
#   usage: tests/fuzz/coverage.sh [target ...]     (default: all)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/fuzz-cov
mkdir -p "$out/obj"
pkgs="libwebsockets libuv hiredis sqlite3 libpcre2-8 libsodium yaml-0.1 jansson libutf8proc icu-uc icu-i18n"
cflags="-std=gnu11 -g -O1 -D_GNU_SOURCE -Iserver -DPARLEY_SRC_DIR=\"$PWD\" $(pkg-config --cflags $pkgs)"
cov="-fprofile-instr-generate -fcoverage-mapping"
objs=()
for src in server/*.c; do
  [ "$src" = server/main.c ] && continue
  o=$out/obj/$(basename "${src%.c}").o
  [ "$o" -nt "$src" ] || clang $cflags $cov -fsanitize=fuzzer-no-link -c -o "$o" "$src"
  objs+=("$o")
done
declare -A files=(
  [fuzz_text]="server/text.c" [fuzz_cfg]="server/cfg.c" [fuzz_jwt]="server/jwt.c"
  [fuzz_rules]="server/rules.c server/rules_norm.c server/rules_words.c"
  [fuzz_proto]="server/proto.c server/comments.c server/identity.c server/moderation.c server/hub.c"
  [fuzz_http]="server/net.c server/auth.c"
)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_text fuzz_cfg fuzz_jwt fuzz_rules fuzz_proto fuzz_http)
for t in "${targets[@]}"; do
  clang $cflags $cov -fsanitize=fuzzer -o "$out/$t" "tests/fuzz/$t.c" "${objs[@]}" \
    $(pkg-config --libs $pkgs) -lpthread -lm
  dirs=()
  for d in "build/fuzz/corpus-$t" "tests/fuzz/corpus/$t"; do [ -d "$d" ] && dirs+=("$d"); done
  rm -f "$out/$t".profraw
  LLVM_PROFILE_FILE="$out/$t.profraw" "$out/$t" -runs=0 -timeout=30 "${dirs[@]}" >/dev/null 2>&1 || true
  llvm-profdata merge -sparse "$out/$t.profraw" -o "$out/$t.profdata"
  echo "== $t"
  # shellcheck disable=SC2086
  llvm-cov report "$out/$t" -instr-profile="$out/$t.profdata" ${files[$t]} | \
    grep -v -E '^-+$' | cut -c1-200
done
