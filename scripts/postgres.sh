#!/usr/bin/env bash
# A private PostgreSQL server for tests, the demo and benchmarks — no systemd, no shared cluster.
#   scripts/postgres.sh install          apt-get install postgresql when its server binaries are absent
#   scripts/postgres.sh start DIR PORT   initdb (first time) and start a server on 127.0.0.1:PORT;
#                                        trust auth, superuser "postgres", database "postgres"
#   scripts/postgres.sh start-primary DIR PORT
#                                        as start, for a failover pair: every commit waits until a
#                                        standby has it (synchronous_standby_names='*'), so the
#                                        standby, once promoted, holds every acknowledged commit
#   scripts/postgres.sh stop DIR
#   scripts/postgres.sh standby DIR PRIMARY_PORT PORT
#                                        a streaming-replication hot standby of the server on
#                                        127.0.0.1:PRIMARY_PORT (pg_basebackup -R), started on PORT
#   scripts/postgres.sh crash DIR        stop the server at once (-m immediate), as a lost machine
#   scripts/postgres.sh promote DIR      promote the standby of DIR to primary; waits until it is
set -euo pipefail

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && echo "$dir"
}

run_as_postgres() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  install)
    if [ -z "$(pg_bin)" ]; then
      echo "installing postgresql (apt)…" >&2
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    [ -n "$(pg_bin)" ] || { echo "postgres.sh: postgresql server binaries not found after install" >&2; exit 1; }
    ;;
  start | start-primary)
    dir=${2:?DIR}; port=${3:?PORT}
    # fast and unsafe on a machine crash (test data only); a primary of a pair keeps commits
    # on its standby instead
    durability="-c synchronous_commit=off"
    if [ "$1" = "start-primary" ]; then durability="-c synchronous_commit=on -c synchronous_standby_names='*'"; fi
    bin=$(pg_bin) || { echo "postgres.sh: run '$0 install' first" >&2; exit 1; }
    mkdir -p "$dir"
    if [ "$(id -u)" = "0" ]; then chown -R postgres:postgres "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      run_as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    run_as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off $durability -c full_page_writes=off" \
      start >/dev/null || { tail -n 30 "$dir/server.log" >&2; exit 1; }
    ;;
  standby)
    dir=${2:?DIR}; primary=${3:?PRIMARY_PORT}; port=${4:?PORT}
    bin=$(pg_bin) || { echo "postgres.sh: run '$0 install' first" >&2; exit 1; }
    mkdir -p "$dir"
    if [ "$(id -u)" = "0" ]; then chown -R postgres:postgres "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      # -R writes primary_conninfo and standby.signal: the copy starts as a streaming standby
      run_as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary" -U postgres -D "$dir/data" \
        -R -X stream -c fast >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
    fi
    run_as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null || { tail -n 30 "$dir/server.log" >&2; exit 1; }
    ;;
  crash)
    dir=${2:?DIR}
    bin=$(pg_bin) || exit 0
    [ -f "$dir/data/postmaster.pid" ] && run_as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
    ;;
  promote)
    dir=${2:?DIR}
    bin=$(pg_bin) || { echo "postgres.sh: run '$0 install' first" >&2; exit 1; }
    run_as_postgres "$bin/pg_ctl" -D "$dir/data" -w -t 60 promote >/dev/null
    ;;
  stop)
    dir=${2:?DIR}
    bin=$(pg_bin) || exit 0
    [ -f "$dir/data/postmaster.pid" ] && run_as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
  *)
    echo "usage: $0 install | start DIR PORT | start-primary DIR PORT | stop DIR | standby DIR PRIMARY_PORT PORT | crash DIR | promote DIR" >&2
    exit 2
    ;;
esac
