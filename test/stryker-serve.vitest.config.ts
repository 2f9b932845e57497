// Vitest config for `npx stryker run stryker.serve.conf.json`: only the unit tests
// of src/serve/credentials.ts and src/serve/limiter.ts (no keyring, no processes).
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/unit/serve-credentials.test.ts', 'test/unit/serve-limiter.test.ts'],
    environment: 'node',
    pool: 'forks',
  },
})
