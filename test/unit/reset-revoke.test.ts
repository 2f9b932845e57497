import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Papa from 'papaparse'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isWellFormedAccessKey } from '../../src/main/core/keyformat'
import { DAY, HOUR, MIN, expectKd, openTestStore, snapshot, type TestStore } from './support'

let t: TestStore
beforeEach(async () => {
  t = await openTestStore()
})
afterEach(() => t.cleanup())

const ok = (key: string, accessId?: string) => t.store.verify({ accessKey: key, accessId }).valid

describe('reset', () => {
  it('the confirmation must equal the name exactly: case and spacing are refused, nothing changes', () => {
    const k = t.store.create({ name: 'Payroll Prod' })
    const before = snapshot(t.store)
    for (const confirm of ['payroll prod', 'PAYROLL PROD', 'Payroll  Prod', ' Payroll Prod', 'Payroll Prod ', 'Payroll', '']) {
      const e = expectKd(() => t.store.reset(k.accessId, { confirm }), 'invalid_input', 'confirm')
      expect(e.message).toContain('"Payroll Prod"')
    }
    expect(snapshot(t.store)).toEqual(before)
    expect(ok(k.accessKey)).toBe(true)
    expect(t.store.get(k.accessId).resetAt).toBeNull()
  })

  it('issues a new secret; the old one stops verifying at once', () => {
    const k = t.store.create({ name: 'svc', scopes: ['read'] })
    t.clock.advance(MIN)
    const r = t.store.reset('svc', { confirm: 'svc' })
    expect(r.accessId).toBe(k.accessId)
    expect(r.accessKey).not.toBe(k.accessKey)
    expect(isWellFormedAccessKey(r.accessKey)).toBe(true)
    expect(r).toMatchObject({ name: 'svc', owner: 'tester', scopes: ['read'], expiresAt: k.expiresAt })
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'unknown' })
    expect(t.store.verify({ accessKey: k.accessKey, accessId: k.accessId })).toEqual({ valid: false, reason: 'mismatch' })
    expect(t.store.verify({ accessKey: r.accessKey, accessId: k.accessId })).toMatchObject({ valid: true, accessId: k.accessId })
    const v = t.store.get(k.accessId)
    expect(v.resetAt).toBe(new Date(t.clock.t).toISOString())
    expect(v.hint).toBe(r.accessKey.slice(0, 9))
    expect(v.graceUntil).toBeNull()
    expect(v.tampered).toBe(false)
  })

  it('with a grace period the old secret verifies until the grace ends, then fails', () => {
    const k = t.store.create({ name: 'rolling' })
    const r = t.store.reset(k.accessId, { confirm: 'rolling', grace: '24h' })
    const until = t.clock.t + 24 * HOUR
    expect(t.store.get(k.accessId).graceUntil).toBe(new Date(until).toISOString())
    expect(ok(k.accessKey)).toBe(true)
    expect(ok(k.accessKey, k.accessId)).toBe(true)
    expect(ok(r.accessKey)).toBe(true)
    t.clock.advance(24 * HOUR - 1)
    expect(ok(k.accessKey)).toBe(true)
    t.clock.advance(1)
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'unknown' })
    expect(t.store.verify({ accessKey: k.accessKey, accessId: k.accessId })).toEqual({ valid: false, reason: 'mismatch' })
    expect(ok(r.accessKey)).toBe(true)
    expect(t.store.get(k.accessId).graceUntil).toBeNull()
  })

  it('the grace period never outlives the key, and is at most 30 days', () => {
    const k = t.store.create({ name: 'short', expiresIn: '2h' })
    t.store.reset(k.accessId, { confirm: 'short', grace: '24h' })
    expect(t.store.get(k.accessId).graceUntil).toBe(k.expiresAt)
    expectKd(() => t.store.reset(k.accessId, { confirm: 'short', grace: '31d' }), 'invalid_input', 'grace')
    expectKd(() => t.store.reset(k.accessId, { confirm: 'short', grace: 'soon' }), 'invalid_input', 'grace')
  })

  it('a reset without grace during an earlier grace ends both older secrets', () => {
    const k = t.store.create({ name: 'twice' })
    const r1 = t.store.reset(k.accessId, { confirm: 'twice', grace: '1h' })
    expect(ok(k.accessKey)).toBe(true)
    const r2 = t.store.reset(k.accessId, { confirm: 'twice', previous: 'end' })
    expect(ok(k.accessKey)).toBe(false)
    expect(ok(r1.accessKey)).toBe(false)
    expect(ok(r2.accessKey)).toBe(true)
  })

  it('a revoked key cannot be reset; nor can an expired one', () => {
    const a = t.store.create({ name: 'gone' })
    t.store.revoke([a.accessId])
    const before = snapshot(t.store)
    expect(expectKd(() => t.store.reset(a.accessId, { confirm: 'gone' }), 'conflict', 'key').message).toMatch(/revoked/)
    const b = t.store.create({ name: 'old', expiresIn: '1h' })
    t.clock.advance(HOUR)
    expect(expectKd(() => t.store.reset(b.accessId, { confirm: 'old' }), 'conflict', 'key').message).toMatch(/expired/)
    expect(snapshot(t.store).audit).toBe(before.audit + 1) // the create of b; no reset was recorded
    expect(t.store.listAudit({ action: 'key.reset' })).toEqual([])
  })

  it('resolves by name; an ambiguous name is refused listing candidates; --owner picks one', () => {
    t.store.addOwner('alice')
    t.store.addOwner('bob')
    const a = t.store.create({ name: 'shared', owner: 'alice' })
    const b = t.store.create({ name: 'shared', owner: 'bob' })
    const e = expectKd(() => t.store.reset('shared', { confirm: 'shared' }), 'conflict', 'key')
    expect(e.message).toContain(a.accessId)
    expect(e.message).toContain(b.accessId)
    const r = t.store.reset('shared', { confirm: 'shared', owner: 'bob' })
    expect(r.accessId).toBe(b.accessId)
    expect(ok(a.accessKey)).toBe(true)
    expectKd(() => t.store.reset('missing', { confirm: 'missing' }), 'not_found', 'key')
    expectKd(() => t.store.reset('kdid_0000000000000000', { confirm: 'x' }), 'not_found', 'key')
  })

  it('writes the new secret to a credential CSV (0600) when asked', () => {
    const k = t.store.create({ name: 'csv-reset' })
    const out = join(t.dir, 'reset.csv')
    const r = t.store.reset(k.accessId, { confirm: 'csv-reset' }, out)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    const rows = Papa.parse<Record<string, string>>(readFileSync(out, 'utf8'), { header: true, skipEmptyLines: true }).data
    expect(rows).toEqual([expect.objectContaining({ Name: 'csv-reset', 'Access ID': k.accessId, 'Access Key': r.accessKey })])
  })

  it('a failed reset with a CSV path writes no file and keeps the old secret', () => {
    const k = t.store.create({ name: 'keep' })
    const out = join(t.dir, 'nope.csv')
    expectKd(() => t.store.reset(k.accessId, { confirm: 'Keep' }, out), 'invalid_input', 'confirm')
    expect(existsSync(out)).toBe(false)
    expect(ok(k.accessKey)).toBe(true)
  })
})

