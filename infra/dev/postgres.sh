#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers at $PGHOST:$PGPORT (default 127.0.0.1:5432), starting
# the machine's Debian cluster when it is installed but stopped, or a private cluster under
# .tools/pgdata (run as the postgres user, which initdb requires) when there is none.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
host="${PGHOST:-127.0.0.1}"
port="${PGPORT:-5432}"
ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }
ready && exit 0
if command -v pg_lsclusters >/dev/null 2>&1 && [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
  ver="$(pg_lsclusters -h | awk 'NR==1{print $1}')"
  echo "==> starting PostgreSQL cluster $ver/main"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 50); do ready && exit 0; sleep 0.2; done
fi
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$bindir" ]; then
  echo "ERROR: PostgreSQL is not installed (apt-get install postgresql) and nothing answers on $host:$port" >&2
  exit 1
fi
data="$root/.tools/pgdata"
run() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
if [ ! -f "$data/PG_VERSION" ]; then
  echo "==> initialising a private PostgreSQL cluster in .tools/pgdata"
  mkdir -p "$data"; [ "$(id -u)" = 0 ] && chown postgres "$data" "$root/.tools"
  run "$bindir/initdb -D '$data' -U postgres --auth=trust" >/dev/null
fi
echo "==> starting the private PostgreSQL on $host:$port"
run "$bindir/pg_ctl -D '$data' -l '$data/server.log' -o '-p $port -k /tmp -c listen_addresses=$host' -w start"
ready || { echo "ERROR: PostgreSQL did not start; see $data/server.log" >&2; exit 1; }
