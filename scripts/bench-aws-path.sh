#!/usr/bin/env bash
# A whole real-AWS-path run (`snaplab run --aws --yes`) against the emulator
# acting as AWS (`snaplab emulator --run-commands`), RUNS times at each pace:
# wall times and medians. Debug build, as `make test` builds it. Also the
# longest CreateSnapshot and TerminateInstances calls of the last run (the
# stand-in reads the sandboxed volume files then), from the run's record.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
cargo build -q --bin snaplab
bin=$PWD/target/debug/snaplab
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d), debug build"
echo "| emulator pace | runs (s) | median |"
echo "|---|---|---|"
for pace in instant demo; do
  times=()
  for i in $(seq "$RUNS"); do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$bin" emulator --bind "127.0.0.1:$port" --pace "$pace" --run-commands "$work/sbx-$pace-$i" >/dev/null 2>&1 &
    emu=$!
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/_snaplab/health" >/dev/null && break; sleep 0.1; done
    start=$(date +%s.%N)
    env -u AWS_PROFILE AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
      AWS_REGION=us-east-1 SNAPLAB_FORBID_REAL_AWS=1 NO_PROXY=127.0.0.1 \
      "$bin" run --aws --yes --db "$work/$pace-$i.db" >/dev/null 2>&1
    end=$(date +%s.%N)
    kill "$emu"; wait "$emu" 2>/dev/null || true
    times+=("$(python3 -c "print(f'{$end - $start:.1f}')")")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "| $pace | $(printf "%s, " "${times[@]}" | sed "s/, $//") | $median s |"
done
python3 - "$work/demo-$RUNS.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for op in ("CreateSnapshot", "TerminateInstances"):
    (ms,) = db.execute("SELECT MAX(duration_ms) FROM api_calls WHERE operation = ?", (op,)).fetchone()
    print(f"longest {op} in the last demo run: {ms} ms")
PY
