#!/usr/bin/env bash
# A real PostgreSQL server on 127.0.0.1 from Debian's `postgresql` package, in a data
# directory of its own (like deploy/kafka/local.sh for Kafka).
#
#   deploy/postgres/local.sh start|stop|status|url|app-url
#
# Environment: PG_PORT (55432), PG_DATA_DIR (~/.cache/billing-meter/postgres, or
# /var/tmp/billing-meter-postgres-PORT as root: the server runs as the `postgres` user then,
# since PostgreSQL refuses to run as root). The server trusts local connections of the
# user `billing` and has a database `billing`: postgresql://billing@127.0.0.1:PORT/billing
# (`url`: the owner, which migrates). `start` also creates, if missing, the login role
# `billing_app` (`app-url`): the worker, API and CLI connect as it once
# `billing-meter db upgrade --url $(local.sh url) --grant-to billing_app` has granted it the
# rows (it owns nothing, so it cannot alter, drop or disable the ledger's triggers).
# Creating the role is additive: a running server and its existing roles are left as they are.
set -euo pipefail

PG_PORT=${PG_PORT:-55432}
if [ "$(id -u)" -eq 0 ]; then
  PG_DATA_DIR=${PG_DATA_DIR:-/var/tmp/billing-meter-postgres-$PG_PORT}
  AS=(runuser -u postgres --)
else
  PG_DATA_DIR=${PG_DATA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/billing-meter/postgres-$PG_PORT}
  AS=()
fi
DATA=$PG_DATA_DIR/data
LOG_FILE=$PG_DATA_DIR/postgres.log

log() { echo "postgres: $*" >&2; }

bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -x "$dir/$1" ]; then echo "$dir/$1"; elif command -v "$1" >/dev/null; then command -v "$1"
  else log "$1 not found: install Debian's postgresql package (apt-get install postgresql)"; exit 1
  fi
}

APP_ROLE=billing_app

url() { echo "postgresql://billing@127.0.0.1:$PG_PORT/billing"; }

app_url() { echo "postgresql://$APP_ROLE@127.0.0.1:$PG_PORT/billing"; }

app_role() {  # idempotent: create the application role only when it does not exist
  "$(bin psql)" -h 127.0.0.1 -p "$PG_PORT" -U billing -d postgres -v ON_ERROR_STOP=1 -qAtc \
    "DO \$\$ BEGIN
       IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$APP_ROLE') THEN
         CREATE ROLE $APP_ROLE LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
       END IF;
     END \$\$" >/dev/null
}

running() { "${AS[@]}" "$(bin pg_ctl)" -D "$DATA" status >/dev/null 2>&1; }

start() {
  if [ ! -f "$DATA/PG_VERSION" ]; then
    mkdir -p "$PG_DATA_DIR"
    [ "${#AS[@]}" -eq 0 ] || chown postgres "$PG_DATA_DIR"
    log "initdb in $DATA"
    "${AS[@]}" "$(bin initdb)" -D "$DATA" -U billing --auth=trust -E UTF8 >/dev/null
  fi
  if running; then log "already running on 127.0.0.1:$PG_PORT"; else
    "${AS[@]}" "$(bin pg_ctl)" -D "$DATA" -l "$LOG_FILE" -w -t 60 start \
      -o "-p $PG_PORT -k $PG_DATA_DIR -c listen_addresses=127.0.0.1 -c max_connections=200" >/dev/null
    log "started on 127.0.0.1:$PG_PORT (data in $DATA)"
  fi
  if ! "$(bin psql)" -h 127.0.0.1 -p "$PG_PORT" -U billing -d postgres -Atc \
      "SELECT 1 FROM pg_database WHERE datname = 'billing'" | grep -q 1; then
    "$(bin createdb)" -h 127.0.0.1 -p "$PG_PORT" -U billing billing
  fi
  app_role
  url
}

stop() {
  if running; then "${AS[@]}" "$(bin pg_ctl)" -D "$DATA" -m fast -w stop >/dev/null; log "stopped"
  else log "not running"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then log "running on 127.0.0.1:$PG_PORT"; else log "not running"; exit 1; fi ;;
  url) url ;;
  app-url) app_url ;;
  *) echo "usage: $0 start|stop|status|url|app-url" >&2; exit 2 ;;
esac
