import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Papa from 'papaparse'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { KeyStore } from '../../src/main/core/keystore'
import { MIN, openTestStore, type TestStore, rawAll, rawConnection, type RawConnection } from './support'

let t: TestStore
beforeEach(async () => {
  t = await openTestStore()
})
afterEach(() => t.cleanup())

/** Perform every kind of admin action once; returns the audit actions expected, in order. */
async function everyAction(): Promise<string[]> {
  const s = t.store
  s.addOwner('svc', 'service')
  const k = s.create({ name: 'k1', owner: 'svc' }, join(t.dir, 'create.csv'))
  t.clock.advance(MIN)
  const r = s.reset(k.accessId, { confirm: 'k1' }, join(t.dir, 'reset.csv'))
  s.noteCredentialExport(join(t.dir, 'saved.csv'), 1)
  const k2 = s.create({ name: 'k2' }) // first use of the default owner
  s.revoke([k2.accessId], 'done')
  s.revokeOwnerKeys('svc', 'offboard')
  s.disableOwner('svc')
  s.setPolicy({ retentionDays: 30 })
  s.purge()
  s.exportInventory(join(t.dir, 'inv.csv'))
  s.exportAudit(join(t.dir, 'audit.csv'))
  // keydesk backup copies a local store (a team store is backed up with pg_dump)
  if (s.engine === 'sqlite') await s.backup(join(t.dir, 'backup.sqlite'))
  KeyStore.writeCredentialCsv(join(t.dir, 'static.csv'), [r]) // writes a file only; the app records it with noteCredentialExport
  return [
    'owner.add',
    'key.create',
    'credentials.export',
    'key.reset',
    'credentials.export',
    'credentials.export',
    'owner.add',
    'key.create',
    'key.revoke',
    'key.revoke',
    'owner.revoke_all',
    'owner.disable',
    'policy.set',
    'keys.purge',
    'inventory.export',
    'audit.export',
    ...(s.engine === 'sqlite' ? ['store.backup'] : []),
  ]
}

