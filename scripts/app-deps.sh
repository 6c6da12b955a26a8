#!/usr/bin/env bash
# Makes sure what the desktop app needs to build and to be tested is here,
# installing what is missing (idempotently): the WebKitGTK/GTK development
# packages Tauri links against, Xvfb and WebKitWebDriver for the headless GUI
# tests, and the UI's npm packages. (Not dbus-x11: it leaves daemons behind.)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "app-deps: $*" >&2; }

packages=(libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev librsvg2-dev
  libayatana-appindicator3-dev libxdo-dev libssl-dev build-essential pkg-config xvfb xauth
  webkit2gtk-driver imagemagick)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { log "missing ${missing[*]}; install them as root (apt-get install ${missing[*]})"; exit 1; }
    sudo=sudo
  fi
  log "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm ci only when the lock file changed since the last install.
if [ ! -f ui/node_modules/.package-lock.json ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  log "installing the UI's npm packages"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error) >&2
fi
