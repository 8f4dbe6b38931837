#!/usr/bin/env bash
# Debian packages some tests (and bench/api.py) need. Installs what is missing when it
# can (root with apt-get); otherwise says which tests will skip. Never downloads anything else.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
command -v msgfmt >/dev/null || need+=(gettext)
command -v docker-compose >/dev/null || need+=(docker-compose)
ldconfig -p 2>/dev/null | grep -q "libpango-1.0" || need+=(libpango-1.0-0 libpangoft2-1.0-0)  # weasyprint: receipts as PDF
command -v wrk >/dev/null || need+=(wrk)  # bench/api.py loads the server with it

[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "Not installing ${need[*]} (needs root and apt-get): the tests using them will skip."
fi
