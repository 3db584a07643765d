#!/usr/bin/env bash
# A throwaway PostgreSQL server for the team-store tests and benchmarks: a cluster in a folder
# of its own, on a private port, listening on 127.0.0.1 and a Unix socket in that folder.
#
#   bash scripts/pg.sh start DIR   initdb (once) and start; prints the server's URL on stdout
#   bash scripts/pg.sh stop DIR    stop it (fast shutdown); the folder stays
#   bash scripts/pg.sh env DIR     prints `export PROV_TEST_PG=…; export PGPASSFILE=…`
#
# The superuser is `prov` with a random password that only DIR/pgpass (0600, libpq's format)
# holds: clients find it through PGPASSFILE, as a team's laptops would through ~/.pgpass, so
# the tests exercise the way prov expects passwords to reach libpq-style clients, and the URL
# printed never holds one. Password authentication (scram-sha-256) is on for every connection.
#
# PostgreSQL refuses to run as root, so as root the cluster belongs to `nobody`
# (`runuser`); otherwise to whoever runs this. Debian's `postgresql` package is installed
# with apt-get when no server binaries are found (as root, or with sudo).
set -euo pipefail

pg_bin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then
            printf '%s\n' "$d"
            return 0
        fi
    done
    return 1
}

ensure_server_binaries() {
    pg_bin >/dev/null && return 0
    echo "==> apt-get install -y postgresql (for the team-store tests)" >&2
    local sudo=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { echo "PostgreSQL is missing: apt-get install postgresql" >&2; exit 1; }
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq postgresql >&2
    pg_bin >/dev/null || { echo "postgresql installed but no pg_ctl found" >&2; exit 1; }
}

# Runs a server binary as the cluster's owner.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local dir="$1" bin port password
    ensure_server_binaries
    bin="$(pg_bin)"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [ "$(id -u)" = 0 ]; then
        chown nobody "$dir"
    fi
    chmod 0700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        password="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
        printf '%s\n' "$password" > "$dir/.pw"
        chmod 0600 "$dir/.pw"
        [ "$(id -u)" = 0 ] && chown nobody "$dir/.pw"
        as_owner "$bin/initdb" -D "$dir/data" -U prov --pwfile="$dir/.pw" \
            --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
        rm -f "$dir/.pw"
        port="$(free_port)"
        printf '%s\n' "$port" > "$dir/port"
        # libpq's password file: host:port:database:user:password.
        printf '127.0.0.1:%s:*:prov:%s\n%s:%s:*:prov:%s\n' \
            "$port" "$password" "$dir" "$port" "$password" > "$dir/pgpass"
        chmod 0600 "$dir/pgpass"
    fi
    port="$(cat "$dir/port")"
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 \
                -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null \
            || { cat "$dir/server.log" >&2; exit 1; }
    fi
    printf 'postgresql://prov@127.0.0.1:%s/postgres\n' "$port"
}

stop() {
    local dir="$1" bin
    bin="$(pg_bin)" || return 0
    [ -f "$dir/data/PG_VERSION" ] || return 0
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

case "${1:-}" in
    start) start "${2:?usage: pg.sh start DIR}" ;;
    stop) stop "${2:?usage: pg.sh stop DIR}" ;;
    env)
        url="$(start "${2:?usage: pg.sh env DIR}")"
        dir="$(cd "$2" && pwd)"
        printf 'export PROV_TEST_PG=%q\nexport PGPASSFILE=%q\n' "$url" "$dir/pgpass"
        ;;
    *) echo "usage: bash scripts/pg.sh start|stop|env DIR" >&2; exit 2 ;;
esac
