#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server: Debian's package
# (installed if missing), a fresh cluster in a temp directory on a free
# loopback port, trust auth, no fsync, TLS on (self-signed). The command sees its URL in
# SNAPLAB_TEST_POSTGRES; the server is stopped and its directory removed
# when the command ends, however it ends.
#   scripts/with-postgres.sh cargo nextest run -p snaplab-store
set -euo pipefail
log() { echo "with-postgres: $*" >&2; }

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  log "installing Debian's postgresql package"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

dir=$(mktemp -d /tmp/snaplab-pg-XXXXXX)
# PostgreSQL refuses to run as root: as root, the cluster belongs to the
# package's postgres user.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" -ne 0 ] || chown postgres "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

stop() {
  as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

as_owner "$bin/initdb" -D "$dir/data" -U snaplab --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
# TLS with a certificate of its own, as a class's server may require (sslmode=require).
as_owner openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -keyout "$dir/data/server.key" -out "$dir/data/server.crt" >/dev/null 2>&1
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 -c ssl=on" start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 1; }
export SNAPLAB_TEST_POSTGRES="postgres://snaplab@127.0.0.1:$port/postgres"
log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') at $SNAPLAB_TEST_POSTGRES (stopped afterwards)"
# The command runs in the background so that a signal reaches this script at
# once: it is passed on, and the EXIT trap stops the server.
"$@" &
child=$!
trap 'kill -INT "$child" 2>/dev/null; exit 130' INT
trap 'kill -TERM "$child" 2>/dev/null; exit 143' TERM
wait "$child"
