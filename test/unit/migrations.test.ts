import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DB_FILE, migrate, type Db } from '../../src/main/core/db'
import { LATEST_VERSION, MIGRATIONS } from '../../src/main/core/migrations/index'
import { openKeyStore } from '../../src/main/core/store'
import { tempDir } from '../helpers'
import { catchKdAsync, dropKeychainEntry, expectKd, openTestStore } from './support'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function freshDb(): { db: Db; path: string; dir: string } {
  const t = tempDir()
  cleanups.push(t.cleanup)
  const path = join(t.dir, DB_FILE)
  const db = new Database(path)
  cleanups.push(() => db.open && db.close())
  return { db, path, dir: t.dir }
}

const tables = (db: Db): string[] =>
  db.prepare(`SELECT name FROM sqlite_schema WHERE type IN ('table') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'keys_fts_%' ORDER BY name`).pluck().all() as string[]
const version = (db: Db): number => db.pragma('user_version', { simple: true }) as number

describe('migration list', () => {
  it('is numbered 1..n without gaps, names unique, latest = last', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1))
    expect(new Set(MIGRATIONS.map((m) => m.name)).size).toBe(MIGRATIONS.length)
    expect(LATEST_VERSION).toBe(MIGRATIONS.length)
  })
})

describe('0001-init, from user_version 0', () => {
  it('creates meta, owners, keys, key_scopes and the search index, and sets user_version 1', () => {
    const { db } = freshDb()
    expect(version(db)).toBe(0)
    migrate(db, MIGRATIONS.slice(0, 1))
    expect(version(db)).toBe(1)
    expect(tables(db)).toEqual(['key_scopes', 'keys', 'keys_fts', 'meta', 'owners'])
    const idx = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'keys' AND name NOT LIKE 'sqlite_%'`).pluck().all()
    expect(idx).toEqual(expect.arrayContaining(['keys_owner_name', 'keys_status_expires', 'keys_expires', 'keys_name', 'keys_last_used']))
    // hash is unique so a key alone can be verified through an index
    const uniques = (db.prepare(`PRAGMA index_list(keys)`).all() as { name: string; unique: number }[]).filter((i) => i.unique)
    const uniqueCols = uniques.flatMap((u) => (db.prepare(`PRAGMA index_info(${JSON.stringify(u.name)})`).all() as { name: string }[]).map((c) => c.name))
    expect(uniqueCols).toEqual(expect.arrayContaining(['access_id', 'hash', 'prev_hash']))
    // there is no column that could hold a secret
    const cols = (db.prepare('PRAGMA table_info(keys)').all() as { name: string }[]).map((c) => c.name)
    expect(cols).not.toContain('access_key')
    expect(cols).not.toContain('secret')
  })

  it('is idempotent: migrating again changes nothing', () => {
    const { db } = freshDb()
    migrate(db, MIGRATIONS.slice(0, 1))
    const schema = db.prepare('SELECT sql FROM sqlite_schema ORDER BY name').pluck().all()
    migrate(db, MIGRATIONS.slice(0, 1))
    expect(db.prepare('SELECT sql FROM sqlite_schema ORDER BY name').pluck().all()).toEqual(schema)
    expect(version(db)).toBe(1)
  })
})

describe('0002-audit, from a seeded version 1', () => {
  function seedV1(db: Db): void {
    migrate(db, MIGRATIONS.slice(0, 1))
    db.prepare(`INSERT INTO meta (key, value) VALUES ('store_id', 'seed-store')`).run()
    db.prepare(`INSERT INTO owners (id, name, kind, created_at, mac) VALUES (1, 'alice', 'user', 1, x'00')`).run()
    const ins = db.prepare(
      `INSERT INTO keys (access_id, owner_id, owner_name, name, description, scopes, hash, hash_alg, hint, status, created_at, expires_at, mac)
       VALUES (?, 1, 'alice', ?, ?, 'read', ?, 'hmac-sha256-v1', 'kdsk_abcd', 'active', 1, 2, x'00')`,
    )
    for (let i = 0; i < 5; i++) {
      const info = ins.run(`kdid_seed${String(i).padStart(12, '0')}`, `payroll-${i}`, `seeded key ${i}`, Buffer.alloc(32, i))
      db.prepare('INSERT INTO key_scopes (scope, key_id) VALUES (?, ?)').run('read', info.lastInsertRowid)
    }
  }

  it('keeps every row and adds the audit table at user_version 2', () => {
    const { db } = freshDb()
    seedV1(db)
    expect(version(db)).toBe(1)
    expect(tables(db)).not.toContain('audit')
    const keysBefore = db.prepare('SELECT * FROM keys ORDER BY id').all()
    migrate(db, MIGRATIONS.filter((m) => m.version <= 2))
    expect(version(db)).toBe(2)
    expect(tables(db)).toContain('audit')
    expect(db.prepare('SELECT * FROM keys ORDER BY id').all()).toEqual(keysBefore)
    expect(db.prepare(`SELECT value FROM meta WHERE key = 'store_id'`).pluck().get()).toBe('seed-store')
    expect(db.prepare('SELECT count(*) FROM owners').pluck().get()).toBe(1)
    expect(db.prepare('SELECT count(*) FROM key_scopes').pluck().get()).toBe(5)
    // the search index still answers for rows written before the migration
    expect(db.prepare(`SELECT count(*) FROM keys_fts WHERE keys_fts MATCH '"payroll"'`).pluck().get()).toBe(5)
    const auditCols = (db.prepare('PRAGMA table_info(audit)').all() as { name: string }[]).map((c) => c.name)
    expect(auditCols).toEqual(['id', 'at', 'actor', 'action', 'target', 'detail', 'prev_hash', 'hash', 'mac'])
    expect(db.prepare('SELECT count(*) FROM audit').pluck().get()).toBe(0)
  })

  it('a store opened on an empty version-1 file migrates it and works', async () => {
    const { db, dir } = freshDb()
    migrate(db, MIGRATIONS.slice(0, 1))
    db.close()
    const store = await openKeyStore({ dataDir: dir, actor: 'tester' })
    const storeId = store.health().storeId
    cleanups.push(() => dropKeychainEntry(storeId))
    cleanups.push(() => store.close())
    expect(store.health().schemaVersion).toBe(LATEST_VERSION)
    const k = store.create({ name: 'after-migration' })
    expect(store.verify({ accessKey: k.accessKey }).valid).toBe(true)
    expect(store.verifyAudit().ok).toBe(true)
  })
})

describe('migration failures', () => {
  it('a failing migration rolls back completely (inside its transaction)', () => {
    const { db } = freshDb()
    migrate(db, MIGRATIONS)
    const broken = [...MIGRATIONS, { version: LATEST_VERSION + 1, name: 'broken', up: 'CREATE TABLE half_done (x); SELECT no_such_column FROM meta;' }]
    expect(() => migrate(db, broken)).toThrow()
    expect(version(db)).toBe(LATEST_VERSION)
    expect(tables(db)).not.toContain('half_done')
  })

  it('a database newer than this KeyDesk is refused with store_unavailable, and left as it was', () => {
    const { db } = freshDb()
    migrate(db, MIGRATIONS)
    db.pragma(`user_version = ${LATEST_VERSION + 7}`)
    const e = expectKd(() => migrate(db, MIGRATIONS), 'store_unavailable')
    expect(e.message).toMatch(new RegExp(`schema version ${LATEST_VERSION + 7}`))
    expect(e.message).toMatch(/upgrade KeyDesk/)
    expect(version(db)).toBe(LATEST_VERSION + 7)
  })

  it('openKeyStore refuses a newer database the same way', async () => {
    const { db, dir, path } = freshDb()
    db.pragma('user_version = 99')
    db.close()
    const e = await catchKdAsync(openKeyStore({ dataDir: dir }))
    expect(e.kind).toBe('store_unavailable')
    expect(e.message).toContain(path)
    expect(e.message).toMatch(/schema version 99/)
    const again = new Database(path, { readonly: true })
    expect(version(again)).toBe(99)
    expect(tables(again)).toEqual([])
    again.close()
  })
})

describe('pragmas on an opened store', () => {
  it('WAL, synchronous FULL, foreign keys on, busy timeout ≥ 5 s, quick_check ok', async () => {
    const t = await openTestStore()
    cleanups.push(t.cleanup)
    const db = t.store.database
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('synchronous', { simple: true })).toBe(2)
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(db.pragma('busy_timeout', { simple: true }) as number).toBeGreaterThanOrEqual(5000)
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION)
    // foreign keys are really enforced
    expect(() => db.prepare('INSERT INTO key_scopes (scope, key_id) VALUES (?, ?)').run('x', 12345)).toThrow(/FOREIGN KEY/)
  })
})