describe('revoke', () => {
  it('one key, with a reason recorded; verify then says revoked', () => {
    const k = t.store.create({ name: 'one' })
    t.clock.advance(MIN)
    const [v] = t.store.revoke([k.accessId], '  leaked in a log  ')
    expect(v).toMatchObject({ accessId: k.accessId, status: 'revoked', revokedReason: 'leaked in a log', revokedAt: new Date(t.clock.t).toISOString(), tampered: false })
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'revoked' })
    expect(t.store.listAudit({ action: 'key.revoke' })[0]).toMatchObject({ target: k.accessId, detail: { reason: 'leaked in a log' } })
  })

  it('many keys at once, by access ID or name', () => {
    const ks = t.store.createMany([{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }])
    const out = t.store.revoke([ks[0]!.accessId, 'b', ks[2]!.accessId])
    expect(out.map((v) => v.status)).toEqual(['revoked', 'revoked', 'revoked'])
    expect(ks.map((k) => t.store.verify({ accessKey: k.accessKey }).valid)).toEqual([false, false, false, true])
    expect(t.store.get(ks[0]!.accessId).revokedReason).toBeNull()
  })

  it('is all-or-nothing: one already-revoked key in the list revokes none', () => {
    const ks = t.store.createMany([{ name: 'a' }, { name: 'b' }, { name: 'c' }])
    t.store.revoke([ks[1]!.accessId])
    const before = snapshot(t.store)
    const e = expectKd(() => t.store.revoke(ks.map((k) => k.accessId), 'cleanup'), 'conflict', 'key')
    expect(e.message).toContain(ks[1]!.accessId)
    expect(snapshot(t.store)).toEqual(before)
    expect(t.store.get(ks[0]!.accessId).status).toBe('active')
    expect(t.store.get(ks[2]!.accessId).status).toBe('active')
    expect(t.store.verify({ accessKey: ks[2]!.accessKey }).valid).toBe(true)
  })

  it('all-or-nothing also for an unknown key or a key listed twice', () => {
    const ks = t.store.createMany([{ name: 'a' }, { name: 'b' }])
    const before = snapshot(t.store)
    expectKd(() => t.store.revoke([ks[0]!.accessId, 'kdid_0000000000000000']), 'not_found', 'key')
    expectKd(() => t.store.revoke([ks[0]!.accessId, 'a']), 'invalid_input', 'keys')
    expectKd(() => t.store.revoke([]), 'invalid_input', 'keys')
    expect(snapshot(t.store)).toEqual(before)
    expect(t.store.list({ status: 'revoked' }).total).toBe(0)
  })

  it('refuses a bad reason', () => {
    const k = t.store.create({ name: 'r' })
    expectKd(() => t.store.revoke([k.accessId], 'x'.repeat(501)), 'invalid_input', 'reason')
    expectKd(() => t.store.revoke([k.accessId], 'bad\u0000reason'), 'invalid_input', 'reason')
    expectKd(() => t.store.revoke([k.accessId], 'bad\u202ereason'), 'invalid_input', 'reason')
    expect(t.store.get(k.accessId).status).toBe('active')
  })

  it('is irreversible: a revoked key stays revoked and its name is free again', () => {
    const k = t.store.create({ name: 'final' })
    t.store.revoke([k.accessId])
    expectKd(() => t.store.revoke([k.accessId]), 'conflict', 'key')
    t.clock.advance(DAY)
    expect(t.store.get(k.accessId).status).toBe('revoked')
    const again = t.store.create({ name: 'final' })
    // by name, the live key is the one found
    expect(t.store.get('final').accessId).toBe(again.accessId)
  })
})

