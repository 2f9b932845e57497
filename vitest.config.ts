import { defineConfig } from 'vitest/config'
import react from '@vitejs/plugin-react'

/**
 * Tests that lock a keyring (*.locking.test.ts) never run beside the others: test/run.sh
 * runs them last, one file at a time, each under a Secret Service of its own
 * (KEYDESK_LOCKING=1 selects them).
 */
const LOCKING = ['**/*.locking.test.ts', '**/node_modules/**']
const locking = process.env.KEYDESK_LOCKING === '1'

export default defineConfig({
  test: {
    projects: locking
      ? [{ test: { name: 'locking', include: ['test/**/*.locking.test.ts'], environment: 'node', pool: 'forks', testTimeout: 60_000, hookTimeout: 60_000 } }]
      : [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          exclude: LOCKING,
          environment: 'node',
          pool: 'forks',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: LOCKING,
          environment: 'node',
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [react()],
        test: {
          name: 'component',
          include: ['test/component/**/*.test.tsx'],
          environment: 'jsdom',
          testTimeout: 20_000,
        },
      },
        ],
  },
})