describe('audit log', () => {
  it('every admin action appends an entry with time, actor, action and target', async () => {
    const expected = await everyAction()
    const entries = t.store.listAudit({ limit: 1000 }).reverse()
    expect(entries.map((e) => e.action)).toEqual(expected)
    expect(entries.map((e) => e.id)).toEqual(expected.map((_, i) => i + 1))
    for (const e of entries) {
      expect(e.actor).toBe('tester')
      expect(typeof e.target).toBe('string')
      expect(e.target.length).toBeGreaterThan(0)
    }
    expect(entries[0]).toMatchObject({ action: 'owner.add', target: 'svc', detail: { kind: 'service' }, at: new Date(t.clock.t - MIN).toISOString() })
    const create = entries[1]!
    expect(create.target).toMatch(/^kdid_/)
    expect(create.detail).toMatchObject({ name: 'k1', owner: 'svc', scopes: [] })
    expect(entries[3]).toMatchObject({ action: 'key.reset', target: create.target, at: new Date(t.clock.t).toISOString() })
    expect(entries[2]!.target).toBe(join(t.dir, 'create.csv'))
    expect(entries[6]).toMatchObject({ action: 'owner.add', target: 'tester', detail: { kind: 'user' } })
    expect(entries[8]).toMatchObject({ detail: { reason: 'done' } })
    if (t.store.engine === 'sqlite') expect(entries.find((e) => e.action === 'store.backup')!.target).toBe(join(t.dir, 'backup.sqlite'))
    expect(t.store.verifyAudit()).toEqual({ ok: true, checked: expected.length })
  })

  it('reads and verify-only operations do not append', () => {
    const k = t.store.create({ name: 'k' })
    const n = t.store.listAudit({ limit: 1000 }).length
    t.store.verify({ accessKey: k.accessKey })
    t.store.flushLastUsed()
    t.store.list()
    t.store.get(k.accessId)
    t.store.getPolicy()
    t.store.previewPolicy({ maxKeyAgeDays: 10, defaultExpiryDays: 10 })
    t.store.listOwners()
    t.store.verifyAudit()
    expect(t.store.listAudit({ limit: 1000 })).toHaveLength(n)
  })

  it('failed actions append nothing', () => {
    t.store.create({ name: 'k' })
    const n = t.store.listAudit({ limit: 1000 }).length
    expect(() => t.store.create({ name: 'k' })).toThrow()
    expect(() => t.store.revoke(['nope'])).toThrow()
    expect(() => t.store.setPolicy({ maxKeyAgeDays: -1 })).toThrow()
    expect(() => t.store.addOwner('tester')).toThrow()
    expect(t.store.listAudit({ limit: 1000 })).toHaveLength(n)
  })

  it('listAudit filters by action and target, pages with beforeId, newest first', () => {
    const ks = t.store.createMany(Array.from({ length: 12 }, (_, i) => ({ name: `k${i}` })))
    t.store.revoke([ks[3]!.accessId])
    const all = t.store.listAudit({ limit: 1000 })
    expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort((a, b) => b - a))
    expect(t.store.listAudit({ action: 'key.create', limit: 1000 })).toHaveLength(12)
    expect(t.store.listAudit({ target: ks[3]!.accessId }).map((e) => e.action)).toEqual(['key.revoke', 'key.create'])
    expect(t.store.listAudit({ target: '%' })).toEqual([])
    const page1 = t.store.listAudit({ limit: 5 })
    const page2 = t.store.listAudit({ limit: 5, beforeId: page1[4]!.id })
    expect(page1.concat(page2).map((e) => e.id)).toEqual(all.slice(0, 10).map((e) => e.id))
    expect(t.store.listAudit({ limit: 0 })).toHaveLength(1)
    expect(t.store.listAudit({ limit: 10_000 })).toHaveLength(all.length)
  })

  it('exports as CSV (0600) and records the export', () => {
    t.store.create({ name: 'k' })
    const out = join(t.dir, 'audit.csv')
    const r = t.store.exportAudit(out)
    expect(r.rows).toBe(2)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    const parsed = Papa.parse<string[]>(readFileSync(out, 'utf8'), { skipEmptyLines: true }).data
    expect(parsed[0]).toEqual(['ID', 'Time', 'Actor', 'Action', 'Target', 'Detail'])
    expect(parsed.slice(1).map((row) => row[3])).toEqual(['owner.add', 'key.create'])
    expect(t.store.listAudit({ limit: 1 })[0]).toMatchObject({ action: 'audit.export', target: out, detail: { rows: 2 } })
  })
})

