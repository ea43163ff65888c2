#!/usr/bin/env bash
# bench/pg.sh: durable acknowledged posts/s and cross-process delivery with SQLite and with
# PostgreSQL, side by side (issue 12). make bench runs it after its own scenarios (h);
# alone: bash bench/pg.sh [--quick] [RESULTS.jsonl]
#
#   h_write  posts as fast as acks return, through the default rules, each acknowledged
#            only once committed durably: 1, 2 and 3 parley processes, one hot article and
#            1,000 articles, "a handful" of writers per process (8 connections, 4 posts in
#            flight each) and, with 3 processes, many (32 connections, 16 in flight each).
#            SQLite: the processes share one file and one Redis; PostgreSQL: each process
#            has its own data dir, all point storage.postgres at one database (fsync on,
#            synchronous_commit on: a commit is on disk before the ack).
#   h_cross  posts on process A, 1,000 subscribers on process B: delivery p50/p99.
# Everything started here is stopped on exit, even when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=0
[ "${1:-}" = "--quick" ] && { QUICK=1; shift; }
OUTFILE=${1:-}

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
WORK=$(mktemp -d /tmp/parley-benchpg.XXXXXX)
PIDS=()
PGDIR=$(mktemp -d /tmp/parley-benchpg-db.XXXXXX) # its own: the postgres user must reach it
PG_BIN=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && PG_BIN=$d; done
as_pg() { # runs a command as the cluster's owner (initdb and postgres refuse root)
  if [ "$(id -u)" -eq 0 ]; then local q; printf -v q '%q ' "$@"; su postgres -s /bin/sh -c "$q"; else "$@"; fi
}
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -f "$PGDIR/data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$WORK" "$PGDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x build/parley ] || { echo "bench/pg: build/parley missing (make)" >&2; exit 1; }
[ -n "$PG_BIN" ] || { echo "bench/pg: no PostgreSQL server (apt-get install postgresql)" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "bench/pg: no redis-server" >&2; exit 1; }
[ "build/loadgen" -nt "bench/loadgen.c" ] || cc -O2 -Wall -Wextra -Werror -o build/loadgen bench/loadgen.c

if [ $QUICK = 1 ]; then SECS=2; CROSS_CONNS=100; else SECS=8; CROSS_CONNS=1000; fi

# The bench config (as bench/run.sh's): the repo's rules, the limits meant for one
# reader opened up (every connection comes from one address and posts very fast).
CONFIG=$WORK/moderation.yml
sed -e 's/max_connections_per_ip: [0-9]*/max_connections_per_ip: 0/' \
    -e 's/max_sockets_per_ip: [0-9]*/max_sockets_per_ip: 0/' \
    -e 's/\(author_posts_per_minute\|address_posts_per_minute\|pending_per_author\|pending_per_address\): [0-9]*/\1: 0/' \
    -e 's/client_rate: [0-9]*/client_rate: 100000/' -e 's/client_burst: [0-9]*/client_burst: 100000/' \
    -e "s#\([[ ]\)rules/#\1$ROOT/rules/#g" moderation.yml |
  awk '/kind: rate/{r=1} r && /max:/{sub(/max: [0-9]+/, "max: 1000000"); r=0} {print}' > "$CONFIG"

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_up() { for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "bench/pg: nothing answers on $1" >&2; return 1; }

RESULTS=${OUTFILE:-$WORK/results.jsonl}
[ -n "$OUTFILE" ] || : > "$RESULTS"
record() { # scenario server json
  echo "{\"scenario\":\"$1\",\"server\":\"$2\",\"result\":$3}" >> "$RESULTS"
}

# ---- PostgreSQL (durable: fsync and synchronous_commit on) and Redis ----
PG_MALLOC_TUNABLES=${PG_MALLOC_TUNABLES-glibc.malloc.trim_threshold=67108864:glibc.malloc.top_pad=16777216}
echo "bench/pg: starting PostgreSQL and Redis (at ${SECONDS} s)"
bash scripts/pg-cluster.sh start "$PGDIR" >/dev/null   # initdb (unix socket only)
bash scripts/pg-cluster.sh stop "$PGDIR"                # it runs with fsync off: restart durable
# glibc's malloc in the backends as docs/operations.md advises (PostgreSQL, "glibc's
# malloc"): without it a backend whose heap top sits at the trim threshold gives memory
# back to the kernel and takes it again around every statement (brk, TLB shootdowns).
as_pg env "GLIBC_TUNABLES=$PG_MALLOC_TUNABLES" "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
  -o "-c listen_addresses='' -k $PGDIR -c max_connections=200 -c fsync=on -c synchronous_commit=on" start >/dev/null
psql -X -q -d "host=$PGDIR dbname=postgres user=parley" -c "CREATE DATABASE bench" >/dev/null
CONNINFO="host=$PGDIR dbname=bench user=parley"
RP=$(free_port)
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do redis-cli -p "$RP" ping >/dev/null 2>&1 && break; sleep 0.05; done
{ cat "$CONFIG"; printf 'redis:\n  url: "redis://127.0.0.1:%s"\n  prefix: "bench%s:"\n' "$RP" "$$"; } > "$WORK/sqlite.yml"
sed "s#^storage:#storage:\n  postgres: \"$CONNINFO\"#" "$WORK/sqlite.yml" > "$WORK/pg.yml"
grep -q "postgres: \"$CONNINFO\"" "$WORK/pg.yml" || { echo "bench/pg: no storage: section in moderation.yml" >&2; exit 1; }

