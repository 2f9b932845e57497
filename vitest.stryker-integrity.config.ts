// For StrykerJS over the integrity code alone (stryker.integrity.conf.json): the tests that
// exercise the anchor, the open check, the full check and the v1 → v2 upgrade. That run uses
// Stryker's command runner: every mutant runs all of these files in a fresh vitest.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: [
      'test/unit/integrity.security.test.ts',
      'test/unit/rollback.security.test.ts',
      'test/unit/migration-0003.test.ts',
      'test/unit/store-open.test.ts',
      'test/unit/backup.test.ts',
    ],
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
