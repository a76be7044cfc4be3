#!/usr/bin/env bash
# npm test: build, type check, lint, the Vitest suites and the Playwright specs, in that order.
set -euo pipefail
cd "$(dirname "$0")/.."
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
echo "== build"; npm run build --silent
echo "== type check"; npx tsc -b tsconfig.json
echo "== lint"; npx eslint .
# Fails on any finding README "Electron checks" does not justify (issue 13).
echo "== Electron checks (Electronegativity)"; node scripts/electronegativity.mjs
echo "== unit and integration (Vitest)"; bash scripts/with-keyring.sh npx vitest run
# Again with every process's clock 400 days ahead (libfaketime, inherited by the CLI children):
# a test that only passes near the day it was written fails here, not a week later on main.
echo "== unit and integration, a year ahead (faketime +400 days)"
bash scripts/with-keyring.sh faketime '+400 days' npx vitest run
echo "== end-to-end (Playwright)"; bash scripts/with-keyring.sh npx playwright test
