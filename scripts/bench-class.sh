#!/usr/bin/env bash
# A class on one emulator: N learners' guided runs at once (pace demo, their
# workloads writing all the time), N = 1 … 30; the emulator's latency, CPU and
# memory for each N (see docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release --bin snaplab
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d)"
python3 scripts/bench_class.py "$PWD/target/release/snaplab" "${@:-1 5 10 20 30}"
