#!/usr/bin/env bash
# bench/postrate.sh [SECONDS]: the write path alone, bounded, for a shared machine (make
# bench is not). One `parley serve` on the bench's config (bench/run.sh's edits: limits
# meant for one reader opened up), then `loadgen --mode write` as make bench's scenario c
# for SECONDS (default 10). Prints loadgen's acknowledged posts, posts/s and p50, and the
# server's CPU time per acknowledged post (steadier than posts/s when the machine is
# loaded). PARLEY_BIN picks the binary (default build/parley).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECS=${1:-10}
BIN=${PARLEY_BIN:-build/parley}
W=$(mktemp -d /tmp/parley-postrate.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
[ build/loadgen -nt bench/loadgen.c ] || cc -O2 -Wall -Wextra -Werror -o build/loadgen bench/loadgen.c
sed -e 's/max_connections_per_ip: [0-9]*/max_connections_per_ip: 0/' \
    -e 's/max_sockets_per_ip: [0-9]*/max_sockets_per_ip: 0/' \
    -e 's/\(author_posts_per_minute\|address_posts_per_minute\|pending_per_author\|pending_per_address\): [0-9]*/\1: 0/' \
    -e 's/client_rate: [0-9]*/client_rate: 100000/' -e 's/client_burst: [0-9]*/client_burst: 100000/' \
    -e "s#\([[ ]\)rules/#\1$ROOT/rules/#g" moderation.yml |
  awk '/kind: rate/{r=1} r && /max:/{sub(/max: [0-9]+/, "max: 1000000"); r=0} {print}' > "$W/moderation.yml"
P=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
"$BIN" serve --config "$W/moderation.yml" --listen "127.0.0.1:$P" --data "$W/data" --log-level warn 2>>"$W/log" &
PID=$!
for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$P/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
T0=$(awk '{print $14 + $15}' "/proc/$PID/stat")
OUT=$(build/loadgen --port "$P" --mode write --conns 10 --articles 10 --posters 32 --inflight 16 \
        --duration "$SECS" --drain 3 --prefix write)
T1=$(awk '{print $14 + $15}' "/proc/$PID/stat")
ACKS=$(echo "$OUT" | grep -o '"acks":[0-9]*' | cut -d: -f2)
TICK=$(getconf CLK_TCK)
echo "$OUT" | grep -o '"acks":[0-9]*\|"acks_per_second":[0-9.]*\|"p50":[0-9.]*' | tr '\n' ' '
echo "server_cpu_us_per_post=$(( (T1 - T0) * 1000000 / TICK / (ACKS > 0 ? ACKS : 1) ))"
