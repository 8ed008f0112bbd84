#!/usr/bin/env bash
# Infrastructure bootstrap for machines without Docker, all on loopback: RabbitMQ (Debian
# package) and FerretDB 1.24.2 (built from the Go module proxy with the patches in
# scripts/ferretdb/) on PostgreSQL (Debian package, a private cluster under .local/).
#
#   scripts/infra.sh up      install what is missing, start what is not running, wait
#   scripts/infra.sh down    stop what this script started
#   scripts/infra.sh status  say what answers
#   scripts/infra.sh build   build FerretDB only (when missing)
#   scripts/infra.sh binary  build when missing, print the binary's path
#
# Settings (environment): FERRETDB_BACKEND=postgresql (default) or sqlite; FERRET_PORT
# (27017), AMQP_PORT (5672), PG_PORT (25432), PG_DIR (.local/postgresql: cluster, socket,
# generated password). Idempotent: a second `up` starts nothing new. Nothing runs when
# AMQP_URI and MONGO_URI are both given (the caller brings its own servers). See
# docs/decisions/0001-database-on-dev-machines.md for why FerretDB is built and run this way.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
FERRET_VERSION="v1.24.2"
PATCH_DIR="$ROOT/scripts/ferretdb"
FERRETDB_BACKEND="${FERRETDB_BACKEND:-postgresql}"
FERRET_PORT="${FERRET_PORT:-27017}"
AMQP_PORT="${AMQP_PORT:-5672}"
PG_PORT="${PG_PORT:-25432}"
PG_DIR_GIVEN="${PG_DIR:+1}"
PG_DIR="${PG_DIR:-$LOCAL/postgresql}"
PG_LOG="$LOCAL/logs/postgresql.log"
PG_USER="ferretdb"  # the cluster's superuser, whom FerretDB connects as
PG_DATABASE="ferretdb"
mkdir -p "$LOCAL/bin" "$LOCAL/logs" "$LOCAL/ferretdb/data" "$LOCAL/run"

log() { printf '[infra] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

case "$FERRETDB_BACKEND" in
  postgresql | sqlite) ;;
  *) die "FERRETDB_BACKEND must be postgresql or sqlite, not '$FERRETDB_BACKEND'" ;;
esac

