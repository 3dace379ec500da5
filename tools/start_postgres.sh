#!/usr/bin/env bash
# Start a throw-away PostgreSQL server for crucible's tests and print its DSN on stdout.
#
# Idempotent: a second run finds the server already up and prints the same DSN. The cluster
# lives in a directory of its own (not the distribution's cluster), listens on 127.0.0.1 and
# on a Unix socket inside that directory, and trusts local connections: it is for tests only.
#
#   export CRUCIBLE_TEST_POSTGRES_DSN="$(tools/start_postgres.sh)"
#   tools/start_postgres.sh --stop          # stop it again (the data directory stays)
#
# Settings (environment):
#   CRUCIBLE_PG_DIR   cluster directory     (default: ${TMPDIR:-/tmp}/crucible-postgres-<uid>)
#   CRUCIBLE_PG_PORT  TCP port              (default: 55432)
#   CRUCIBLE_PG_DB    database to create    (default: crucible_test)
#
# PostgreSQL refuses to run as root; when run as root the server runs as the `postgres`
# user that Debian's package creates. Install the server first: apt-get install -y postgresql
set -euo pipefail

dir="${CRUCIBLE_PG_DIR:-${TMPDIR:-/tmp}/crucible-postgres-$(id -u)}"
port="${CRUCIBLE_PG_PORT:-55432}"
db="${CRUCIBLE_PG_DB:-crucible_test}"
data="$dir/data"
sock="$dir/socket"

say() { printf 'start_postgres: %s\n' "$*" >&2; }

# The newest server binaries: Debian keeps them out of PATH under /usr/lib/postgresql/N/bin.
bindir=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    [[ -x "$candidate/initdb" ]] && bindir="$candidate"
done
if [[ -z "$bindir" ]] && command -v initdb >/dev/null 2>&1; then
    bindir="$(dirname "$(command -v initdb)")"
fi
if [[ -z "$bindir" ]]; then
    say "no PostgreSQL server found; install it first (apt-get install -y postgresql)"
    exit 1
fi

# Run a server command as a user PostgreSQL accepts.
if [[ "$(id -u)" == 0 ]]; then
    owner=postgres
    as_owner() { runuser -u postgres -- "$@"; }
else
    owner="$(id -un)"
    as_owner() { "$@"; }
fi

if [[ "${1:-}" == "--stop" ]]; then
    if [[ -f "$data/postmaster.pid" ]]; then
        as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >&2
    fi
    exit 0
fi

mkdir -p "$dir" "$sock"
if [[ "$(id -u)" == 0 ]]; then
    chown "$owner" "$dir" "$sock"
fi

if [[ ! -f "$data/PG_VERSION" ]]; then
    say "initialising a cluster in $data"
    as_owner "$bindir/initdb" -D "$data" -U "$owner" --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
fi

if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "starting the server on 127.0.0.1:$port"
    # Durability off: the data is disposable and the tests measure our code, not fsync.
    as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start -o \
        "-p $port -k $sock -c listen_addresses=127.0.0.1 -c fsync=off \
         -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        >/dev/null || {
        cat "$dir/server.log" >&2
        exit 1
    }
fi

exists="$(as_owner "$bindir/psql" -h "$sock" -p "$port" -U "$owner" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$db'")"
if [[ "$exists" != 1 ]]; then
    as_owner "$bindir/createdb" -h "$sock" -p "$port" -U "$owner" "$db"
fi

printf 'postgresql://%s@127.0.0.1:%s/%s\n' "$owner" "$port" "$db"
