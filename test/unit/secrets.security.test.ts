/**
 * The secret half of a key is shown once and never stored: not in the database,
 * not in its WAL or shared-memory file, not in a backup, an export, the audit log
 * or an error message. Credential CSVs are owner-only and never left half-written.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { IssuedKey } from '../../src/main/core/types'
import { DB_FILE } from '../../src/main/core/db'
import { MIN, catchKd, expectKd, openTestStore, snapshot, type TestStore } from './support'

let t: TestStore
beforeEach(async () => {
  t = await openTestStore()
})
afterEach(() => t.cleanup())

const read = (path: string): Buffer => (existsSync(path) ? readFileSync(path) : Buffer.alloc(0))

function dbFiles(dir: string): { db: Buffer; wal: Buffer; shm: Buffer } {
  const base = join(dir, DB_FILE)
  return { db: read(base), wal: read(`${base}-wal`), shm: read(`${base}-shm`) }
}

/** Every secret, and its random body alone, must be absent; the public access IDs must be present (so the search works). */
function expectNoSecrets(files: { [name: string]: Buffer }, keys: readonly IssuedKey[], secrets: readonly string[]): void {
  const all = Buffer.concat(Object.values(files))
  expect(all.length).toBeGreaterThan(0)
  for (const s of secrets) {
    for (const [name, buf] of Object.entries(files)) {
      expect(buf.includes(s, 0, 'latin1'), `${s.slice(0, 9)}… in ${name}`).toBe(false)
      expect(buf.includes(s.slice(5, 37), 0, 'latin1'), `body of ${s.slice(0, 9)}… in ${name}`).toBe(false)
      expect(buf.includes(Buffer.from(s, 'utf16le')), `${s.slice(0, 9)}… (UTF-16) in ${name}`).toBe(false)
    }
  }
  // positive control: the grep does find what is stored in the clear
  const found = keys.filter((k) => all.includes(k.accessId, 0, 'latin1')).length
  expect(found).toBe(keys.length)
}

describe('no secret reaches the disk', () => {
  it('database, -wal and -shm after many creates and resets (open and after close), and the backup', async () => {
    t.store.setPolicy({ maxKeysPerOwner: 1000 })
    t.store.addOwner('svc', 'service')
    const secrets: string[] = []
    const keys: IssuedKey[] = []
    const issue = (k: IssuedKey) => {
      keys.push(k)
      secrets.push(k.accessKey)
      return k
    }
    for (const k of t.store.createMany(Array.from({ length: 250 }, (_, i) => ({ name: `bulk/${i}`, owner: i % 2 ? 'svc' : undefined, scopes: ['read'] })))) issue(k)
    for (let i = 0; i < 10; i++) issue(t.store.create({ name: `single-${i}`, description: `single key ${i}` }, join(t.dir, `c${i}.csv`)))
    for (let i = 0; i < 60; i++) {
      const k = keys[i * 4]!
      const r = t.store.reset(k.accessId, { confirm: k.name, grace: i % 2 ? '1h' : undefined })
      secrets.push(r.accessKey)
    }
    t.store.importCsv('Name,Owner\nimp-1,svc\nimp-2,\n', join(t.dir, 'imp.csv')).forEach(issue)
    t.store.revoke([keys[1]!.accessId, keys[2]!.accessId], 'test')
    for (const k of keys.slice(0, 20)) t.store.verify({ accessKey: k.accessKey })
    t.clock.advance(2 * MIN)
    t.store.flushLastUsed()
    t.store.exportInventory(join(t.dir, 'inventory.csv'))
    t.store.exportAudit(join(t.dir, 'audit.csv'))
    const backup = join(t.dir, 'backup.sqlite')
    await t.store.backup(backup)

    const open = dbFiles(t.dir)
    expect(open.wal.length).toBeGreaterThan(0) // the WAL really was searched while it held data
    expectNoSecrets(open, keys, secrets)
    expectNoSecrets({ backup: read(backup) }, keys, secrets)
    for (const f of ['inventory.csv', 'audit.csv']) {
      const text = readFileSync(join(t.dir, f), 'utf8')
      for (const s of secrets) expect(text.includes(s)).toBe(false)
    }
    t.store.close()
    expectNoSecrets(dbFiles(t.dir), keys, secrets)
  })

  it('error messages and audit entries never carry a secret', () => {
    const k = t.store.create({ name: 'k' })
    // a secret pasted where an access ID or name belongs is refused without being echoed
    const pasted = [
      expectKd(() => t.store.reset(k.accessKey, { confirm: 'k' }), 'invalid_input', 'key'),
      expectKd(() => t.store.revoke([k.accessKey]), 'invalid_input', 'key'),
      expectKd(() => t.store.get(k.accessKey), 'invalid_input', 'key'),
      expectKd(() => t.store.get(k.accessKey.slice(0, -1) + 'x'), 'invalid_input', 'key'),
    ]
    expect(pasted[0]!.message).toMatch(/access key \(the secret\)/)
    const msgs = [catchKd(() => t.store.create({ name: 'k' })).message, ...pasted.map((e) => e.message)]
    const r = t.store.reset(k.accessId, { confirm: 'k' })
    msgs.push(catchKd(() => t.store.reset(k.accessId, { confirm: r.accessKey })).message)
    for (const m of msgs) {
      expect(m).not.toContain(k.accessKey)
      expect(m).not.toContain(r.accessKey)
    }
    const audit = JSON.stringify(t.store.listAudit({ limit: 1000 }))
    expect(audit).not.toContain(k.accessKey.slice(5))
    expect(audit).not.toContain(r.accessKey.slice(5))
    expect(JSON.stringify(t.store.verify({ accessKey: r.accessKey }))).not.toContain(r.accessKey)
  })
})

