/**
 * The team store's PostgreSQL migrations, each from the version before it, on a real
 * server (KEYDESK_TEST_PG, started by npm test); and the rules for which databases
 * KeyDesk will use: never invent a store, never mix into someone else's tables,
 * never run on a schema newer than it understands.
 */
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { PG_MIGRATIONS } from '../../src/main/core/migrations/pg/index'
import { PgSyncClient } from '../../src/main/core/storage/pg-sync'
import { connectTeamStore, migratePg, openPostgres } from '../../src/main/core/storage/postgres'
import { openKeyStore } from '../../src/main/core/keystore'
import { freshTeamDatabase, tempDir } from '../helpers'
import { catchKd, catchKdAsync, dropKeychainEntry } from './support'

const open: PgSyncClient[] = []
function client(url: string): PgSyncClient {
  const c = new PgSyncClient(url)
  open.push(c)
  return c
}
afterEach(() => {
  for (const c of open.splice(0)) c.close()
})

describe('PostgreSQL migrations', () => {
  it('0001 creates the store tables at version 1', async () => {
    const c = client(await freshTeamDatabase())
    migratePg(c, PG_MIGRATIONS, 1)
    expect(c.query('SELECT version FROM keydesk_schema').rows).toEqual([{ version: 1 }])
    const tables = c.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`).rows.map((r) => r.t)
    expect(tables).toEqual(['audit', 'key_scopes', 'keydesk_schema', 'keys', 'meta', 'owners', 'reminders', 'retired', 'revocations'])
  })

  it('0002 (change feed) upgrades a version-1 store with rows in it: rows kept, and changes to them are announced', async () => {
    const url = await freshTeamDatabase()
    const c = client(url)
    migratePg(c, PG_MIGRATIONS, 1)
    c.exec(`INSERT INTO owners (id, name, kind, created_at, mac) VALUES (1, 'svc', 'service', 1, '\\x00')`)
    c.exec(`INSERT INTO keys (id, access_id, owner_id, owner_name, name, hash, hash_alg, hint, status, created_at, expires_at, mac)
            VALUES (1, 'kdid_AAAAAAAAAAAAAAAA', 1, 'svc', 'k', '\\x01', 'hmac-sha256-v1', 'kdsk_abcd', 'active', 1, 2, '\\x02')`)
    migratePg(c)
    expect(c.query('SELECT version FROM keydesk_schema').rows).toEqual([{ version: 2 }])
    expect(c.query('SELECT id, name FROM keys').rows).toEqual([{ id: 1, name: 'k' }])

    const listener = new pg.Client({ connectionString: url })
    await listener.connect()
    try {
      const heard: string[] = []
      listener.on('notification', (n) => heard.push(n.payload ?? ''))
      await listener.query('LISTEN keydesk_changes')
      c.exec(`UPDATE keys SET last_used_at = 5 WHERE id = 1`) // not a security field: no change
      c.exec(`UPDATE keys SET mac = '\\x03' WHERE id = 1`)
      c.exec(`INSERT INTO revocations (access_id, at, audit_id, mac) VALUES ('kdid_AAAAAAAAAAAAAAAA', 3, 1, '\\x04')`)
      c.exec(`DELETE FROM keys WHERE id = 1`)
      for (let i = 0; i < 100 && heard.length < 3; i++) await new Promise((r) => setTimeout(r, 20))
      expect(heard.map((p) => p.split(' ')[1])).toEqual(['kdid_AAAAAAAAAAAAAAAA', 'kdid_AAAAAAAAAAAAAAAA', 'kdid_AAAAAAAAAAAAAAAA'])
      const seqs = c.query<{ seq: number }>('SELECT seq FROM changes ORDER BY seq').rows.map((r) => r.seq)
      expect(seqs).toHaveLength(3)
      expect(heard.map((p) => Number(p.split(' ')[0]))).toEqual(seqs)
    } finally {
      await listener.end()
    }
  })

  it('running the migrations again changes nothing', async () => {
    const c = client(await freshTeamDatabase())
    migratePg(c)
    migratePg(c)
    expect(c.query('SELECT version FROM keydesk_schema').rows).toEqual([{ version: PG_MIGRATIONS.at(-1)!.version }])
  })
})

describe('which databases KeyDesk uses', () => {
  it('an empty database is not a store unless team init asks for one', async () => {
    const url = await freshTeamDatabase()
    const e = catchKd(() => openPostgres(url))
    expect(e.kind).toBe('store_unavailable')
    expect(e.message).toMatch(/There is no KeyDesk store in the team database .*keydesk team init/)
    expect(client(url).query(`SELECT to_regclass('keydesk_schema') AS t`).rows).toEqual([{ t: null }])
  })

  it('a database holding other tables is never turned into a store', async () => {
    const url = await freshTeamDatabase()
    client(url).exec('CREATE TABLE invoices (id int)')
    const e = catchKd(() => openPostgres(url, { create: true }))
    expect(e.message).toMatch(/already holds 1 other table\(s\)/)
  })

  it('a schema newer than this KeyDesk is refused, unchanged', async () => {
    const url = await freshTeamDatabase()
    const c = client(url)
    migratePg(c)
    c.exec('UPDATE keydesk_schema SET version = 99')
    const e = catchKd(() => connectTeamStore(url))
    expect(e.message).toMatch(/schema version 99, newer than this KeyDesk understands/)
    expect(c.query('SELECT version FROM keydesk_schema').rows).toEqual([{ version: 99 }])
  })

  it('a store that is up to date opens under a read-only role (a gateway, a replica) without writing anything', async () => {
    const url = await freshTeamDatabase()
    const owner = client(url)
    migratePg(owner)
    const role = `kd_ro_${Math.random().toString(36).slice(2, 8)}`
    owner.exec(`CREATE ROLE ${role} LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}; REVOKE CREATE ON SCHEMA public FROM PUBLIC`)
    const ro = openPostgres(url.replace('postgres@', `${role}@`))
    try {
      expect(ro.schemaVersion()).toBe(PG_MIGRATIONS.at(-1)!.version)
      expect(ro.verifyByCurrent(Buffer.alloc(32))).toBeUndefined()
    } finally {
      ro.close()
    }
  })

  it('a server that is not there is named without its password (in the user part or the query)', () => {
    const e = catchKd(() => openPostgres('postgres://kd:s3cret-pw@127.0.0.1:1/none'))
    expect(e.kind).toBe('store_unavailable')
    expect(e.message).toMatch(/cannot be reached/)
    expect(e.message).not.toContain('s3cret-pw')
    const q = catchKd(() => openPostgres('postgres://kd@127.0.0.1:1/none?password=s3cret-pw&sslpassword=k3y-pw'))
    expect(q.message).not.toMatch(/s3cret-pw|k3y-pw/)
  })

  it('tables without a store identity (a team init that did not finish) are refused by every command but team init', async () => {
    const url = await freshTeamDatabase()
    migratePg(client(url))
    const d = tempDir()
    try {
      const e = await catchKdAsync(openKeyStore({ dataDir: d.dir, store: url, create: true }))
      expect(e.message).toMatch(/no store identity \(keydesk team init did not finish\)/)
      expect(client(url).query(`SELECT count(*)::int AS n FROM meta`).rows).toEqual([{ n: 0 }])
      const s = await openKeyStore({ dataDir: d.dir, store: url, initTeam: true })
      await s.closeAsync()
      await dropKeychainEntry(s.storeId)
    } finally {
      d.cleanup()
    }
  })
})
