#!/usr/bin/env bash
# make bench: Parley and two peers (a Node ws broadcast script, nginx + nchan) under the same
# load generator, on loopback, plus the raw write() floor for one frame to 10,000 sockets.
#   bash bench/run.sh          full run (< 10 minutes) -> docs/BENCHMARKS.md and .json
#   bash bench/run.sh --quick  small N (< 60 s), checks the harness works and loses nothing
# Everything started here is stopped on exit, even when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
WORK=$(mktemp -d /tmp/parley-bench.XXXXXX)
PIDS=()
# BENCH_KEEP=FILE keeps a copy of the raw results (results.jsonl) when the run ends.
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${BENCH_KEEP:-}" ] && cp "$WORK/results.jsonl" "$BENCH_KEEP" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PKGS="$(make -s --no-print-directory print-pkgs)"   # the libraries the server links
# (re)built only when a source is newer than the binary
for t in loadgen rawfanout; do
  [ "build/$t" -nt "bench/$t.c" ] || cc -O2 -Wall -Wextra -Werror -o "build/$t" "bench/$t.c"
done
if ! [ build/rulebench -nt bench/rulebench.c ] || ! [ build/rulebench -nt build/parley ]; then
  cc -O2 -Wall -Wextra -Werror -Iserver $(pkg-config --cflags jansson) -o build/rulebench bench/rulebench.c \
    $(make -s --no-print-directory print-objs) $(pkg-config --libs $PKGS) -lpthread -lm
fi

# The bench config: the repo's rules, with the limits meant for one reader opened up
# (every connection comes from one address and posts far faster than a person).
CONFIG=$WORK/moderation.yml
sed -e 's/max_connections_per_ip: [0-9]*/max_connections_per_ip: 0/' \
    -e 's/max_sockets_per_ip: [0-9]*/max_sockets_per_ip: 0/' \
    -e 's/\(author_posts_per_minute\|address_posts_per_minute\|pending_per_author\|pending_per_address\): [0-9]*/\1: 0/' \
    -e 's/client_rate: [0-9]*/client_rate: 100000/' -e 's/client_burst: [0-9]*/client_burst: 100000/' \
    -e "s#\([[ ]\)rules/#\1$ROOT/rules/#g" moderation.yml |
  awk '/kind: rate/{r=1} r && /max:/{sub(/max: [0-9]+/, "max: 1000000"); r=0} {print}' > "$CONFIG"

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_up() { for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "bench: nothing answers on $1" >&2; return 1; }
rss() { # pid... -> summed VmRSS in KiB
  local t=0 p v
  for p in "$@"; do v=$(awk '/VmRSS/{print $2}' "/proc/$p/status"); t=$((t + v)); done
  echo "$t"
}
sock_pages() { awk '/^TCP:/{for(i=1;i<=NF;i++) if($i=="mem") print $(i+1)}' /proc/net/sockstat; }

start_parley() { # port datadir [extra config file]
  build/parley serve --config "${3:-$CONFIG}" --listen "127.0.0.1:$1" --data "$2" --log-level warn 2>>"$WORK/parley.log" &
  PIDS+=($!); LAST=$!; wait_up "$1"
}
start_peer() {
  node bench/peers/ws-room.js "$1" 2>>"$WORK/peer.log" &
  PIDS+=($!); LAST=$!; wait_up "$1"
}
# nginx + nchan: its own config, prefix, pid, logs and temp paths in $WORK/nginx, one
# worker process (to compare with one Parley process), in the foreground so that the
# harness owns it. LAST is the master; NCHAN_PIDS the master and its worker.
# worker_connections is twice the descriptor limit: nchan takes connection slots of its own
# beyond the sockets (with 19,936 slots the worker dropped 322 of 19,000 idle subscribers,
# "worker_connections are not enough, reusing connections"; with 40,000 it held them all).
start_nchan() { # port
  local d=$WORK/nginx nofile user=""
  mkdir -p "$d/tmp"
  nofile=$(ulimit -Hn)
  [ "$(id -u)" = 0 ] && user="user root root;"
  cat > "$d/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
$user
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile $nofile;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections $((nofile * 2)); use epoll; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  server {
    listen 127.0.0.1:$1 backlog=4096;
    location = /healthz { return 200 "ok\n"; }
    location ~ ^/sub/(.+)\$ {
      nchan_subscriber websocket;
      nchan_channel_id \$1;
      nchan_subscriber_first_message newest;
    }
    location ~ ^/pub/(.+)\$ {
      nchan_publisher http;
      nchan_channel_id \$1;
    }
  }
}
EOF
  nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" 2>>"$WORK/nchan.log" &
  PIDS+=($!); LAST=$!; wait_up "$1"
  NCHAN_PIDS="$LAST $(cat "/proc/$LAST/task/$LAST/children")"
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

