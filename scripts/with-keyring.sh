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
export XDG_DATA_HOME="$keyring_home" KEYDESK_PRIVATE_KEYRING=1
status=0
# The unlocked daemon must own the Secret Service name before the command runs: a client that
# came first would have D-Bus start a second daemon whose login keyring is locked.
dbus-run-session -- sh -c '
  printf keydesk-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
  i=0
  until dbus-send --session --dest=org.freedesktop.DBus --print-reply /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; do
    i=$((i + 1)); [ "$i" -gt 200 ] && { echo "the private Secret Service did not start" >&2; exit 3; }
    sleep 0.05
  done
  exec "$@"' sh "$@" \
  2> >(grep -v 'Failed to set fd limit' >&2) || status=$?
exit $status
