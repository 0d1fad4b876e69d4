#!/usr/bin/env bash
# The browser tests (test/*.browser.test.ts) drive Debian's Chromium through playwright-core; they
# never download a browser of their own. Installs it when /usr/bin/chromium is missing (needs root,
# as on CI; elsewhere run it with sudo once).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
