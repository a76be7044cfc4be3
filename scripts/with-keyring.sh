#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a real, unlocked gnome-keyring, and a
# throwaway HOME so the tests never touch the developer's own keychain or data.
set -euo pipefail
if [ "${CUSTODIAN_KEYRING_SESSION:-}" = "1" ]; then exec "$@"; fi
exec dbus-run-session -- bash -c '
  set -euo pipefail
  export HOME="$(mktemp -d)" CUSTODIAN_KEYRING_SESSION=1
  export XDG_DATA_HOME="$HOME/.local/share" XDG_RUNTIME_DIR="$HOME/.run"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  eval "$(printf pw | gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL
  status=0
  "$@" || status=$?
  rm -rf "$HOME"
  exit $status
' bash "$@"
