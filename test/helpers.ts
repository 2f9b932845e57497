import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { openKeyStore, type KeyStore, type OpenOptions } from '../src/main/core/index'

/**
 * Which engine the core suite runs on: the vitest project `core-pg` sets
 * KEYDESK_TEST_ENGINE=postgres and runs the same test files against a real
 * PostgreSQL server (started by test/run.sh: scripts/pg-test-server.sh).
 */
export const TEST_ENGINE: 'sqlite' | 'postgres' = process.env.KEYDESK_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite'

/** A new, empty database on the test server; its URL. */
export async function freshTeamDatabase(): Promise<string> {
  const admin = process.env.KEYDESK_TEST_PG
  if (!admin) throw new Error('KEYDESK_TEST_PG is not set: run the tests through npm test, which starts a PostgreSQL server (scripts/pg-test-server.sh)')
  const name = `kd_${randomBytes(6).toString('hex')}`
  const c = new pg.Client({ connectionString: admin })
  await c.connect()
  try {
    await c.query(`CREATE DATABASE ${name}`)
  } finally {
    await c.end()
  }
  return admin.replace(/\/[^/]*$/, `/${name}`)
}

/** A fresh data dir under the OS temp dir; removed by the returned cleanup. */
export function tempDir(prefix = 'keydesk-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A real store (real SQLite file, or a new database on the real PostgreSQL server; real keychain) in a temp dir. */
export async function tempStore(
  opts: Partial<OpenOptions> = {},
): Promise<{ store: KeyStore; dir: string; where: { dataDir: string; store?: string }; cleanup: () => void }> {
  const t = tempDir()
  const team = TEST_ENGINE === 'postgres' && opts.store === undefined ? { store: await freshTeamDatabase(), initTeam: true } : {}
  const store = await openKeyStore({ dataDir: t.dir, actor: 'tester', ...team, ...opts })
  return {
    store,
    dir: t.dir,
    // Where to open it again (the data dir, or the team database).
    where: { dataDir: t.dir, ...(team.store ? { store: team.store } : opts.store ? { store: opts.store } : {}) },
    cleanup: () => {
      store.close()
      t.cleanup()
    },
  }
}
