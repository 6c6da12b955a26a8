#!/usr/bin/env bash
# The whole lab at pace instant: wall time, peak memory, and what recording
# into SQLite costs (the same run with and without the recorder, side by side).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
cargo build -q --release --bin snaplab
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
bin=$PWD/target/release/snaplab
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d)"
hyperfine -N --warmup 2 --runs 15 --export-json "$work/h.json" \
  -n recorded "$bin run --pace instant --db $work/rec.db" \
  -n unrecorded "$bin run --pace instant --db $work/norec.db --no-record" >/dev/null
python3 - "$work" "$bin" <<'PY'
import json, resource, statistics, subprocess, sys
work, bin_ = sys.argv[1], sys.argv[2]
r = {x["command"]: x for x in json.load(open(f"{work}/h.json"))["results"]}
rec, norec = r["recorded"]["median"], r["unrecorded"]["median"]
peaks = []
for _ in range(5):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([bin_, "run", "--pace", "instant", "--db", f"{work}/peak.db"], stdout=subprocess.DEVNULL, check=True)
    peaks.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
print("| measure | value | goal |")
print("|---|---|---|")
print(f"| whole lab, pace instant, recorded (median of 15) | {rec:.2f} s | < 3 s |")
print(f"| the same without recording (median of 15) | {norec:.2f} s | |")
print(f"| recording's share | {100 * (rec - norec) / norec:+.1f}% | < 10% |")
print(f"| peak resident memory (largest of 5 runs) | {max(peaks):.1f} MiB | < 60 MB |")
print()
print("recorded runs (s):", ", ".join(f"{t:.2f}" for t in r["recorded"]["times"]))
print("unrecorded runs (s):", ", ".join(f"{t:.2f}" for t in r["unrecorded"]["times"]))
PY
