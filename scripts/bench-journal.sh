#!/usr/bin/env bash
# The emulator with a state directory (every change journaled): this build
# beside another revision's, in one run (see docs/benchmarks.md).
#   scripts/bench-journal.sh [REV]
# REV defaults to 7008c93, the last commit whose requests wrote the journal
# themselves, under the model's lock. It is built in a worktree of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-7008c93}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
base=/tmp/snaplab-bench-$rev
[ -d "$base" ] || git worktree add -f "$base" "$rev" >/dev/null
(cd "$base" && CARGO_TARGET_DIR="$base-target" cargo build --release --bin snaplab)
cargo build --release --bin snaplab
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d); $rev vs $(git rev-parse --short HEAD)"
python3 scripts/bench_journal.py "$rev=$base-target/release/snaplab" "now=$PWD/target/release/snaplab"
