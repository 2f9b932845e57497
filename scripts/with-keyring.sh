#!/usr/bin/env bash
# Run a command inside a private D-Bus session with its own unlocked gnome-keyring
# (the real Secret Service), so tests and benchmarks never touch your own keyring.
# Usage: scripts/with-keyring.sh CMD [ARGS...]
set -euo pipefail
for tool in dbus-run-session gnome-keyring-daemon; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install dbus gnome-keyring libsecret-1-dev)" >&2; exit 2; }
done
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
mkdir -m 700 "$keyring_home/run" "$keyring_home/cache"
# Private data, runtime and cache dirs: gnome-keyring finds a running daemon through its control
# socket under them, so nothing here ever reaches (or is reached by) another keyring daemon.
export XDG_DATA_HOME="$keyring_home" XDG_RUNTIME_DIR="$keyring_home/run" XDG_CACHE_HOME="$keyring_home/cache" KEYDESK_PRIVATE_KEYRING=1
status=0
dbus-run-session -- sh -c 'printf keydesk-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "$@"' sh "$@" \
  2> >(grep -v 'Failed to set fd limit' >&2) || status=$?
exit $status
