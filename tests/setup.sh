#!/usr/bin/env bash
# Installs what the test fixtures start (s3rver 3.7.1 for the S3 store's tests) from the committed npm lock
# file: `npm ci` in tests/emulators when node_modules is missing or older than the lock file.
# tests/run-tests.sh runs this first; run it by hand before `dotnet test` on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/emulators"
command -v node >/dev/null || { echo "tests/setup.sh: node is not installed (the S3 tests run s3rver on Node.js)" >&2; exit 1; }
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ ! -f node_modules/s3rver/bin/s3rver.js ]; then
  npm ci --no-audit --no-fund
fi
