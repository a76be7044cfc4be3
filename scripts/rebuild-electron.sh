#!/usr/bin/env bash
# Builds better-sqlite3 for Electron's ABI into .electron-native/, apart from the Node build in
# node_modules that the tests and the CLI load, so neither build overwrites the other.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node -p "require('electron/package.json').version")
rm -rf .electron-native/better-sqlite3
mkdir -p .electron-native
cp -r node_modules/better-sqlite3 .electron-native/better-sqlite3
rm -rf .electron-native/better-sqlite3/build
cd .electron-native/better-sqlite3
npx --no-install node-gyp rebuild --release --runtime=electron --target="$version" \
  --dist-url=https://electronjs.org/headers
