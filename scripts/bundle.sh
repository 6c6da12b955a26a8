#!/usr/bin/env bash
# Packages the desktop app as a .deb with Tauri's bundler (the CLI pinned in
# ui/package.json), with the `snaplab` CLI beside it in /usr/bin.
#   scripts/bundle.sh           release build, then target/release/bundle/deb/*.deb
#   scripts/bundle.sh --debug   the debug build `make app` made (what `make test` checks)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
cargo_flags=(--release)
tauri_flags=()
if [ "${1:-}" = "--debug" ]; then
  profile=debug
  cargo_flags=()
  tauri_flags=(--debug)
fi
# The whole workspace, as `make app` builds it: the same features, so nothing is built twice.
cargo build "${cargo_flags[@]}" --workspace
# Paths in the bundler's config are relative to src-tauri/.
files="{\"bundle\":{\"linux\":{\"deb\":{\"files\":{\"/usr/bin/snaplab\":\"../target/$profile/snaplab\"}}}}}"
rm -rf "target/$profile/bundle/deb"
ui/node_modules/.bin/tauri bundle "${tauri_flags[@]}" --bundles deb --config "$files" --ci
ls target/$profile/bundle/deb/*.deb
