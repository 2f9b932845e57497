/**
 * Someone with the database file (not the keychain) rolls it back, one row or all of
 * it, swaps rows, launders an edited row through an owner change, edits the scope
 * index, or swaps the keychain entry's pepper. None of it may be obeyed.
 */
import Database from 'better-sqlite3'
import keytar from 'keytar'
import { copyFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openKeyStore } from '../../src/main/core/keystore'
import { KEYCHAIN_SERVICE } from '../../src/main/core/keychain'
import { decodeKeyMaterial, encodeKeyMaterial } from '../../src/main/core/crypto'
import { randomBytes } from 'node:crypto'
import { DAY, HOUR, catchKdAsync, expectKd, openTestStore, type TestStore } from './support'

let t: TestStore
let edit: Database.Database
beforeEach(async () => {
  t = await openTestStore()
  t.store.addOwner('alice')
  t.store.addOwner('bob')
  edit = new Database(t.store.dbPath)
})
afterEach(async () => {
  edit.close()
  await t.cleanup()
})

type Row = Record<string, unknown>
const row = (accessId: string): Row => edit.prepare('SELECT * FROM keys WHERE access_id = ?').get(accessId) as Row
/** Write a saved copy of a row's columns back (the single-row rollback). */
function putBack(saved: Row, cols: string[]): void {
  edit.prepare(`UPDATE keys SET ${cols.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`).run(Object.fromEntries([['id', saved.id], ...cols.map((c) => [c, saved[c]])]))
}
const SECURITY_COLS = ['hash', 'hint', 'prev_hash', 'prev_valid_until', 'prev2_hash', 'prev2_valid_until', 'status', 'revoked_at', 'revoked_reason', 'reset_at', 'mac', 'mac_version']
const reopen = () => openKeyStore({ dataDir: t.dir, now: t.clock.now, actor: 'tester', create: false })

describe('single rows copied back from an older state never verify', () => {
  it('after a revoke: the pre-revoke row (valid MAC) is refused by the revocation tombstone', () => {
    const k = t.store.create({ name: 'k', owner: 'alice' })
    const before = row(k.accessId)
    t.store.revoke([k.accessId], 'gone')
    putBack(before, SECURITY_COLS)
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'tampered' })
    expect(t.store.get(k.accessId).tampered).toBe(true)
  })

  it('after a reset: the pre-reset row brings the old secret back, and it is refused', () => {
    const k = t.store.create({ name: 'k', owner: 'alice' })
    const before = row(k.accessId)
    const r = t.store.reset(k.accessId, { confirm: 'k' })
    expect(t.store.verify({ accessKey: k.accessKey }).valid).toBe(false)
    putBack(before, SECURITY_COLS)
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'tampered' })
    expect(t.store.verify({ accessKey: r.accessKey }).valid).toBe(false)
    expect(t.store.get(k.accessId).tampered).toBe(true)
  })

  it('after a reset with grace that ended: the row from inside the grace period does not revive the old secret', () => {
    const k = t.store.create({ name: 'k', owner: 'alice' })
    t.store.reset(k.accessId, { confirm: 'k', grace: '1h' })
    const inGrace = row(k.accessId)
    t.store.reset(k.accessId, { confirm: 'k', previous: 'end' })
    putBack(inGrace, SECURITY_COLS)
    expect(t.store.verify({ accessKey: k.accessKey }).valid).toBe(false)
  })

  it('a purged row re-inserted (from before its revoke) does not verify', () => {
    const k = t.store.create({ name: 'k', owner: 'alice' })
    const before = row(k.accessId)
    t.store.revoke([k.accessId])
    t.clock.advance(100 * DAY)
    expect(t.store.purge().purged).toBe(1)
    const cols = Object.keys(before)
    edit.prepare(`INSERT INTO keys (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`).run(before)
    t.clock.t -= 100 * DAY // even at a time the old row would still be live
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'tampered' })
  })

  it('an expired key purged and re-inserted is refused too (every purged access ID keeps a tombstone)', () => {
    const k = t.store.create({ name: 'k', owner: 'alice', expiresIn: '1h' })
    const before = row(k.accessId)
    t.clock.advance(100 * DAY)
    expect(t.store.purge().purged).toBe(1)
    const cols = Object.keys(before)
    edit.prepare(`INSERT INTO keys (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`).run(before)
    t.clock.t -= 100 * DAY
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'tampered' })
  })

  it('the policy copied back from before a change is refused', () => {
    const meta = (k: string) => edit.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(k) as string
    const old = { policy: meta('policy'), mac: meta('policy_mac') }
    t.store.setPolicy({ allowCreation: false })
    edit.prepare(`UPDATE meta SET value = ? WHERE key = 'policy'`).run(old.policy)
    edit.prepare(`UPDATE meta SET value = ? WHERE key = 'policy_mac'`).run(old.mac)
    expect(expectKd(() => t.store.getPolicy(), 'tampered').message).toMatch(/older than its last recorded change/)
    expectKd(() => t.store.create({ name: 'x', owner: 'alice' }), 'tampered')
  })

  it('deleting a tombstone is caught at the next open', async () => {
    const k = t.store.create({ name: 'k', owner: 'alice' })
    t.store.revoke([k.accessId])
    edit.prepare('DELETE FROM revocations').run()
    t.store.close()
    const e = await catchKdAsync(reopen())
    expect(e.kind).toBe('tampered')
    expect(e.message).toMatch(/tombstones/)
  })
})