describe('audit chain check', () => {
  let edit: RawConnection
  beforeEach(() => {
    edit = rawConnection(t.store)
  })
  afterEach(() => edit.close())

  function seed(n = 8): void {
    t.store.createMany(Array.from({ length: n - 1 }, (_, i) => ({ name: `k${i}` }))) // + owner.add = n entries
    expect(t.store.verifyAudit()).toEqual({ ok: true, checked: n })
  }

  it('an empty log of a new store verifies', () => {
    expect(t.store.verifyAudit()).toEqual({ ok: true, checked: 0 })
  })

  it('a deleted middle entry is reported at its id', () => {
    seed()
    edit.prepare('DELETE FROM audit WHERE id = 4').run()
    const r = t.store.verifyAudit()
    expect(r).toMatchObject({ ok: false, brokenAt: 4, checked: 3 })
    expect(r.problem).toMatch(/entry 4 is missing/)
  })

  it('an edited entry is reported at its id (target, detail, actor, time)', () => {
    seed()
    for (const [col, value] of [['target', 'kdid_AAAAAAAAAAAAAAAA'], ['detail', '{}'], ['actor', 'someone-else'], ['at', 1]] as const) {
      const row = edit.prepare('SELECT * FROM audit WHERE id = 5').get() as Record<string, unknown>
      edit.prepare(`UPDATE audit SET ${col} = ? WHERE id = 5`).run(value)
      const r = t.store.verifyAudit()
      expect(r, col).toMatchObject({ ok: false, brokenAt: 5 })
      expect(r.problem).toMatch(/altered/)
      edit.prepare(`UPDATE audit SET ${col} = ? WHERE id = 5`).run(row[col])
      expect(t.store.verifyAudit().ok).toBe(true)
    }
  })

  it('an edit with the hash chain recomputed (but no MAC key) is still reported at the edited entry', () => {
    seed()
    const rows = edit.prepare('SELECT * FROM audit ORDER BY id').all() as { id: number; at: number; actor: string; action: string; target: string; detail: string; hash: Buffer }[]
    rows[2]!.target = 'forged'
    let prev = Buffer.alloc(32)
    for (const r of rows) {
      const hash = createHash('sha256').update(Buffer.concat([prev, Buffer.from(JSON.stringify([r.id, r.at, r.actor, r.action, r.target, r.detail]))])).digest()
      edit.prepare('UPDATE audit SET target = ?, prev_hash = ?, hash = ? WHERE id = ?').run(r.target, prev, hash, r.id)
      prev = hash
    }
    expect(t.store.verifyAudit()).toMatchObject({ ok: false, brokenAt: 3 })
  })

  it('a deleted last entry (truncation) is reported at the missing id', () => {
    seed()
    edit.prepare('DELETE FROM audit WHERE id = 8').run()
    const r = t.store.verifyAudit()
    expect(r).toMatchObject({ ok: false, brokenAt: 8, checked: 7 })
    expect(r.problem).toMatch(/recorded head is entry 8/)
    edit.prepare('DELETE FROM audit WHERE id >= 6').run()
    expect(t.store.verifyAudit()).toMatchObject({ ok: false, brokenAt: 6, checked: 5 })
  })

  it('a truncation stays detected after later admin actions', () => {
    seed()
    edit.prepare('DELETE FROM audit WHERE id >= 7').run()
    t.store.create({ name: 'after' })
    t.store.setPolicy({ retentionDays: 5 })
    const r = t.store.verifyAudit()
    expect(r.ok).toBe(false)
    expect(r.brokenAt).toBe(7)
  })

  it('a tampered or removed head record is reported', () => {
    seed()
    edit.prepare(`UPDATE meta SET value = ? WHERE key = 'audit_head'`).run(`7:${'00'.repeat(32)}`)
    expect(t.store.verifyAudit()).toMatchObject({ ok: false })
    edit.prepare(`DELETE FROM meta WHERE key IN ('audit_head', 'audit_head_mac')`).run()
    expect(t.store.verifyAudit()).toMatchObject({ ok: false })
  })

  it('wiping the whole log is reported', () => {
    seed()
    edit.prepare('DELETE FROM audit').run()
    expect(t.store.verifyAudit()).toMatchObject({ ok: false, brokenAt: 1, checked: 0 })
    edit.prepare(`DELETE FROM meta WHERE key IN ('audit_head', 'audit_head_mac')`).run()
    expect(t.store.verifyAudit()).toMatchObject({ ok: false, brokenAt: 1, checked: 0 })
  })

  it('an entry moved to another store’s log does not verify (MAC is keyed per store)', async () => {
    seed(2)
    const other = await openTestStore()
    try {
      other.store.create({ name: 'x' })
      const row = rawAll(other.store, 'SELECT * FROM audit WHERE id = 2')[0]!
      edit.prepare('UPDATE audit SET at = @at, actor = @actor, action = @action, target = @target, detail = @detail, prev_hash = @prev_hash, hash = @hash, mac = @mac WHERE id = 2').run(row)
      expect(t.store.verifyAudit()).toMatchObject({ ok: false, brokenAt: 2 })
    } finally {
      await other.cleanup()
    }
  })
})
