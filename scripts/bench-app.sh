#!/usr/bin/env bash
# The desktop app's benchmarks under Xvfb: cold start, idle memory, frame time.
# Builds the app first (make app). Figures go to stdout; see docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s app >/dev/null
xvfb-run -a -s "-screen 0 1280x860x24" node tests/gui/bench.mjs target/debug/snaplab-app
