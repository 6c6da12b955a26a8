#!/usr/bin/env bash
# Benchmarks snaplab's emulator beside moto in one run (see docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
moto=$(command -v moto_server || true)
if [ -z "$moto" ]; then
  [ -x .venv-peers/bin/moto_server ] || { python3 -m venv .venv-peers && .venv-peers/bin/pip install -q 'moto[server]==5.2.*'; }
  moto=$PWD/.venv-peers/bin/moto_server
fi
cargo build --release --bin snaplab
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d); moto $("$moto" --version 2>/dev/null || python3 -c 'import moto; print(moto.__version__)')"
python3 scripts/bench_emulator.py "$PWD/target/release/snaplab" "$moto"
