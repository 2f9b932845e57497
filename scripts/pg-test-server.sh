#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and the benchmarks (Debian's
# `postgresql` package): `start` creates a cluster in a new temp dir, starts it on
# 127.0.0.1 at a free port and prints `export KEYDESK_TEST_PG=… KEYDESK_TEST_PG_DIR=…`;
# `stop DIR` stops it and removes DIR; `pause DIR` / `resume DIR` stop and restart
# it in place (same port), for outage tests. initdb and pg_ctl refuse to run as root, so
# as root they run as the `postgres` user (runuser) on a dir that user owns.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
# runuser lives in /usr/sbin, which a minimal PATH (env -i, cron, some CI runners) lacks.
as_pg() { if [ "$(id -u)" -eq 0 ]; then "$(command -v runuser || echo /usr/sbin/runuser)" -u postgres -- "$@"; else "$@"; fi; }
case "${1:-}" in
  start)
    [ -x "$bin/initdb" ] || { echo "needs PostgreSQL (apt-get install postgresql)" >&2; exit 2; }
    dir=$(mktemp -d /tmp/keydesk-pg.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --locale=C.UTF-8 --encoding=UTF8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 3; }
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    echo "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c shared_buffers=128MB" >"$dir/options"
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(cat "$dir/options")" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 3; }
    echo "export KEYDESK_TEST_PG=postgres://postgres@127.0.0.1:$port/postgres KEYDESK_TEST_PG_DIR=$dir KEYDESK_TEST_PG_BIN=$bin"
    ;;
  pause)
    dir=${2:?usage: pg-test-server.sh pause DIR}
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  resume)
    dir=${2:?usage: pg-test-server.sh resume DIR}
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(cat "$dir/options")" start >/dev/null \
      || { tail -n 20 "$dir/server.log" >&2; exit 3; }
    ;;
  stop)
    dir=${2:?usage: pg-test-server.sh stop DIR}
    [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start | pause DIR | resume DIR | stop DIR" >&2; exit 2 ;;
esac