describe('owners', () => {
  it('add, list (kind, counts), refuse a duplicate', () => {
    t.store.addOwner('alice')
    t.store.addOwner('svc-ci', 'service')
    expect(expectKd(() => t.store.addOwner('alice'), 'conflict', 'owner').message).toMatch(/already exists/)
    t.store.create({ name: 'k1', owner: 'svc-ci' })
    const owners = t.store.listOwners()
    expect(owners.map((o) => [o.name, o.kind])).toEqual([['alice', 'user'], ['svc-ci', 'service']])
    expect(owners[1]!.keys).toEqual({ active: 1, expired: 0, revoked: 0 })
    expect(owners.every((o) => !o.tampered && o.disabledAt === null)).toBe(true)
  })

  it('revoke all keys of an owner in one step; other owners untouched', () => {
    t.store.addOwner('alice')
    t.store.addOwner('bob')
    const a = t.store.createMany([{ name: 'a1', owner: 'alice' }, { name: 'a2', owner: 'alice' }, { name: 'a3', owner: 'alice' }])
    t.store.revoke([a[0]!.accessId])
    const b = t.store.create({ name: 'b1', owner: 'bob' })
    const out = t.store.revokeOwnerKeys('alice', 'offboarded')
    expect(out).toEqual({ owner: 'alice', revoked: 2 })
    for (const k of a) expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'revoked' })
    expect(t.store.get(a[1]!.accessId).revokedReason).toBe('offboarded')
    expect(t.store.get(a[0]!.accessId).revokedReason).toBeNull()
    expect(t.store.verify({ accessKey: b.accessKey }).valid).toBe(true)
    expect(t.store.listAudit({ action: 'owner.revoke_all' })[0]).toMatchObject({ target: 'alice', detail: { revoked: 2, reason: 'offboarded' } })
    expect(t.store.revokeOwnerKeys('alice')).toEqual({ owner: 'alice', revoked: 0 })
    expectKd(() => t.store.revokeOwnerKeys('nobody'), 'not_found', 'owner')
  })

  it('disabling an owner makes its keys fail with owner_disabled; disabling twice is refused', () => {
    t.store.addOwner('carol', 'service')
    const k = t.store.create({ name: 'c1', owner: 'carol' })
    const other = t.store.create({ name: 'mine' })
    t.clock.advance(MIN)
    const v = t.store.disableOwner('carol')
    expect(v.disabledAt).toBe(new Date(t.clock.t).toISOString())
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'owner_disabled' })
    expect(t.store.verify({ accessKey: other.accessKey }).valid).toBe(true)
    expect(t.store.get(k.accessId)).toMatchObject({ ownerDisabled: true, status: 'active', tampered: false })
    expectKd(() => t.store.disableOwner('carol'), 'conflict', 'owner')
    expectKd(() => t.store.disableOwner('nobody'), 'not_found', 'owner')
  })
})
