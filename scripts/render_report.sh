#!/usr/bin/env bash
# Renders a run's report.html (or any page Stratum writes, e.g. a sweep's compare.html) in
# headless Chromium (Debian's `chromium`, installed when missing) and checks that it loaded: a
# screenshot and a DOM dump come back, and the DOM holds the page's charts.
# Usage: scripts/render_report.sh RUN_DIR|PAGE.html [SCREENSHOT.png]
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: scripts/render_report.sh RUN_DIR|PAGE.html [SCREENSHOT.png]" >&2
  exit 2
fi
if [ -f "$1" ] && [[ "$1" == *.html ]]; then
  report="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
  shot="${2:-${report%.html}.png}"
  min_charts=2   # a comparison draws at least training loss and throughput
else
  run="$(cd "$1" 2>/dev/null && pwd)" || { echo "render_report: $1: no such run directory or page" >&2; exit 2; }
  report="$run/report.html"
  [ -f "$report" ] || { echo "render_report: $report: missing (write it with: stratum report --run $run)" >&2; exit 2; }
  shot="${2:-$run/report.png}"
  min_charts=3
fi

if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "render_report: installing chromium"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium
fi

flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --user-data-dir="$(mktemp -d)")
# No network for the page: any remote fetch would fail visibly rather than silently succeed.
flags+=(--proxy-server=127.0.0.1:9 --proxy-bypass-list='<-loopback>')
dom="$(mktemp)"
chromium "${flags[@]}" --dump-dom "file://$report" > "$dom" 2>/dev/null
chromium "${flags[@]}" --window-size=1400,3200 --screenshot="$shot" "file://$report" >/dev/null 2>&1

charts=$(grep -o '<svg ' "$dom" | wc -l)
bytes=$(stat -c %s "$shot" 2>/dev/null || echo 0)
rm -f "$dom"
if [ "$charts" -lt "$min_charts" ] || [ "$bytes" -lt 20000 ]; then
  echo "render_report: FAILED: $charts charts in the rendered DOM, screenshot $bytes bytes" >&2
  exit 1
fi
echo "render_report: $report rendered: $charts charts in the DOM; screenshot $shot ($bytes bytes)"
