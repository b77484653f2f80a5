#!/usr/bin/env bash
# Renders public/icon.svg to the PNG sizes the web manifest names, with headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
browser="${CHROMIUM_PATH:-/usr/bin/chromium}"
for size in 192 512; do
  html="$(mktemp --suffix=.html)"
  printf '<html><body style="margin:0"><img src="file://%s/public/icon.svg" width="%s" height="%s"></body></html>' "$PWD" "$size" "$size" >"$html"
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --default-background-color=00000000 \
    --window-size="$size,$size" --screenshot="public/icon-$size.png" "file://$html" 2>/dev/null
  rm -f "$html"
done
