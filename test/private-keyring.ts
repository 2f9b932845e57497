/**
 * A shell snippet for tests that must lock a keyring: runs "$1" inside its own D-Bus
 * session with its own unlocked gnome-keyring, and stops that daemon afterwards (a
 * daemon left behind would hold the runner's pipes open). Use: spawn('bash', ['-c',
 * PRIVATE_KEYRING, 'sh', script]).
 */
export const PRIVATE_KEYRING = `
kh=$(mktemp -d)
mkdir -m 700 "$kh/run" "$kh/cache"
# Its own data, runtime and cache dirs: gnome-keyring finds a running daemon through its control
# socket there, so a shared one would let this keyring (and its Lock) reach the suite's keyring.
XDG_DATA_HOME="$kh" XDG_RUNTIME_DIR="$kh/run" XDG_CACHE_HOME="$kh/cache" dbus-run-session -- bash -c '
  printf keydesk-test | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
  kr=$!
  for i in $(seq 1 200); do
    dbus-send --session --dest=org.freedesktop.DBus --print-reply /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true" && break
    sleep 0.05
  done
  bash -c "$1"; rc=$?
  kill $kr 2>/dev/null; wait $kr 2>/dev/null
  exit $rc' sh "$1"
rc=$?
rm -rf "$kh"
exit $rc
`
