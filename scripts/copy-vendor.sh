#!/usr/bin/env bash
# Copy the front-end packages installed by npm into static/vendor, which git ignores.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p static/vendor
cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
cp node_modules/@picocss/pico/css/pico.classless.min.css static/vendor/pico.classless.min.css
