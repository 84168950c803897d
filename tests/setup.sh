#!/usr/bin/env bash
# Installs what the test fixtures start from the committed npm lock file (tests/emulators/package-lock.json):
# s3rver 3.7.1 for the S3 store's tests, and kinesis-local 0.6.2 (kinesis-mock) and kinesalite 3.3.3 for the Kinesis
# tests. Runs `npm ci` in tests/emulators when node_modules is missing or older than the lock file, when an emulator's
# entry point is missing, or when kinesalite (with its LevelDB binding, leveldown) does not load.
# leveldown's install script (node-gyp-build) is not run by npm 11 unless allowed; it is not needed: leveldown ships
# prebuilt bindings (linux-x64 among them) that node-gyp-build loads at run time, and the check below proves it.
# Also makes sure native AOT can link, and that Debian's Chromium is there for the browser tests (see below).
# tests/run-tests.sh runs this first; run it by hand before `dotnet test` on a fresh clone.
set -euo pipefail

# Native AOT (the Lambda host's tests publish the bootstrap with PublishAot): ILCompiler links with clang, or with gcc
# when no `clang` is on PATH, and strips symbols with llvm-objcopy or objcopy. .NET 10 links its own zlib (libz.a from
# the runtime pack; UseSystemZlib is off), so zlib1g-dev is not needed. Install clang from Debian only when no linker is
# there at all (this machine has gcc and clang-14).
have_linker() {
  command -v clang >/dev/null || command -v gcc >/dev/null || compgen -c clang- | grep -qE '^clang-[0-9]+$'
}
if ! have_linker || ! { command -v objcopy >/dev/null || command -v llvm-objcopy >/dev/null; }; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y --no-install-recommends clang llvm
fi

# The dashboard's browser tests (tests/Retail.Hosting.Dashboard.Tests) drive Debian's Chromium through Playwright for
# .NET: Playwright's own browser download does not work here, so the tests launch /usr/bin/chromium.
if [ ! -x /usr/bin/chromium ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
fi

cd "$(dirname "$0")/emulators"
command -v node >/dev/null || { echo "tests/setup.sh: node is not installed (the S3 and Kinesis tests run s3rver, kinesis-mock and kinesalite on Node.js)" >&2; exit 1; }

# kinesalite and its LevelDB binding load (leveldown is what kinesalite opens for an on-disk store).
loads() {
  node -e "
    const path = require('path'), dir = path.join(process.cwd(), 'node_modules');
    require(path.join(dir, 'kinesalite'));
    require(require.resolve('leveldown', { paths: [path.join(dir, 'kinesalite')] }));
  " >/dev/null 2>&1
}

stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] \
  || [ ! -f node_modules/s3rver/bin/s3rver.js ] \
  || [ ! -f node_modules/kinesis-local/main.js ] || [ ! -f node_modules/kinesis-local/server.json ] \
  || [ ! -f node_modules/kinesalite/index.js ] || ! loads; then
  npm ci --no-audit --no-fund
  loads || { echo "tests/setup.sh: kinesalite or its LevelDB binding (leveldown) does not load after npm ci" >&2; exit 1; }
fi