describe('credential CSV files', () => {
  it('are written 0600 even under a permissive umask', () => {
    const old = process.umask(0)
    try {
      const out = join(t.dir, 'creds.csv')
      const k = t.store.create({ name: 'k' }, out)
      expect(statSync(out).mode & 0o777).toBe(0o600)
      expect(readFileSync(out, 'utf8')).toContain(k.accessKey)
      const out2 = join(t.dir, 'reset.csv')
      t.store.reset(k.accessId, { confirm: 'k' }, out2)
      expect(statSync(out2).mode & 0o777).toBe(0o600)
    } finally {
      process.umask(old)
    }
  })

  it('a create that fails after the CSV was staged leaves no file and no temporary file, and issues nothing', () => {
    t.store.create({ name: 'existing' })
    const before = snapshot(t.store)
    // Make the transaction fail after the credential CSV is staged (its audit entry is the last write).
    t.store.database.exec(`CREATE TEMP TRIGGER fail_export BEFORE INSERT ON audit WHEN new.action = 'credentials.export' BEGIN SELECT RAISE(ABORT, 'simulated failure'); END`)
    const out = join(t.dir, 'creds.csv')
    expect(() => t.store.createMany([{ name: 'a' }, { name: 'b' }], out)).toThrow()
    expect(existsSync(out)).toBe(false)
    expect(readdirSync(t.dir).filter((f) => f.includes('creds'))).toEqual([])
    expect(snapshot(t.store)).toEqual(before)
    // the same for reset: the old secret stays, no file
    const k = t.store.create({ name: 'r' })
    expect(() => t.store.reset(k.accessId, { confirm: 'r' }, join(t.dir, 'reset.csv'))).toThrow()
    expect(readdirSync(t.dir).filter((f) => f.includes('reset'))).toEqual([])
    expect(t.store.verify({ accessKey: k.accessKey }).valid).toBe(true)
    t.store.database.exec('DROP TRIGGER fail_export')
  })

  it('a create refused by a rule with a CSV path writes nothing', () => {
    const out = join(t.dir, 'creds.csv')
    expectKd(() => t.store.create({ name: '=x' }, out), 'invalid_input', 'name')
    expectKd(() => t.store.create({ name: 'x', owner: 'nobody' }, out), 'not_found', 'owner')
    expect(readdirSync(t.dir).filter((f) => f.includes('creds'))).toEqual([])
  })
})