RESULTS=$WORK/results.jsonl
: > "$RESULTS"
record() { # scenario server json...
  echo "{\"scenario\":\"$1\",\"server\":\"$2\",\"result\":$3}" >> "$RESULTS"
  echo "  $1 [$2] $(echo "$3" | head -c 300)"
}

# ---- a. idle capacity ----
# LG: extra loadgen options for the server under test (--proto nchan for nginx + nchan).
LG=()
idle() { # server-kind port "pids" conns
  local before k0 out after k1
  before=$(rss $3); k0=$(sock_pages)
  out=$(build/loadgen "${LG[@]}" --port "$2" --mode idle --procs 2 --conns "$4" --articles 100 --hold "$HOLD" --drain 0 --prefix idle)
  after=$(rss $3); k1=$(sock_pages)
  record a_idle "$1" "{\"loadgen\":$out,\"rss_before_kib\":$before,\"rss_after_kib\":$after,\"kernel_pages_before\":$k0,\"kernel_pages_after\":$k1}"
}

# ---- g. the raw floor: one write() of the comment frame to each of N_FAN sockets ----
raw_floor() {
  local out
  out=$(build/rawfanout --conns "$N_FAN" --rounds $([ $QUICK = 1 ] && echo 5 || echo 20))
  record g_raw raw "$out"
}

# ---- b. fan-out; d. slow readers ----
# SETTLE: seconds between "all subscribed" and the first post. Parley announces changed
# reader counts on a 2 s tick, so N subscribers joining at once cost one presence frame
# each, in one loop turn, within 2 s; the fan-out scenarios measure the steady state after
# it (docs/BENCHMARKS.md, "Why scenario b's p99 differed"). b_nosettle keeps it in once.
fanout() { # name kind port conns articles rate seconds [settle]
  local out
  out=$(build/loadgen "${LG[@]}" --port "$3" --conns "$4" --articles "$5" --posters 2 --rate "$6" --duration "$7" --drain 3 --settle "${8:-$SETTLE}" --prefix "$1-$6-$RANDOM")
  record "$1" "$2" "$out"
}
slow() { # kind port "pids" conns seconds
  local before out after
  before=$(rss $3)
  out=$(build/loadgen "${LG[@]}" --port "$2" --mode slow --slow 0.1 --conns "$4" --articles 10 --posters 2 --rate 50 --duration "$5" --drain 3 --settle "$SETTLE" --prefix slow-$RANDOM)
  after=$(rss $3)
  record d_slow "$1" "{\"loadgen\":$out,\"rss_before_kib\":$before,\"rss_after_kib\":$after}"
}

if [ $QUICK = 1 ]; then
  N_IDLE=300; N_FAN=200; RATES="10"; SECS=2; N_SLOW=200; SLOW_SECS=3; BIG_ARTICLES=2; SETTLE=0; HOLD=1
else
  N_IDLE=19000; N_FAN=10000; RATES="1 10 100"; SECS=5; N_SLOW=2000; SLOW_SECS=8; BIG_ARTICLES=100; SETTLE=3; HOLD=2
fi
# Trying the full run's steps at a smaller size: BENCH_N=2000 BENCH_OUT=/tmp/x bash bench/run.sh
# (BENCH_N subscribers for a, b and e, BENCH_N/5 for d; the report goes to BENCH_OUT).
REPORT_DIR=${BENCH_OUT:-docs}
if [ -n "${BENCH_N:-}" ] && [ $QUICK = 0 ]; then N_IDLE=$BENCH_N; N_FAN=$BENCH_N; N_SLOW=$((BENCH_N / 5)); fi

# The load average before and after: the report says whether the machine was shared.
record load machine "{\"load1\":$(cut -d' ' -f1 /proc/loadavg)}"

echo "bench: a, b, d on parley (at ${SECONDS} s)"
P=$(free_port); start_parley "$P" "$WORK/d1"; PARLEY=$LAST
idle parley "$P" "$PARLEY" "$N_IDLE"
stop "$PARLEY"
raw_floor # next to Parley's hot-article runs, and again later: the load on a shared machine moves
start_parley "$P" "$WORK/d2"; PARLEY=$LAST
for r in $RATES; do fanout b_1x "parley" "$P" "$N_FAN" 1 "$r" "$SECS"; done
for r in $RATES; do fanout b_many "parley" "$P" "$N_FAN" "$BIG_ARTICLES" "$r" "$SECS"; done
[ $QUICK = 1 ] || fanout b_nosettle "parley" "$P" "$N_FAN" "$BIG_ARTICLES" 10 "$SECS" 0
slow parley "$P" "$PARLEY" "$N_SLOW" "$SLOW_SECS"
echo "bench: c, write path (at ${SECONDS} s)"
OUT=$(build/loadgen --port "$P" --mode write --conns 10 --articles 10 --posters 32 --inflight 16 --duration "$SECS" --drain 3 --prefix write)
record c_write parley "$OUT"
stop "$PARLEY"

