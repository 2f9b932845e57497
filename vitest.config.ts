import { defineConfig } from 'vitest/config'
import react from '@vitejs/plugin-react'

/**
 * Tests that lock a keyring (*.locking.test.ts) never run beside the others: test/run.sh
 * runs them last, one file at a time, each under a Secret Service of its own
 * (KEYDESK_LOCKING=1 selects them).
 */
const LOCKING = ['**/*.locking.test.ts', '**/node_modules/**']
const locking = process.env.KEYDESK_LOCKING === '1'

/**
 * The core suite's files that run a second time on the PostgreSQL adapter (project
 * core-pg): every rule, through the same tests. Files about the SQLite file itself
 * (opening, migrations, backups, rollback by copying the file, raw-row tampering,
 * memory maps) stay SQLite-only; the team store has its own tests for those.
 */
export const BOTH_ENGINES = [
  'test/unit/audit.test.ts',
  'test/unit/bridge-handoffs.test.ts',
  'test/unit/bridge-key-edits.test.ts',
  'test/unit/bridge-validation.test.ts',
  'test/unit/create.test.ts',
  'test/unit/csv-import.test.ts',
  'test/unit/delivery.test.ts',
  'test/unit/integrity.security.test.ts',
  'test/unit/key-lifecycle.test.ts',
  'test/unit/list.test.ts',
  'test/unit/names.test.ts',
  'test/unit/owner-enable.test.ts',
  'test/unit/policy-purge.test.ts',
  'test/unit/reminders.test.ts',
  'test/unit/report.test.ts',
  'test/unit/reset-revoke.test.ts',
  'test/unit/scan-bridge.test.ts',
  'test/unit/scan.test.ts',
  'test/unit/tamper.security.test.ts',
  'test/unit/team-secret.test.ts',
]

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
        test: {
          name: 'core-pg',
          include: BOTH_ENGINES,
          environment: 'node',
          pool: 'forks',
          // Every statement is a round trip to the server: bulk tests (2 500 keys) take seconds, more on a loaded machine.
          testTimeout: 120_000,
          hookTimeout: 60_000,
          env: { KEYDESK_TEST_ENGINE: 'postgres' },
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
