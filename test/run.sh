#!/usr/bin/env bash
# The README's test command (npm test). Runs every suite against real parts:
# real SQLite files, the real Secret Service (a private gnome-keyring on a private
# D-Bus session, so a developer's own keyring is never touched), real Chromium
# and the real CLI process.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${KEYDESK_PRIVATE_KEYRING:-}" ]; then
  exec scripts/with-keyring.sh bash test/run.sh "$@"
fi

# A throwaway PostgreSQL server for the team-store suites (core-pg, team CLI, gateways).
pg_env=$(scripts/pg-test-server.sh start)
eval "$pg_env"
trap 'scripts/pg-test-server.sh stop "$KEYDESK_TEST_PG_DIR"' EXIT
echo "== postgresql: ${KEYDESK_TEST_PG}"

echo "== build (electron-vite)"
npx electron-vite build >/dev/null
echo "== typecheck"
npx tsc --noEmit -p tsconfig.node.json
npx tsc --noEmit -p tsconfig.web.json
echo "== vitest: unit, integration, component"
# The tests that lock a keyring run last, each file alone, under a Secret Service of their own:
# a Lock, however private its session, must never meet the keyring the other suites use.
# (vitest.config.ts leaves *.locking.test.ts out of every other project.)
npx vitest run "$@"
if ls test/e2e/*.spec.ts >/dev/null 2>&1; then
  echo "== playwright: end-to-end through the harness"
  npx playwright test
fi
echo "== vitest: the keyring-locking tests, alone"
for f in test/unit/*.locking.test.ts test/integration/*.locking.test.ts; do
  env -u KEYDESK_PRIVATE_KEYRING KEYDESK_LOCKING=1 scripts/with-keyring.sh npx vitest run "$f"
done
