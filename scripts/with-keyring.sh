#!/usr/bin/env bash
# Run a command inside a private D-Bus session with its own unlocked gnome-keyring
# (the real Secret Service), so tests and benchmarks never touch your own keyring.
# Usage: scripts/with-keyring.sh CMD [ARGS...]
#
# Everything the session needs lives in one private directory (removed at the end):
#   data/      XDG_DATA_HOME: the login keyring file (password "keydesk-test")
#   run/       XDG_RUNTIME_DIR (0700): gnome-keyring's control socket, for the daemon and the command alike
#   services/  the ONLY D-Bus activation directory of this bus: org.freedesktop.secrets starts
#              services/secrets.sh, an unlocked gnome-keyring-daemon --foreground on data/
#   bus.conf   the bus configuration (the system's service files are not read)
#
# Why activation and not a daemon started once: gnome-keyring-daemon 42 can abort (SIGABRT,
# seen in CI in the middle of the vitest run). The system's activation file would then start
# a second daemon whose login keyring is LOCKED, and every later test fails with
# KeychainLockedError. Here the only way the name can come back is the same unlocked keyring
# (its items are on disk), and a client that calls while it is gone waits for it instead.
# A restart is reported on stderr at the end, so it is never silent.
set -euo pipefail
for tool in dbus-run-session dbus-send gnome-keyring-daemon; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install dbus gnome-keyring libsecret-1-dev)" >&2; exit 2; }
done
kh=$(mktemp -d)
trap 'rm -rf "$kh"' EXIT
mkdir -p "$kh/data" "$kh/services"
mkdir -m 700 "$kh/run"

cat >"$kh/services/secrets.sh" <<EOF
#!/bin/sh
# Started by the private bus when org.freedesktop.secrets has no owner.
echo "\$(date +%T) \$\$" >>"$kh/starts"
echo \$\$ >"$kh/daemon.pid"
rm -f "$kh/run/keyring/control"
printf keydesk-test | exec gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1
EOF
chmod +x "$kh/services/secrets.sh"
cat >"$kh/services/org.freedesktop.secrets.service" <<EOF
[D-BUS Service]
Name=org.freedesktop.secrets
Exec=$kh/services/secrets.sh
EOF
cat >"$kh/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:dir=$kh/run</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$kh/services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF

export XDG_DATA_HOME="$kh/data" XDG_RUNTIME_DIR="$kh/run" KEYDESK_PRIVATE_KEYRING=1
unset GNOME_KEYRING_CONTROL
status=0
# The unlocked daemon owns the Secret Service name before the command runs; at the end it is
# stopped (whichever instance is running), so nothing of this session outlives the command.
dbus-run-session --config-file="$kh/bus.conf" -- sh -c '
  kh=$1; shift
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.StartServiceByName string:org.freedesktop.secrets uint32:0 >/dev/null 2>&1 || true
  i=0
  until dbus-send --session --dest=org.freedesktop.DBus --print-reply /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; do
    i=$((i + 1)); [ "$i" -gt 200 ] && { echo "the private Secret Service did not start" >&2; exit 3; }
    sleep 0.05
  done
  rc=0
  "$@" || rc=$?
  if [ -f "$kh/daemon.pid" ]; then kill "$(cat "$kh/daemon.pid")" 2>/dev/null || true; fi
  n=$(wc -l <"$kh/starts" 2>/dev/null || echo 0)
  if [ "$n" -gt 1 ]; then
    echo "with-keyring: the private gnome-keyring-daemon stopped and was started again (unlocked, same keyring) $((n - 1)) time(s):" >&2
    cat "$kh/starts" >&2
  fi
  exit $rc' sh "$kh" "$@" \
  2> >(grep -v 'Failed to set fd limit' >&2) || status=$?
exit $status
