#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster for Portico's tests.
#
#   eval "$(scripts/pg-test-cluster.sh start)"   # prints: export PORTICO_TEST_POSTGRES=...
#   scripts/pg-test-cluster.sh stop
#
# The cluster lives in a temporary directory (PG_TEST_DIR, default
# /tmp/portico-pg-test), listens on 127.0.0.1:PG_TEST_PORT (default 55432)
# with its unix socket in that directory, trusts local connections, and runs
# as an unprivileged user: the caller when not root, otherwise "postgres"
# (through runuser). Tests create one database per test and drop it.
set -euo pipefail

dir="${PG_TEST_DIR:-/tmp/portico-pg-test}"
port="${PG_TEST_PORT:-55432}"

bindir="${PG_BINDIR:-}"
if [ -z "$bindir" ]; then
  if command -v pg_ctl >/dev/null 2>&1; then
    bindir="$(dirname "$(command -v pg_ctl)")"
  else
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  fi
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
  echo "pg-test-cluster: PostgreSQL binaries not found (apt-get install postgresql, or set PG_BINDIR)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "${PG_TEST_USER:-postgres}" -- "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
start)
  if [ -f "$dir/data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    : # already running
  else
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown "${PG_TEST_USER:-postgres}" "$dir"; fi
    as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  fi
  echo "export PORTICO_TEST_POSTGRES='postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable'"
  ;;
stop)
  if [ -d "$dir/data" ]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
  fi
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
