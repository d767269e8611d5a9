#!/usr/bin/env bash
# A private PostgreSQL cluster for the sandbox and the tests, made from Debian's packages: its own
# data directory, a free loopback port, trust authentication for this cluster only (the machine's
# own PostgreSQL service and its pg_hba.conf are never used or changed). Sourced after setup.sh.
#   pg_start NAME [--fresh]   starts cluster NAME (made on first use; --fresh: a new one each time)
#                             and exports VIGIL_PG_URL, the superuser URL everything uses
#   pg_stop NAME              stops it (a --fresh cluster is removed)
set -euo pipefail

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }

# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user that
# Debian's package creates. Its data must then be reachable by that user: under the cache dir when
# it is, else under that user's home (the cache dir of root is usually /root/.cache, closed to it).
pg_as() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_root() {
  local root="$VIGIL_CACHE/pg"
  if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$root"
    if ! runuser -u postgres -- test -x "$root" 2>/dev/null; then
      root="/var/lib/postgresql/vigil-pg"
      mkdir -p "$root"
    fi
    chown postgres:postgres "$root"
  fi
  mkdir -p "$root"
  echo "$root"
}

pg_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

pg_start() {
  local name="$1" fresh="${2:-}" bin root data port
  bin="$(pg_bin)"
  [ -n "$bin" ] || { echo "PostgreSQL's server binaries are missing (Debian package postgresql)" >&2; return 1; }
  root="$(pg_root)"
  data="$root/$name"
  if [ "$fresh" = --fresh ]; then
    # Fresh clusters of runs that were killed are stopped and removed.
    local old
    for old in "$root/$name"-[0-9]*; do
      [ -d "$old" ] || continue
      kill -0 "${old##*-}" 2>/dev/null && continue
      pg_as "$bin/pg_ctl" -D "$old" -m immediate stop >/dev/null 2>&1 || true
      rm -rf "$old"
    done
    data="$root/$name-$$"
    # Fresh means fresh, even when this shell made one before.
    if [ -d "$data" ]; then
      pg_as "$bin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
      rm -rf "$data"
    fi
  fi
  if [ -f "$data/postmaster.pid" ] && pg_as "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    port="$(sed -n 4p "$data/postmaster.pid")"
  else
    if [ ! -f "$data/PG_VERSION" ]; then
      rm -rf "$data"
      pg_as mkdir -p "$data"
      pg_as "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale --no-sync >/dev/null
      # Loopback TCP only: the superuser without a password (trust, this cluster only), every
      # other role with its password, as a platform database asks of an auditor.
      printf '%s\n' "host all postgres 127.0.0.1/32 trust" "host all all 127.0.0.1/32 scram-sha-256" \
        | pg_as tee "$data/pg_hba.conf" >/dev/null
    fi
    port="$(pg_free_port)"
    local opts="-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=200"
    if [ "$fresh" = --fresh ]; then
      # A throw-away test cluster need not survive a power cut. It speaks TLS with a certificate
      # of its own for localhost, so the tests can check verification (VIGIL_PG_CA is its CA).
      opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
      if [ ! -f "$data/server.crt" ]; then
        # A CA of the run's own, and the server's certificate for localhost signed by it.
        pg_as openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Vigil test CA" \
          -keyout "$data/ca.key" -out "$data/ca.crt" >/dev/null 2>&1
        pg_as openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
          -keyout "$data/server.key" -out "$data/server.csr" >/dev/null 2>&1
        printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
          "keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" | pg_as tee "$data/server.ext" >/dev/null
        pg_as openssl x509 -req -in "$data/server.csr" -CA "$data/ca.crt" -CAkey "$data/ca.key" -CAcreateserial \
          -days 2 -extfile "$data/server.ext" -out "$data/server.crt" >/dev/null 2>&1
        pg_as chmod 600 "$data/server.key" "$data/ca.key"
      fi
      opts="$opts -c ssl=on"
    fi
    pg_as "$bin/pg_ctl" -D "$data" -l "$data/server.log" -o "$opts" -w -t 60 start >/dev/null
  fi
  export VIGIL_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
  export VIGIL_PG_DATA="$data"
  if [ -f "$data/ca.crt" ]; then export VIGIL_PG_CA="$data/ca.crt"; fi
  _PG_FRESH="$fresh"
  log "PostgreSQL cluster '$name' on 127.0.0.1:$port (data: $data)"
}

pg_stop() {
  local data="${VIGIL_PG_DATA:-}"
  [ -n "$data" ] && [ -d "$data" ] || return 0
  pg_as "$(pg_bin)/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  if [ "${_PG_FRESH:-}" = --fresh ]; then rm -rf "$data"; fi
}
