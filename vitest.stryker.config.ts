// The unit project alone, for StrykerJS (npm run mutate): the core's own tests on real SQLite and the real keyring.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
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