# The binary is named after the patch set, so a binary built from other patches is rebuilt.
patch_set() { cat "$PATCH_DIR"/*.patch | sha256sum | cut -c1-10; }
FERRET_BIN="$LOCAL/bin/ferretdb-$FERRET_VERSION-$(patch_set)"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {  # port seconds name
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    if port_open "$1"; then return 0; fi
    sleep 0.2
  done
  log "$3 did not answer on 127.0.0.1:$1 within $2 s"; return 1
}

apt_install() {  # package...
  log "installing $* from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$LOCAL/logs/apt-update.log" 2>&1 || { cat "$LOCAL/logs/apt-update.log" >&2; return 1; }
  apt-get install -y -qq "$@" >"$LOCAL/logs/apt-$1.log" 2>&1 || { tail -20 "$LOCAL/logs/apt-$1.log" >&2; return 1; }
}

# -- RabbitMQ ---------------------------------------------------------------------------------
# Loopback only: AMQP listener, Erlang distribution and epmd.
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$AMQP_PORT"
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"

install_rabbitmq() {
  command -v rabbitmq-server >/dev/null 2>&1 && return 0
  apt_install rabbitmq-server
}

start_rabbitmq() {
  # A broker that listens is running (a slow `rabbitmqctl status` on a loaded machine must
  # not make this checkout "start" it and so stop the shared broker at `down`).
  if port_open "$AMQP_PORT"; then
    log "rabbitmq already running on 127.0.0.1:$AMQP_PORT"; return 0
  fi
  install_rabbitmq
  if ! rabbitmqctl -q status >/dev/null 2>&1; then
    log "starting rabbitmq"
    rabbitmq-server -detached >>"$LOCAL/logs/rabbitmq-start.log" 2>&1
    touch "$LOCAL/run/rabbitmq.started"
  fi
  # `-detached` returns before the Erlang node has registered with epmd, and
  # `await_startup` fails at once on a node that is not there yet: wait for it first.
  local i
  for ((i = 0; i < 600; i++)); do
    rabbitmqctl -q ping >/dev/null 2>&1 && break
    sleep 0.2
  done
  if ! rabbitmqctl -q await_startup --timeout 120 >/dev/null; then
    log "rabbitmq did not start; its logs follow"
    tail -30 "$LOCAL/logs/rabbitmq-start.log" >&2 || true
    tail -40 /var/log/rabbitmq/rabbit@"$(hostname -s)".log >&2 2>/dev/null || true
    return 1
  fi
  # an application stopped by a test (`stop_app`) is started again
  port_open "$AMQP_PORT" || rabbitmqctl -q start_app
  wait_port "$AMQP_PORT" 60 rabbitmq
}

# -- PostgreSQL (a private cluster: loopback, own port and socket directory, password) --------
pg_bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}

# PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user
# (created by Debian's package), which owns PG_DIR.
as_pg() {
  # from / : the checkout itself may be closed to that user (see resolve_pg_dir)
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

install_postgresql() {
  pg_bindir >/dev/null && return 0
  apt_install postgresql
  pg_bindir >/dev/null || die "the postgresql package installed no pg_ctl"
}

pg_password() { cat "$PG_DIR/password"; }

# As root the cluster belongs to `postgres`, who must reach PG_DIR. When a parent directory of
# the checkout is closed to that user (e.g. a workspace under a 0700 home) and PG_DIR was not
# given, the cluster and its log live in postgres's own home instead, one per checkout.
resolve_pg_dir() {
  [ "$(id -u)" = 0 ] && [ -z "$PG_DIR_GIVEN" ] || return 0
  id postgres >/dev/null 2>&1 || return 0
  runuser -u postgres -- test -x "$LOCAL" 2>/dev/null && return 0
  local home
  home="$(getent passwd postgres | cut -d: -f6)"
  PG_DIR="${home:-/var/lib/postgresql}/crm-$(printf '%s' "$ROOT" | sha256sum | cut -c1-8)"
  PG_LOG="$PG_DIR/postgresql.log"
  mkdir -p "$PG_DIR"
  chown postgres: "$PG_DIR"
}

init_postgresql() {
  local bin="$1"
  mkdir -p "$PG_DIR/run"
  touch "$PG_LOG"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "no postgres user (it comes with Debian's postgresql package)"
    chown postgres: "$PG_DIR" "$PG_DIR/run" "$PG_LOG"
    as_pg test -w "$PG_DIR/run" \
      || die "the postgres user cannot write $PG_DIR (a parent directory is closed to it); set PG_DIR"
  fi
  chmod 700 "$PG_DIR" "$PG_DIR/run"
  [ -f "$PG_DIR/data/PG_VERSION" ] && return 0
  log "creating the PostgreSQL cluster in $PG_DIR/data"
  rm -rf "$PG_DIR/data"
  (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$PG_DIR/password")
  if [ "$(id -u)" = 0 ]; then chown postgres: "$PG_DIR/password"; fi
  as_pg "$bin/initdb" --pgdata="$PG_DIR/data" --username="$PG_USER" --pwfile="$PG_DIR/password" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-instructions \
    >"$LOCAL/logs/postgresql-initdb.log" 2>&1 \
    || { tail -20 "$LOCAL/logs/postgresql-initdb.log" >&2; return 1; }
}

start_postgresql() {
  install_postgresql
  resolve_pg_dir
  local bin; bin="$(pg_bindir)"
  init_postgresql "$bin"
  if as_pg "$bin/pg_ctl" --pgdata="$PG_DIR/data" status >/dev/null 2>&1; then
    log "PostgreSQL already running on 127.0.0.1:$PG_PORT"
  else
    port_open "$PG_PORT" && die "127.0.0.1:$PG_PORT is taken by another server; set PG_PORT"
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT (cluster in $PG_DIR/data)"
    # synchronous_commit=off: a crash may lose the last commits, never consistency
    as_pg "$bin/pg_ctl" --pgdata="$PG_DIR/data" --log="$PG_LOG" --wait --timeout=120 \
      -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories='$PG_DIR/run'" \
      -o "-c synchronous_commit=off -c max_connections=200" start >/dev/null \
      || { tail -20 "$PG_LOG" >&2; return 1; }
  fi
  wait_port "$PG_PORT" 60 postgresql
  local has
  has="$(PGPASSWORD="$(pg_password)" "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'")"
  if [ "$has" != 1 ]; then
    PGPASSWORD="$(pg_password)" "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -q \
      -c "CREATE DATABASE $PG_DATABASE"
  fi
}

stop_postgresql() {
  local bin
  bin="$(pg_bindir)" || return 0
  resolve_pg_dir
  [ -f "$PG_DIR/data/PG_VERSION" ] || return 0
  if as_pg "$bin/pg_ctl" --pgdata="$PG_DIR/data" status >/dev/null 2>&1; then
    log "stopping PostgreSQL"
    as_pg "$bin/pg_ctl" --pgdata="$PG_DIR/data" --mode=fast --wait stop >/dev/null
  fi
}

# -- FerretDB -----------------------------------------------------------------------------------
build_ferretdb() {
  [ -x "$FERRET_BIN" ] && return 0
  command -v go >/dev/null 2>&1 || { log "go is required to build FerretDB"; return 1; }
  log "building FerretDB $FERRET_VERSION from the Go module proxy with scripts/ferretdb/*.patch"
  # `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds, but the binary
  # panics at start because build/version/version.txt is generated by FerretDB's own
  # release tooling and is absent from the module. We take the same module from the
  # proxy, add that one file, apply our reviewed patches and build it as the main module.
  # Only the module proxy is used (checksums from its go.sum and the proxied sum database);
  # with a filled module cache the build runs offline.
  export GOPROXY="${FERRET_GOPROXY:-https://proxy.golang.org}" GOFLAGS="-mod=readonly -buildvcs=false" \
    GOTOOLCHAIN=local CGO_ENABLED=0
  local dir src p
  dir="$(go mod download -json "github.com/FerretDB/FerretDB@$FERRET_VERSION" \
        | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -n "$dir" ] || { log "go mod download gave no directory"; return 1; }
  src="$LOCAL/build/ferretdb-src"
  rm -rf "$src"; mkdir -p "$LOCAL/build"; cp -r "$dir" "$src"; chmod -R u+w "$src"
  echo "$FERRET_VERSION" >"$src/build/version/version.txt"
  for p in "$PATCH_DIR"/*.patch; do
    # the ceiling keeps git from taking the source for part of this repository
    (cd "$src" && GIT_CEILING_DIRECTORIES="$LOCAL/build" git apply --whitespace=nowarn "$p") \
      || { log "$(basename "$p") does not apply to FerretDB $FERRET_VERSION"; return 1; }
  done
  (cd "$src" && go build -trimpath -o "$FERRET_BIN.tmp" ./cmd/ferretdb) \
    >"$LOCAL/logs/ferretdb-build.log" 2>&1 || { tail -30 "$LOCAL/logs/ferretdb-build.log" >&2; return 1; }
  mv "$FERRET_BIN.tmp" "$FERRET_BIN"
  rm -rf "$src"
  find "$LOCAL/bin" -maxdepth 1 -name "ferretdb-$FERRET_VERSION-*" ! -path "$FERRET_BIN" -delete
}

start_ferretdb() {
  if port_open "$FERRET_PORT"; then
    log "a MongoDB-protocol server already answers on 127.0.0.1:$FERRET_PORT"; return 0
  fi
  build_ferretdb
  local args=(--listen-addr="127.0.0.1:$FERRET_PORT" --debug-addr=127.0.0.1:0
              --state-dir="$LOCAL/ferretdb" --telemetry=disable --log-level=warn)
  if [ "$FERRETDB_BACKEND" = postgresql ]; then
    start_postgresql
    log "starting FerretDB (PostgreSQL backend, cluster in $PG_DIR/data)"
    # the URL carries the password: through the environment, not the command line
    FERRETDB_POSTGRESQL_URL="postgres://$PG_USER:$(pg_password)@127.0.0.1:$PG_PORT/$PG_DATABASE" \
      nohup "$FERRET_BIN" --handler=postgresql "${args[@]}" >>"$LOCAL/logs/ferretdb.log" 2>&1 &
  else
    log "starting FerretDB (SQLite backend, data in .local/ferretdb/data)"
    nohup "$FERRET_BIN" --handler=sqlite --sqlite-url="file:$LOCAL/ferretdb/data/" "${args[@]}" \
      >>"$LOCAL/logs/ferretdb.log" 2>&1 &
  fi
  echo $! >"$LOCAL/run/ferretdb-$FERRET_PORT.pid"
  wait_port "$FERRET_PORT" 60 ferretdb
}

stop_ferretdb() {
  local f pid
  for f in "$LOCAL"/run/ferretdb*.pid; do
    [ -f "$f" ] || continue
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then log "stopping FerretDB ($pid)"; kill "$pid"; fi
    rm -f "$f"
  done
}

# The project's own RabbitMQ user (never guest): one per checkout, so several checkouts can
# share one broker without changing each other's password. Its name and a generated password
# are kept in .local/rabbitmq.json (mode 0600), read by devstack/broker.py (make run, tests).
BROKER_CREDS="$LOCAL/rabbitmq.json"
ensure_broker_user() {
  local user pass
  if [ -f "$BROKER_CREDS" ]; then
    user="$(sed -n 's/.*"user": *"\([^"]*\)".*/\1/p' "$BROKER_CREDS")"
    pass="$(sed -n 's/.*"password": *"\([^"]*\)".*/\1/p' "$BROKER_CREDS")"
  fi
  if [ -z "${user:-}" ] || [ -z "${pass:-}" ]; then
    user="crm-$(printf '%s' "$ROOT" | sha256sum | cut -c1-8)"
    pass="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
    (umask 077; printf '{"user": "%s", "password": "%s"}\n' "$user" "$pass" >"$BROKER_CREDS")
  fi
  chmod 600 "$BROKER_CREDS"
  # the password goes through stdin, never the command line (ps)
  local users; users="$(rabbitmqctl -q list_users | cut -f1)"
  if grep -qx -- "$user" <<<"$users"; then
    printf '%s' "$pass" | rabbitmqctl -q authenticate_user "$user" >/dev/null 2>&1 \
      || printf '%s' "$pass" | rabbitmqctl -q change_password "$user" >/dev/null
  else
    log "creating the broker user $user (credentials in .local/rabbitmq.json)"
    printf '%s' "$pass" | rabbitmqctl -q add_user "$user" >/dev/null
  fi
  rabbitmqctl -q set_permissions -p / "$user" ".*" ".*" ".*" >/dev/null
}

up() {
  if [ -n "${AMQP_URI:-}" ] && [ -n "${MONGO_URI:-}" ]; then
    log "AMQP_URI and MONGO_URI are given: starting nothing"; return 0
  fi
  [ -n "${AMQP_URI:-}" ] || { start_rabbitmq && ensure_broker_user; }
  [ -n "${MONGO_URI:-}" ] || start_ferretdb
  log "ready: amqp://<.local/rabbitmq.json>@127.0.0.1:$AMQP_PORT/ ${MONGO_URI:-mongodb://127.0.0.1:$FERRET_PORT/}"
}

down() {
  stop_ferretdb
  stop_postgresql
  if [ -f "$LOCAL/run/rabbitmq.started" ]; then
    log "stopping rabbitmq"; rabbitmqctl -q stop >/dev/null 2>&1 || true
    rm -f "$LOCAL/run/rabbitmq.started"
  fi
}

status() {
  port_open "$AMQP_PORT" && echo "rabbitmq: up (127.0.0.1:$AMQP_PORT)" || echo "rabbitmq: down"
  port_open "$FERRET_PORT" && echo "mongodb-protocol: up (127.0.0.1:$FERRET_PORT)" || echo "mongodb-protocol: down"
  port_open "$PG_PORT" && echo "postgresql: up (127.0.0.1:$PG_PORT)" || echo "postgresql: down"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) status ;;
  build) build_ferretdb ;;
  binary) build_ferretdb && echo "$FERRET_BIN" ;;
  *) echo "usage: $0 up|down|status|build|binary" >&2; exit 2 ;;
esac
