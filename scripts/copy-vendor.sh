#!/usr/bin/env bash
# Copy the front-end packages installed by npm into static/vendor, which git ignores,
# and build Pico from its Sass with the modules Waypoint uses (static/scss/pico.scss).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p static/vendor
cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
# The QR decoder of the badge scan page where the browser has no BarcodeDetector.
cp node_modules/jsqr/dist/jsQR.js static/vendor/jsQR.js
node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps \
  --load-path=node_modules static/scss/pico.scss static/vendor/pico.min.css