echo "bench: a, b, d on the ws peer (at ${SECONDS} s)"
Q=$(free_port); start_peer "$Q"; PEER=$LAST
idle peer "$Q" "$PEER" "$N_IDLE"
stop "$PEER"; start_peer "$Q"; PEER=$LAST
for r in $RATES; do fanout b_1x "peer" "$Q" "$N_FAN" 1 "$r" "$SECS"; done
for r in $RATES; do fanout b_many "peer" "$Q" "$N_FAN" "$BIG_ARTICLES" "$r" "$SECS"; done
slow peer "$Q" "$PEER" "$N_SLOW" "$SLOW_SECS"
stop "$PEER"

echo "bench: a, b, d on nginx + nchan (at ${SECONDS} s)"
N=$(free_port); start_nchan "$N"; NCHAN=$LAST
LG=(--proto nchan)
if [ $QUICK = 1 ]; then # the quick run only proves the nchan path (config, subscribe, publish)
  fanout b_1x "nchan" "$N" "$N_FAN" 1 10 "$SECS"
else
  idle nchan "$N" "$NCHAN_PIDS" "$N_IDLE"
  stop "$NCHAN"; start_nchan "$N"; NCHAN=$LAST
  for r in $RATES; do fanout b_1x "nchan" "$N" "$N_FAN" 1 "$r" "$SECS"; done
  for r in $RATES; do fanout b_many "nchan" "$N" "$N_FAN" "$BIG_ARTICLES" "$r" "$SECS"; done
  slow nchan "$N" "$NCHAN_PIDS" "$N_SLOW" "$SLOW_SECS"
fi
stop "$NCHAN"
LG=()

echo "bench: g, raw write() floor (at ${SECONDS} s)"
raw_floor

echo "bench: e, two processes and Redis (at ${SECONDS} s)"
if command -v redis-server >/dev/null; then
  RP=$(free_port)
  redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do redis-cli -p "$RP" ping >/dev/null 2>&1 && break; sleep 0.05; done
  { cat "$CONFIG"; printf 'redis:\n  url: "redis://127.0.0.1:%s"\n' "$RP"; } > "$WORK/redis.yml"
  A=$(free_port); start_parley "$A" "$WORK/d3" "$WORK/redis.yml"
  B=$(free_port); start_parley "$B" "$WORK/d3" "$WORK/redis.yml"
  OUT=$(build/loadgen --port "$B" --post-port "$A" --settle "$SETTLE" --conns $([ $QUICK = 1 ] && echo 100 || echo 1000) --articles 10 --posters 2 --rate 20 --duration "$SECS" --drain 3 --prefix redis)
  record e_redis parley "$OUT"
fi

# h. PostgreSQL beside SQLite: durable posts/s with 1-3 processes, cross-process delivery
# (bench/pg.sh; the full run only: initdb alone takes seconds)
if [ $QUICK = 0 ]; then
  echo "bench: h, SQLite and PostgreSQL with 1-3 processes (at ${SECONDS} s)"
  bash bench/pg.sh "$RESULTS"
fi

echo "bench: f, rule time per post (at ${SECONDS} s)"
DATA=$(ls ../shared/data/*.jsonl 2>/dev/null || true)
if [ $QUICK = 1 ] && [ -n "$DATA" ]; then # the quick run times 500 posts of each file
  for f in $DATA; do head -n 500 "$f" > "$WORK/$(basename "$f")"; done
  DATA=$(ls "$WORK"/*.jsonl)
fi
OUT=$(build/rulebench "$CONFIG" ${DATA:-/dev/null})
record f_rules parley "$OUT"

record load machine "{\"load1\":$(cut -d' ' -f1 /proc/loadavg)}"

# The quick run only proves the harness: everything connected, nothing lost.
if [ $QUICK = 1 ]; then
  node -e '
    const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
    let bad = 0;
    for (const r of rows) {
      const l = r.result.loadgen || r.result;
      if (l.ready !== undefined && l.ready !== l.conns) { console.error(`${r.scenario}/${r.server}: ${l.ready}/${l.conns} ready`); bad++; }
      if (l.losses !== undefined && l.losses > 0) { console.error(`${r.scenario}/${r.server}: ${l.losses} lost`); bad++; }
      if (l.short_writes || (l.expected !== undefined && l.deliveries < l.expected)) { console.error(`${r.scenario}/${r.server}: ${l.deliveries}/${l.expected} delivered`); bad++; }
      if (l.errors) { console.error(`${r.scenario}/${r.server}: ${l.errors} errors`); bad++; }
    }
    console.log(`bench-quick: ${rows.length} runs, ${bad ? bad + " problems" : "no losses, no errors"}`);
    process.exit(bad ? 1 : 0);' "$RESULTS"
  exit $?
fi

node bench/report.js "$RESULTS" "$REPORT_DIR/BENCHMARKS.md" "$REPORT_DIR/BENCHMARKS.json"
echo "bench: wrote $REPORT_DIR/BENCHMARKS.md in ${SECONDS} s"
