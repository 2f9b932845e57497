#!/usr/bin/env bash
# The README's test command (npm test). Runs every suite against real parts:
# real SQLite files, the real Secret Service (a private gnome-keyring on a private
# D-Bus session, so a developer's own keyring is never touched), real Chromium
# and the real CLI process.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${KEYDESK_TEST_KEYRING:-}" ]; then
  for tool in dbus-run-session gnome-keyring-daemon; do
    command -v "$tool" >/dev/null || { echo "npm test needs $tool (apt-get install dbus gnome-keyring libsecret-1-dev)" >&2; exit 2; }
  done
  keyring_home=$(mktemp -d)
  trap 'rm -rf "$keyring_home"' EXIT
  export XDG_DATA_HOME="$keyring_home" KEYDESK_TEST_KEYRING=1
  status=0
  dbus-run-session -- sh -c 'printf keydesk-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec bash test/run.sh "$@"' sh "$@" 2> >(grep -v 'Failed to set fd limit' >&2) || status=$?
  exit $status
fi

echo "== build (electron-vite)"
npx electron-vite build >/dev/null
echo "== typecheck"
npx tsc --noEmit -p tsconfig.node.json
npx tsc --noEmit -p tsconfig.web.json
echo "== vitest: unit, integration, component"
npx vitest run "$@"
if ls test/e2e/*.spec.ts >/dev/null 2>&1; then
  echo "== playwright: end-to-end through the harness"
  npx playwright test
fi
