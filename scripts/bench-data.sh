#!/usr/bin/env bash
# Benchmarks of volume data (issue 3), in one run: the verifier against
# sha256sum on the same bytes, CreateSnapshot cost against data written, and
# the data plane with and without a pending snapshot. See docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d)"

echo "== verifier (criterion) =="
cargo bench -q -p snaplab-workload --bench verifier -- --noplot 2>&1 | grep -E 'verify/|time:|thrpt:'
echo "== sha256sum on the same bytes =="
for f in target/bench/verifier-image-512.bin target/bench/verifier-image-4096.bin; do
  size=$(stat -c %s "$f")
  hyperfine -N --warmup 2 --runs 15 --export-json /tmp/sha.json "sha256sum $f" >/dev/null
  python3 -c "import json,sys; m=json.load(open('/tmp/sha.json'))['results'][0]['median']; print(f'$f: {$size/1e6:.0f} MB, sha256sum median {m*1000:.1f} ms = {$size/m/1e6:.0f} MB/s')"
done

echo "== CreateSnapshot in the model (criterion) =="
cargo bench -q -p snaplab-emulator --bench create_snapshot -- --noplot 2>&1 | grep -E 'create_snapshot/|time:'

echo "== data plane over HTTP =="
cargo bench -q -p snaplab-cloud --bench data_plane
