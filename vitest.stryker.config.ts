// For StrykerJS over the integrity and verify code (stryker.core.conf.json): the tests that
// exist to catch a forged, swapped or rolled-back store, and verify's own tests, on real
// SQLite and the real keyring. Not the whole unit project: with per-test coverage nearly
// every test covers this code (every write anchors, every create MACs), and each mutant
// would run for ~30 s. Mutants only the rest of the suite would catch count as survived.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: [
      'test/unit/*.security.test.ts',
      'test/unit/verify.test.ts',
      'test/unit/key-lifecycle.test.ts',
      'test/unit/reset-revoke.test.ts',
      'test/unit/owner-enable.test.ts',
      'test/unit/audit.test.ts',
      'test/unit/macs.test.ts',
      // the v1 → v2 MAC upgrade, the open-time check and backups/restores
      'test/unit/migration-0003.test.ts',
      'test/unit/store-open.test.ts',
      'test/unit/backup.test.ts',
    ],
    // Not the shell and bridge tests (no core code), nor the ones that cut this process off the
    // Secret Service (Stryker runs every file in one process, and libsecret keeps its connection).
    exclude: ['test/unit/shell-*.test.ts', 'test/unit/bridge-*.test.ts', 'test/unit/keychain-unavailable.test.ts', 'test/unit/*.locking.test.ts', 'test/unit/scan*.test.ts',
      // The team-store tests need the PostgreSQL server npm test starts.
      'test/unit/pg-*.test.ts', 'test/unit/gateway-*.test.ts', 'test/unit/team-*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
