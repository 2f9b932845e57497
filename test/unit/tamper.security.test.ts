/**
 * Someone with write access to the database file (but not the keychain) edits rows
 * to un-revoke, extend, re-own or re-scope keys, or to loosen policy. Every such
 * edit must be detected and refused, never obeyed.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Papa from 'papaparse'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openKeyStore } from '../../src/main/core/keystore'
import type { IssuedKey } from '../../src/main/core/types'
import { DAY, HOUR, catchKdAsync, expectKd, openTestStore, type TestStore, rawConnection, type RawConnection } from './support'

let t: TestStore
let edit: RawConnection
beforeEach(async () => {
  t = await openTestStore()
  t.store.addOwner('alice')
  t.store.addOwner('mallory')
  edit = rawConnection(t.store)
})
afterEach(async () => {
  edit.close()
  await t.cleanup()
})

const sql = (s: string, ...args: unknown[]) => edit.prepare(s).run(...args)

function expectTampered(k: IssuedKey): void {
  expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'tampered' })
  expect(t.store.verify({ accessKey: k.accessKey, accessId: k.accessId })).toEqual({ valid: false, reason: 'tampered' })
  expect(t.store.get(k.accessId).tampered).toBe(true)
  const item = t.store.list({ limit: 1000 }).items.find((v) => v.accessId === k.accessId)
  expect(item?.tampered).toBe(true)
}

describe('edited key rows are refused at verify and flagged in get/list', () => {
  it('un-revoked (status back to active)', () => {
    const k = t.store.create({ name: 'k', owner: 'alice' })
    t.store.revoke([k.accessId])
    sql(`UPDATE keys SET status = 'active', revoked_at = NULL, revoked_reason = NULL WHERE access_id = ?`, k.accessId)
    expectTampered(k)
    // only status flipped, revoked_at kept
    const j = t.store.create({ name: 'j', owner: 'alice' })
    t.store.revoke([j.accessId])
    sql(`UPDATE keys SET status = 'active' WHERE access_id = ?`, j.accessId)
    expectTampered(j)
  })

  it('expiry extended', () => {
    const k = t.store.create({ name: 'k', owner: 'alice', expiresIn: '1h' })
    t.clock.advance(2 * HOUR)
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'expired' })
    sql('UPDATE keys SET expires_at = expires_at + ? WHERE access_id = ?', 365 * DAY, k.accessId)
    expectTampered(k)
  })

  it('re-owned (owner_id points at another owner)', () => {
    const k = t.store.create({ name: 'k', owner: 'alice', scopes: ['admin'] })
    sql(`UPDATE keys SET owner_id = (SELECT id FROM owners WHERE name = 'mallory') WHERE access_id = ?`, k.accessId)
    expectTampered(k)
    expect(t.store.list({ owner: 'mallory' }).items.map((v) => [v.accessId, v.tampered])).toEqual([[k.accessId, true]])
  })

  it('hashes swapped between two keys', () => {
    const [a, b] = t.store.createMany([{ name: 'a', owner: 'alice', scopes: ['admin'] }, { name: 'b', owner: 'mallory' }])
    const ha = edit.prepare('SELECT hash FROM keys WHERE access_id = ?').pluck().get(a!.accessId) as Buffer
    const hb = edit.prepare('SELECT hash FROM keys WHERE access_id = ?').pluck().get(b!.accessId) as Buffer
    edit.transaction(() => {
      sql('UPDATE keys SET hash = ? WHERE access_id = ?', Buffer.alloc(32), a!.accessId)
      sql('UPDATE keys SET hash = ? WHERE access_id = ?', ha, b!.accessId)
      sql('UPDATE keys SET hash = ? WHERE access_id = ?', hb, a!.accessId)
    })()
    // mallory's secret now finds alice's admin row, and vice versa: both refused
    expect(t.store.verify({ accessKey: b!.accessKey })).toEqual({ valid: false, reason: 'tampered' })
    expect(t.store.verify({ accessKey: a!.accessKey })).toEqual({ valid: false, reason: 'tampered' })
    expect(t.store.get(a!.accessId).tampered).toBe(true)
    expect(t.store.get(b!.accessId).tampered).toBe(true)
  })

  it('a whole row’s MAC copied from another row', () => {
    const [a, b] = t.store.createMany([{ name: 'a', owner: 'alice' }, { name: 'b', owner: 'alice' }])
    const macA = edit.prepare('SELECT mac FROM keys WHERE access_id = ?').pluck().get(a!.accessId) as Buffer
    sql('UPDATE keys SET mac = ? WHERE access_id = ?', macA, b!.accessId)
    expectTampered(b!)
    expect(t.store.verify({ accessKey: a!.accessKey }).valid).toBe(true)
  })

  it('scopes widened', () => {
    const k = t.store.create({ name: 'k', owner: 'alice', scopes: ['read'] })
    sql(`UPDATE keys SET scopes = 'admin read' WHERE access_id = ?`, k.accessId)
    expectTampered(k)
  })

  it('renamed', () => {
    const k = t.store.create({ name: 'k', owner: 'alice' })
    sql(`UPDATE keys SET name = 'innocent' WHERE access_id = ?`, k.accessId)
    expectTampered(k)
  })

  it('grace period of an old secret extended', () => {
    const k = t.store.create({ name: 'k', owner: 'alice' })
    t.store.reset(k.accessId, { confirm: 'k', grace: '1h' })
    t.clock.advance(2 * HOUR)
    expect(t.store.verify({ accessKey: k.accessKey }).valid).toBe(false)
    sql('UPDATE keys SET prev_valid_until = prev_valid_until + ? WHERE access_id = ?', 30 * DAY, k.accessId)
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'tampered' })
    expect(t.store.get(k.accessId).tampered).toBe(true)
  })

  it('MAC deleted (zeroed)', () => {
    const k = t.store.create({ name: 'k', owner: 'alice' })
    sql('UPDATE keys SET mac = ? WHERE access_id = ?', Buffer.alloc(0), k.accessId)
    expectTampered(k)
  })

  it('a tampered key cannot be reset, and the inventory export marks it', () => {
    const k = t.store.create({ name: 'k', owner: 'alice' })
    sql('UPDATE keys SET expires_at = expires_at + 1 WHERE access_id = ?', k.accessId)
    expectKd(() => t.store.reset(k.accessId, { confirm: 'k' }), 'tampered', 'key')
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'tampered' })
    const out = join(t.dir, 'inv.csv')
    t.store.exportInventory(out)
    const rows = Papa.parse<Record<string, string>>(readFileSync(out, 'utf8'), { header: true, skipEmptyLines: true }).data
    expect(rows.find((r) => r['Access ID'] === k.accessId)?.Status).toBe('tampered')
  })

  it('untouched neighbours keep working', () => {
    const [a, b] = t.store.createMany([{ name: 'a', owner: 'alice' }, { name: 'b', owner: 'alice' }])
    sql(`UPDATE keys SET status = 'revoked', revoked_at = 1 WHERE access_id = ?`, a!.accessId)
    expect(t.store.verify({ accessKey: a!.accessKey }).valid).toBe(false)
    expect(t.store.verify({ accessKey: b!.accessKey }).valid).toBe(true)
    expect(t.store.get(b!.accessId).tampered).toBe(false)
  })
})

describe('edited owners', () => {
  it('un-disabled owner: not obeyed at verify (keys carry a MAC\'d copy), flagged in get/list, and the owner cannot be used', () => {
    const k = t.store.create({ name: 'k', owner: 'mallory' })
    t.store.disableOwner('mallory')
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'owner_disabled' })
    sql(`UPDATE owners SET disabled_at = NULL WHERE name = 'mallory'`)
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'owner_disabled' })
    expect(t.store.get(k.accessId).tampered).toBe(true)
    expect(t.store.list({ limit: 1000 }).items.find((v) => v.accessId === k.accessId)?.tampered).toBe(true)
    expect(t.store.listOwners().find((o) => o.name === 'mallory')?.tampered).toBe(true)
    expectKd(() => t.store.create({ name: 'new', owner: 'mallory' }), 'tampered', 'owner')
    expectKd(() => t.store.disableOwner('mallory'), 'tampered', 'owner')
  })

  it('un-disabled owner, key copies edited too: refused as tampered', () => {
    const k = t.store.create({ name: 'k', owner: 'mallory' })
    t.store.disableOwner('mallory')
    sql(`UPDATE owners SET disabled_at = NULL WHERE name = 'mallory'`)
    sql(`UPDATE keys SET owner_disabled_at = NULL WHERE access_id = ?`, k.accessId)
    expectTampered(k)
  })

  it('owner renamed: verify keeps answering with the MAC\'d owner; get/list flag the key', () => {
    const k = t.store.create({ name: 'k', owner: 'alice' })
    sql(`UPDATE owners SET name = 'alice2' WHERE name = 'alice'`)
    expect(t.store.verify({ accessKey: k.accessKey })).toMatchObject({ valid: true, owner: 'alice' })
    expect(t.store.get(k.accessId).tampered).toBe(true)
    sql(`UPDATE keys SET owner_name = 'alice2' WHERE access_id = ?`, k.accessId)
    expectTampered(k)
  })

  it('owner kind changed', () => {
    t.store.create({ name: 'k', owner: 'alice' })
    sql(`UPDATE owners SET kind = 'service' WHERE name = 'alice'`)
    expect(t.store.listOwners().find((o) => o.name === 'alice')?.tampered).toBe(true)
  })
})

describe('edited policy', () => {
  it('a loosened policy JSON is refused: getPolicy, create and setPolicy throw tampered', () => {
    const p = JSON.parse(edit.prepare(`SELECT value FROM meta WHERE key = 'policy'`).pluck().get() as string)
    sql(`UPDATE meta SET value = ? WHERE key = 'policy'`, JSON.stringify({ ...p, maxKeyAgeDays: 3650, maxKeysPerOwner: 1_000_000 }))
    expect(expectKd(() => t.store.getPolicy(), 'tampered').message).toMatch(/policy/)
    expectKd(() => t.store.create({ name: 'x', owner: 'alice', expiresIn: '3000d' }), 'tampered')
    expectKd(() => t.store.create({ name: 'x', owner: 'alice' }), 'tampered')
    expectKd(() => t.store.setPolicy({ retentionDays: 1 }), 'tampered')
    expectKd(() => t.store.purge(), 'tampered')
  })

  it('allow-creation switched back on in the file is refused', () => {
    t.store.setPolicy({ allowCreation: false })
    const p = JSON.parse(edit.prepare(`SELECT value FROM meta WHERE key = 'policy'`).pluck().get() as string)
    sql(`UPDATE meta SET value = ? WHERE key = 'policy'`, JSON.stringify({ ...p, allowCreation: true }))
    expectKd(() => t.store.create({ name: 'x', owner: 'alice' }), 'tampered')
    expect(t.store.list().total).toBe(0)
  })

  it('policy JSON replaced by garbage, or deleted, is refused as tampered', () => {
    sql(`UPDATE meta SET value = '{not json' WHERE key = 'policy'`)
    expectKd(() => t.store.getPolicy(), 'tampered')
    expectKd(() => t.store.create({ name: 'x', owner: 'alice' }), 'tampered')
    sql(`DELETE FROM meta WHERE key = 'policy_mac'`)
    expectKd(() => t.store.getPolicy(), 'tampered')
  })
})

describe('edited store identity', () => {
  it('a store with keys whose keychain record was removed is refused at open as tampered, not re-initialised', async () => {
    t.store.create({ name: 'k', owner: 'alice' })
    t.store.close()
    sql(`DELETE FROM meta WHERE key IN ('store_id', 'keychain_fingerprint')`)
    const e = await catchKdAsync(openKeyStore({ ...t.where }))
    expect(e.kind).toBe('tampered')
    expect(edit.prepare(`SELECT count(*) FROM meta WHERE key IN ('store_id', 'keychain_fingerprint')`).pluck().get()).toBe(0)
  })

  it('a fingerprint edited in the file is refused at open', async () => {
    t.store.close()
    sql(`UPDATE meta SET value = ? WHERE key = 'keychain_fingerprint'`, 'ab'.repeat(32))
    const e = await catchKdAsync(openKeyStore({ ...t.where }))
    expect(e.kind).toBe('keychain_unavailable')
    expect(e.message).toMatch(/no longer matches/)
  })
})