NODES=()
NODE_PIDS=()
NODE_DIRS=()
start_nodes() { # store n: n processes (SQLite: one shared data dir; PostgreSQL: one each)
  NODES=(); NODE_PIDS=(); NODE_DIRS=()
  local shared=$WORK/sqlite-$RANDOM
  for i in $(seq 1 "$2"); do
    local port data cfg
    port=$(free_port)
    if [ "$1" = sqlite ]; then data=$shared; cfg=$WORK/sqlite.yml; else data=$WORK/pgnode-$i-$RANDOM; cfg=$WORK/pg.yml; fi
    NODE_DIRS+=("$data")
    build/parley serve --config "$cfg" --listen "127.0.0.1:$port" --data "$data" --log-level warn 2>>"$WORK/parley.log" &
    PIDS+=($!); NODE_PIDS+=($!)
    wait_up "$port"
    NODES+=("$port")
  done
}
stop_nodes() {
  for p in "${NODE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  # a run's files go with it: their dirty pages, written back half a minute later, would
  # otherwise stall the next runs' fsyncs (PostgreSQL's commits waited 100 ms behind the
  # SQLite runs' writeback: 3,283 -> 387 posts/s)
  rm -rf "${NODE_DIRS[@]}"
}

# One loadgen per process, all at once, all on the same articles; the sum of acks/s.
write_run() { # store procs articles posters inflight label
  local prefix="w$RANDOM" i out=()
  start_nodes "$1" "$2"
  for i in "${!NODES[@]}"; do
    build/loadgen --port "${NODES[$i]}" --mode write --conns 4 --articles "$3" --posters "$4" \
      --inflight "$5" --duration "$SECS" --drain 2 --prefix "$prefix" > "$WORK/lg-$i.json" 2>>"$WORK/loadgen.log" &
    out+=($!)
  done
  for p in "${out[@]}"; do wait "$p"; done
  stop_nodes
  local json
  json=$(node -e '
    const fs = require("fs");
    const [n, procs, articles, posters, inflight, label] = process.argv.slice(1);
    const runs = [...Array(Number(procs)).keys()].map((i) => JSON.parse(fs.readFileSync(`${n}/lg-${i}.json`, "utf8")));
    const sum = (f) => runs.reduce((a, r) => a + f(r), 0);
    console.log(JSON.stringify({ procs: Number(procs), articles: Number(articles), writers: `${label}`,
      posters_per_proc: Number(posters), inflight: Number(inflight),
      acks_per_second: Math.round(sum((r) => r.acks_per_second)), acks: sum((r) => r.acks),
      errors: sum((r) => r.errors), held_or_refused: sum((r) => r.held_or_refused),
      delivery_p50_ms_max: Math.max(...runs.map((r) => r.latency_ms.p50)), per_process: runs }));' \
    "$WORK" "$2" "$3" "$4" "$5" "$6")
  record h_write "$1" "$json"
  printf '  h_write  %-8s %d proc  %4d articles  %-7s %7s acks/s\n' "$1" "$2" "$3" "$6" \
    "$(echo "$json" | node -e 'process.stdin.on("data",(d)=>console.log(JSON.parse(d).acks_per_second))')"
}

cross_run() { # store
  start_nodes "$1" 2
  local json
  json=$(build/loadgen --port "${NODES[1]}" --post-port "${NODES[0]}" --settle 3 --conns "$CROSS_CONNS" \
    --articles 10 --posters 2 --rate 20 --duration "$SECS" --drain 3 --prefix "x$RANDOM" 2>>"$WORK/loadgen.log")
  stop_nodes
  record h_cross "$1" "$json"
  echo "$json" | node -e 'process.stdin.on("data",(d)=>{const l=JSON.parse(d);
    console.log(`  h_cross  ${process.argv[1].padEnd(8)} ${l.ready} readers on B, posts on A: p50 ${l.latency_ms.p50} ms, p99 ${l.latency_ms.p99} ms, ${l.losses} lost`)})' "$1"
}

record load machine "{\"load1\":$(cut -d' ' -f1 /proc/loadavg)}"
for store in sqlite postgres; do
  sync # what ran before is on disk before this store's first fsync (see stop_nodes)
  echo "bench/pg: h on $store (at ${SECONDS} s)"
  for procs in 1 2 3; do
    write_run "$store" "$procs" 1 8 4 handful
    write_run "$store" "$procs" 1000 8 4 handful
  done
  write_run "$store" 3 1 32 16 many
  write_run "$store" 3 1000 32 16 many
  cross_run "$store"
done
record load machine "{\"load1\":$(cut -d' ' -f1 /proc/loadavg)}"
echo "bench/pg: done in ${SECONDS} s"
