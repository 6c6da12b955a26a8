#!/usr/bin/env bash
# Opt-in: the whole lab against LocalStack started on this host (no Docker),
# with PEERS.md's recipe. Installs LocalStack into .venv-localstack once.
set -euo pipefail
cd "$(dirname "$0")/.."

py313=${PY313:-$HOME/.pyenv/versions/3.13.0/bin/python3}
venv=.venv-localstack
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import localstack' 2>/dev/null; then
  [ -x "$py313" ] || { echo "LocalStack 2026.3 needs Python 3.13 (set PY313=/path/to/python3.13)" >&2; exit 2; }
  echo "installing localstack-core 2026.3.0 into $venv (a few minutes, once)" >&2
  "$py313" -m venv "$venv"
  "$venv/bin/pip" install -q "localstack-core[runtime]==2026.3.0"
  "$venv/bin/pip" install -q "cbor2<6" "pyopenssl<25" "cryptography<45" service-identity
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
work=$(mktemp -d)
GATEWAY_SERVER=hypercorn GATEWAY_LISTEN=127.0.0.1:$port DNS_ADDRESS=0 DISABLE_EVENTS=1 \
  SKIP_SSL_CERT_DOWNLOAD=1 LOCALSTACK_VOLUME_DIR="$work/localstack" \
  "$venv/bin/python" -m localstack.runtime.main > "$work/localstack.log" 2>&1 &
ls_pid=$!
stop() {
  kill -TERM "$ls_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$ls_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$ls_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap stop EXIT

for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/_localstack/health" >/dev/null && break
  kill -0 "$ls_pid" 2>/dev/null || { cat "$work/localstack.log" >&2; echo "LocalStack died" >&2; exit 1; }
  sleep 0.1
done
echo "LocalStack is up on 127.0.0.1:$port" >&2

./target/debug/snaplab run --endpoint "http://127.0.0.1:$port" --db "$work/snaplab.db" --json > "$work/events.jsonl"
status=$?
python3 - "$work/events.jsonl" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
started, finished = events[0], events[-1]
checks = [e for e in events if e["event"] == "check_result"]
assert started["context"]["target"]["kind"] == "localstack", started["context"]["target"]
assert started["context"]["target"]["shadow_disk"] is True
assert finished["event"] == "run_finished" and finished["outcome"] == "passed", finished
print(f"LocalStack: run {finished['run_id']} passed, {len(checks)} checks, {sum(c['passed'] for c in checks)} passed")
PY
exit $status
