#!/usr/bin/env bash
# Install what the test suite needs from Debian when it is missing:
# Chromium (browser tests), PostgreSQL 15 (database tests), Redis (the job queue's
# Redis tests; the default install needs no Redis) and what printed reports need.
set -uo pipefail

# `install-system-deps.sh reports` (make run): only what the portal itself needs.
need=()
if [ "${1:-all}" != "reports" ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
fi
# Printed reports (WeasyPrint): Pango, and fonts with the accents and emoji the portal uses;
# pdftotext for reading a report back.
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    fonts-noto-color-emoji poppler-utils; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing from Debian: ${need[*]}"
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || echo "apt-get update failed; trying the install anyway"
if ! $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" fonts-liberation >/dev/null; then
  echo "WARNING: could not install ${need[*]}; the tests that need them will say so and skip." >&2
fi
exit 0
