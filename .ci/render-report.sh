#!/usr/bin/env bash
# Renders a run's report.html in headless Chromium (Debian's `chromium` package) and fails if the page
# logs anything to the console (script errors, console.error) or references anything outside itself.
#   .ci/render-report.sh RUN_DIR [OUT.png]      # OUT.png: keep the screenshot (1280 px wide)
# A run directory or an .html file. Exit 0: rendered cleanly; 1: console messages, external
# references or no screenshot; 2: usage or chromium missing.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 RUN_DIR|PAGE.html [OUT.png]" >&2
  exit 2
fi
page="$1"
[ -d "$page" ] && page="$page/report.html"
if [ ! -f "$page" ]; then
  echo "render-report: $page: no such file" >&2
  exit 2
fi
page="$(cd "$(dirname "$page")" && pwd)/$(basename "$page")"
browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
  echo "render-report: chromium not found (apt-get install -y chromium)" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="${2:-$work/screenshot.png}"
height="${RENDER_HEIGHT:-4000}"

# 1. Self-contained: every src/href is a data: URI or an in-page anchor. Chromium does not log a
#    failed image load to the console, so this is checked on the file itself.
if grep -Eo '(src|href)="[^"]*"' "$page" | grep -Ev '^(src|href)="(data:|#)' >"$work/refs"; then
  echo "render-report: $page references files or URLs outside itself:" >&2
  sed 's/^/  /' "$work/refs" | head -20 >&2
  exit 1
fi
if grep -Eo "url\\([\"']?(https?:|//)[^)]*\\)" "$page" >"$work/refs"; then
  echo "render-report: $page's style loads URLs:" >&2
  sed 's/^/  /' "$work/refs" | head -20 >&2
  exit 1
fi

# 2. Render. Chromium 156 writes every console message of the page to stderr, whatever its level, as
#    `[pid:tid:date/time:INFO:CONSOLE:<line>] "message", source: <url> (<line>)`; an uncaught
#    exception appears as `"Uncaught ReferenceError: ..."`. The report has no script, so any console
#    line is a failure. Everything else on stderr (D-Bus, GPU, sandbox warnings) is the browser's own.
status=0
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --enable-logging=stderr --v=0 \
  --screenshot="$out" --window-size="1280,$height" "file://$page" \
  >"$work/stdout" 2>"$work/stderr" || status=$?
if [ "$status" -ne 0 ]; then
  echo "render-report: chromium exited with $status" >&2
  tail -n 20 "$work/stderr" >&2
  exit 1
fi
if grep -E ':CONSOLE(\(|:|\])|Uncaught' "$work/stderr" >"$work/console"; then
  echo "render-report: $page logged to the console:" >&2
  sed 's/^/  /' "$work/console" >&2
  exit 1
fi
if [ ! -s "$out" ]; then
  echo "render-report: chromium wrote no screenshot" >&2
  tail -n 20 "$work/stderr" >&2
  exit 1
fi
echo "render-report: $page rendered without console messages ($(stat -c %s "$out") bytes of PNG${2:+ in $out})"
