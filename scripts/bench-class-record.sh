#!/usr/bin/env bash
# A class's record: N learners' runs recording into their own files, then also
# into one PostgreSQL class database, side by side (see docs/benchmarks.md).
#   scripts/bench-class-record.sh [N] [REPEATS]     (default 30 learners, 3 repeats)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release --bin snaplab
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d)"
scripts/with-postgres.sh python3 scripts/bench_class_record.py "$PWD/target/release/snaplab" "${1:-30}" "${2:-3}"
