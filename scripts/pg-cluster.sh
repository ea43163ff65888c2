#!/usr/bin/env bash
# pg-cluster.sh: a throwaway PostgreSQL cluster for tests (Debian's postgresql package).
#   scripts/pg-cluster.sh start DIR     initdb into DIR/data (once), start it listening on a
#                                       unix socket in DIR only, print a libpq conninfo
#   scripts/pg-cluster.sh stop DIR      stop it (fast shutdown: sessions are cut)
#   scripts/pg-cluster.sh restart DIR   stop then start again (same data)
# As root, initdb and the server run as the `postgres` user (initdb refuses root); DIR is
# given to that user. fsync is off: the tests kill Parley, never the machine.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|restart DIR" >&2
  exit 2
fi

bindir=""
for d in /usr/lib/postgresql/*/bin; do
  [ -x "$d/initdb" ] && bindir=$d
done
if [ -z "$bindir" ]; then
  echo "pg-cluster: no PostgreSQL server found (apt-get install postgresql)" >&2
  exit 1
fi

# as_pg CMD...: runs a command as the cluster's owner.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    local q
    printf -v q '%q ' "$@"
    su postgres -s /bin/sh -c "$q"
  else
    "$@"
  fi
}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"

case "$cmd" in
  start)
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      # initdb once per machine into a template, then copy it (0.1 s against 1.2 s for
      # initdb: every test file starts a cluster). The template appears by rename, so
      # two test processes starting together never copy a half-made one.
      template=${PARLEY_PG_TEMPLATE:-${TMPDIR:-/tmp}/parley-pg-template-$(basename "$(dirname "$bindir")")-$(id -u)}
      if [ ! -f "$template/PG_VERSION" ]; then
        fresh=$(mktemp -d "$template.XXXXXX")
        [ "$(id -u)" -eq 0 ] && chown postgres "$fresh"
        as_pg "$bindir/initdb" -D "$fresh/data" -U parley --auth=trust -E UTF8 --no-locale \
          >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; rm -rf "$fresh"; exit 1; }
        mv -T "$fresh/data" "$template" 2>/dev/null || true # another process was first
        rm -rf "$fresh"
      fi
      cp -a "$template" "$dir/data"
    fi
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses='' -k $dir -c fsync=off -c max_connections=200" start \
      >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "host=$dir dbname=postgres user=parley"
    ;;
  stop)
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null
    ;;
  restart)
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null || true
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses='' -k $dir -c fsync=off -c max_connections=200" start \
      >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "host=$dir dbname=postgres user=parley"
    ;;
  *)
    echo "usage: $0 start|stop|restart DIR" >&2
    exit 2
    ;;
esac
