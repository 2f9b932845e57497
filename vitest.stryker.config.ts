// The unit project alone, for StrykerJS (npm run mutate): the core's own tests on real SQLite and the real keyring.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    exclude: ['test/unit/shell-*.test.ts', 'test/unit/bridge-*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