describe('the whole store copied back (rollback) is refused at open', () => {
  async function snapshotFile(): Promise<string> {
    t.store.close()
    const copy = join(t.dir, 'old.sqlite')
    copyFileSync(t.store.dbPath, copy)
    t.store = await reopen()
    return copy
  }
  function restoreFile(copy: string): void {
    t.store.close()
    for (const f of ['-wal', '-shm']) rmSync(t.store.dbPath + f, { force: true })
    copyFileSync(copy, t.store.dbPath)
  }

  it('a revoke undone by copying the old file back', async () => {
    const k = t.store.create({ name: 'k', owner: 'alice' })
    const copy = await snapshotFile()
    t.store.revoke([k.accessId])
    await t.store.settled()
    restoreFile(copy)
    const e = await catchKdAsync(reopen())
    expect(e.kind).toBe('tampered')
    expect(e.message).toMatch(/this store is older than its last known state — was a backup restored\? use `keydesk restore`/)
  })

  it('the audit tail cut back together with its old pinned head', async () => {
    t.store.create({ name: 'k', owner: 'alice' })
    const head = edit.prepare(`SELECT key, value FROM meta WHERE key IN ('audit_head', 'audit_head_mac')`).all() as { key: string; value: string }[]
    const last = edit.prepare('SELECT max(id) FROM audit').pluck().get() as number
    t.store.create({ name: 'j', owner: 'alice' })
    await t.store.settled()
    t.store.close()
    edit.prepare('DELETE FROM audit WHERE id > ?').run(last)
    for (const h of head) edit.prepare('UPDATE meta SET value = ? WHERE key = ?').run(h.value, h.key)
    edit.prepare('DELETE FROM keys WHERE name = ?').run('j')
    const e = await catchKdAsync(reopen())
    expect(e.kind).toBe('tampered')
    expect(e.message).toMatch(/older than its last known state/)
  })

  it('a store one write ahead of its anchor (crash before the keychain update) is accepted and re-anchored', async () => {
    t.store.create({ name: 'k', owner: 'alice' })
    await t.store.settled()
    const anchorBefore = await keytar.getPassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`)
    t.store.create({ name: 'j', owner: 'alice' })
    await t.store.settled()
    t.store.close()
    await keytar.setPassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`, anchorBefore!) // as if the process died before it
    t.store = await reopen()
    await t.store.settled()
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`)).not.toBe(anchorBefore)
  })
})

describe('MACs bind rows to their ids; nothing is laundered', () => {
  it('owner disable/enable does not re-sign an edited key: it fails loudly and the key stays tampered', () => {
    const k = t.store.create({ name: 'k', owner: 'alice', expiresIn: '1h' })
    t.store.revoke([k.accessId])
    edit.prepare(`UPDATE keys SET status = 'active', revoked_at = NULL, scopes = 'admin', expires_at = expires_at + ? WHERE access_id = ?`).run(3650 * DAY, k.accessId)
    expect(expectKd(() => t.store.disableOwner('alice'), 'tampered').message).toMatch(new RegExp(k.accessId))
    expect(t.store.listOwners().find((o) => o.name === 'alice')!.disabledAt).toBeNull()
    expectKd(() => t.store.enableOwner('alice'), 'conflict')
    expect(t.store.verify({ accessKey: k.accessKey }).valid).toBe(false)
    expect(t.store.get(k.accessId).tampered).toBe(true)
  })

  it('two owner rows swapped: revoke --owner alice refuses instead of revoking bob’s key', () => {
    const a = t.store.create({ name: 'a', owner: 'alice' })
    const b = t.store.create({ name: 'b', owner: 'bob' })
    edit.exec(`UPDATE owners SET name = 'tmp' WHERE name = 'alice'; UPDATE owners SET name = 'alice' WHERE name = 'bob'; UPDATE owners SET name = 'bob' WHERE name = 'tmp';`)
    const swapMacs = edit.prepare('SELECT id, mac FROM owners WHERE name IN (?, ?) ORDER BY id').all('alice', 'bob') as { id: number; mac: Buffer }[]
    edit.prepare('UPDATE owners SET mac = ? WHERE id = ?').run(swapMacs[1]!.mac, swapMacs[0]!.id)
    edit.prepare('UPDATE owners SET mac = ? WHERE id = ?').run(swapMacs[0]!.mac, swapMacs[1]!.id)
    expectKd(() => t.store.revokeOwnerKeys('alice'), 'tampered', 'owner')
    // Verify answers from the key row's own MAC'd owner copy: the swap changes nothing there.
    expect(t.store.verify({ accessKey: b.accessKey })).toMatchObject({ valid: true, owner: 'bob' })
    expect(t.store.get(b.accessId).status).toBe('active')
    expect(t.store.get(a.accessId).tampered).toBe(true)
    expect(t.store.get(b.accessId).tampered).toBe(true)
  })

  it('two key rows swapped between ids are both tampered', () => {
    const a = t.store.create({ name: 'a', owner: 'alice', scopes: ['read'] })
    const b = t.store.create({ name: 'b', owner: 'bob', scopes: ['admin'] })
    const ra = row(a.accessId)
    const rb = row(b.accessId)
    edit.prepare('DELETE FROM keys WHERE id IN (?, ?)').run(ra.id, rb.id)
    const cols = Object.keys(ra)
    const ins = edit.prepare(`INSERT INTO keys (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`)
    ins.run({ ...ra, id: rb.id })
    ins.run({ ...rb, id: ra.id })
    expect(t.store.verify({ accessKey: a.accessKey })).toEqual({ valid: false, reason: 'tampered' })
    expect(t.store.verify({ accessKey: b.accessKey })).toEqual({ valid: false, reason: 'tampered' })
  })

  it('key_scopes edits: an added index row does not put a key in a scope filter or revoke-matching; check reports the edit', async () => {
    const a = t.store.create({ name: 'a', owner: 'alice', scopes: ['read'] })
    const b = t.store.create({ name: 'b', owner: 'alice', scopes: ['admin'] })
    edit.prepare('INSERT INTO key_scopes (scope, key_id) VALUES (?, ?)').run('admin', row(a.accessId).id)
    expect(t.store.list({ scope: 'admin' }).items.map((k) => k.accessId)).toEqual([b.accessId])
    expect(t.store.revokeMatching({ scope: 'admin' }, 1).revoked).toBe(1)
    expect(t.store.verify({ accessKey: a.accessKey }).valid).toBe(true)
    const r = await t.store.check()
    expect(r.ok).toBe(false)
    expect(r.problems.join('\n')).toMatch(/scope index disagrees/)
  })

  it('key_scopes rows deleted: check reports the edit', async () => {
    const a = t.store.create({ name: 'a', owner: 'alice', scopes: ['read'] })
    expect((await t.store.check()).ok).toBe(true)
    edit.prepare('DELETE FROM key_scopes WHERE key_id = ?').run(row(a.accessId).id)
    const r = await t.store.check()
    expect(r.ok).toBe(false)
    expect(r.problems.join('\n')).toMatch(/scope index disagrees with 1 key row/)
  })
})

describe('the keychain entry', () => {
  it('an entry with a different pepper (same MAC key) is refused, not answered with "unknown" for every key', async () => {
    t.store.create({ name: 'k', owner: 'alice' })
    t.store.close()
    const m = decodeKeyMaterial((await keytar.getPassword(KEYCHAIN_SERVICE, t.storeId))!)
    await keytar.setPassword(KEYCHAIN_SERVICE, t.storeId, encodeKeyMaterial({ pepper: randomBytes(32), macKey: m.macKey }))
    const e = await catchKdAsync(reopen())
    expect(e.kind).toBe('keychain_unavailable')
    expect(e.message).toMatch(/has changed and no longer matches/)
    await keytar.setPassword(KEYCHAIN_SERVICE, t.storeId, encodeKeyMaterial(m))
    t.store = await reopen()
  })
})

describe('keydesk check', () => {
  it('an intact store passes; an edited row, an edited tombstone and a broken audit link are each named', async () => {
    const k = t.store.create({ name: 'k', owner: 'alice' })
    const j = t.store.create({ name: 'j', owner: 'alice' })
    t.store.revoke([j.accessId])
    const ok = await t.store.check()
    expect(ok).toMatchObject({ ok: true, problems: [] })
    expect(ok.counts).toMatchObject({ keys: 2, owners: 2, tombstones: 1 })
    edit.prepare('UPDATE keys SET expires_at = expires_at + ? WHERE access_id = ?').run(HOUR, k.accessId)
    edit.prepare('UPDATE revocations SET at = at + 1').run()
    edit.prepare(`UPDATE audit SET detail = '{}' WHERE id = 2`).run()
    const bad = await t.store.check()
    expect(bad.ok).toBe(false)
    const text = bad.problems.join('\n')
    expect(text).toMatch(new RegExp(`1 key row\\(s\\) were edited.*${k.accessId}`))
    expect(text).toMatch(/1 tombstone\(s\) .* were edited/)
    expect(text).toMatch(/audit log: entry 2 was altered/)
  })
})
