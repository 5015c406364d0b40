#!/usr/bin/env bash
# Install the dashboard's pinned npm packages from dashboard/package-lock.json (htmx.org to vendor,
# axe-core for the browser tests only) and copy the vendored file into dashboard/static/.
# The copied file is committed, so running the dashboard needs neither npm nor this script.
set -euo pipefail
cd "$(dirname "$0")/../dashboard"
npm ci --ignore-scripts --no-audit --no-fund --silent
cp node_modules/htmx.org/dist/htmx.min.js static/dashboard/vendor/htmx.min.js
echo "vendored htmx.org $(node -p 'require("./node_modules/htmx.org/package.json").version')"
