#!/usr/bin/env bash
# The .deb, checked as a user would meet it: extracted into a throwaway root
# (dpkg-deb -x), its declared Debian dependencies covering every library the
# app links, the desktop entry there, the CLI answering, and the installed
# app opening its window headless (tests/gui/installed.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bundle.sh --debug >/dev/null
deb=$(ls -t target/debug/bundle/deb/*.deb | head -1)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"
depends=$(dpkg-deb -f "$deb" Depends)
echo "$deb: Depends: $depends"
fail=0
app="$root/usr/bin/snaplab-app"
[ -x "$app" ] || { echo "FAIL no /usr/bin/snaplab-app in $deb"; exit 1; }
# Every library the app links directly comes from a declared package (or from libc/libgcc, always there).
cache=$(ldconfig -p)
for lib in $(readelf -d "$app" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'); do
  path=$(awk -v l="$lib" '$1 == l && /x86-64/ {print $NF; exit}' <<<"$cache")
  # dpkg knows a file by the path its package installed (/lib or /usr/lib, merged-usr or not).
  pkg=$( (dpkg -S "$path" || dpkg -S "$(readlink -f "$path")") 2>/dev/null | cut -d: -f1 | head -1) || true
  case "$pkg" in
    libc6|libgcc-s1) ;;
    *) grep -qw -- "$pkg" <<<"$depends" || { echo "FAIL $lib (from $pkg) is not in Depends"; fail=1; } ;;
  esac
done
ls "$root"/usr/share/applications/*.desktop >/dev/null || { echo "FAIL no desktop entry"; fail=1; }
"$root/usr/bin/snaplab" --version | grep -q '^snaplab ' || { echo "FAIL the packaged snaplab CLI does not answer"; fail=1; }
xvfb-run -a -s "-screen 0 1280x860x24" node tests/gui/installed.mjs "$app" || fail=1
exit $fail
