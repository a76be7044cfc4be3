#!/usr/bin/env bash
# npm run setup: the system packages the app and its tests use, the npm dependencies, the native
# modules built for Node, and the app build. Idempotent: a second run changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  libsecret-1-dev   # keytar's Secret Service binding
  gnome-keyring     # a real Secret Service for the integration tests
  dbus dbus-x11     # dbus-run-session for the keyring; dbus-launch for desktops
  chromium          # the Chromium host and the end-to-end specs
  xvfb xauth        # a real display for screenshots
  sqlite3           # the tamper tests edit the database from the command line
  oathtool          # an independent TOTP implementation for the MFA tests
  zbar-tools        # decodes QR codes in the enrollment tests
  faketime          # npm test runs the Vitest suites a second time with the clock a year ahead
  python3 make g++  # node-gyp builds better-sqlite3 from source
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    echo "setup: install these packages with your system's package manager: ${missing[*]}" >&2
    exit 1
  fi
  SUDO=()
  [ "$(id -u)" -eq 0 ] || SUDO=(sudo)
  echo "setup: installing ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: system packages present"
fi

# Electron's binary is a download that some machines cannot make; the package and its types are
# enough to build, and `npm start` falls back to the Chromium host. Playwright uses the system
# Chromium, so it downloads no browser either.
export ELECTRON_SKIP_BINARY_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

# better-sqlite3's prebuilt download can fail offline; make sure a Node build of it loads.
if ! node -e "new (require('better-sqlite3'))(':memory:').close()" 2>/dev/null; then
  echo "setup: building better-sqlite3 from source for Node"
  (cd node_modules/better-sqlite3 && npx --no-install node-gyp rebuild --release)
fi
node -e "new (require('better-sqlite3'))(':memory:').close()"
node -e "require('@github/keytar')"

npm run build --silent
echo "setup: done"
