#!/usr/bin/env bash
# Render every PNG of images/art/ (and docs/wiring.png) from its SVG source with rsvg-convert
# (Debian: librsvg2-bin). Edit the SVG, run this, commit both. The screenshots are not
# drawn here: they come from the running apps (see README.md).
set -euo pipefail
cd "$(dirname "$0")"
command -v rsvg-convert >/dev/null ||
  { echo "render.sh: rsvg-convert is missing: apt-get install librsvg2-bin" >&2; exit 1; }

render() {  # SVG PNG WIDTH [HEIGHT]
  rsvg-convert -w "$3" ${4:+-h "$4"} "$1" -o "$2"
  echo "$2"
}

render logo.svg logo.png 512 512
for svg in services/*.svg; do
  render "$svg" "${svg%.svg}.png" 128 128
done
render display-background.svg display-background.png 1920 1080
render ../../docs/wiring.svg ../../docs/wiring.png 1600
