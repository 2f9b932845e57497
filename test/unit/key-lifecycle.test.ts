/**
 * Store v2 key actions: two previous secrets in grace with an explicit keep/end
 * choice, per-key disable/enable, edits within policy, scopes in use, finding a
 * key by a presented secret, reminders due once per key and threshold.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DAY, HOUR, MIN, expectKd, openTestStore, snapshot, type TestStore, rawAll } from './support'
import { openKeyStore } from '../../src/main/core/keystore'

let t: TestStore
beforeEach(async () => {
  t = await openTestStore()
  t.store.addOwner('svc', 'service')
})
afterEach(() => t.cleanup())

const ok = (key: string) => t.store.verify({ accessKey: key }).valid

describe('reset with two previous secrets in grace', () => {
  it('keep: both older secrets work until their own grace ends; a third needs "end"', () => {
    const k = t.store.create({ name: 'k', owner: 'svc' })
    t.store.verify({ accessKey: k.accessKey })
    const r1 = t.store.reset(k.accessId, { confirm: 'k', grace: '24h' })
    t.clock.advance(HOUR)
    const r2 = t.store.reset(k.accessId, { confirm: 'k', grace: '2h', previous: 'keep' })
    expect([ok(k.accessKey), ok(r1.accessKey), ok(r2.accessKey)]).toEqual([true, true, true])
    const v = t.store.get(k.accessId)
    expect(v.previousSecrets).toHaveLength(2)
    expect(v.previousSecrets[0]!.graceUntil).toBe(new Date(t.clock.t + 2 * HOUR).toISOString())
    expect(v.previousSecrets[1]!.graceUntil).toBe(new Date(t.clock.t - HOUR + 24 * HOUR).toISOString())
    // both slots in grace: a further kept grace would drop one silently, so it is refused
    const before = snapshot(t.store)
    expectKd(() => t.store.reset(k.accessId, { confirm: 'k', grace: '1h', previous: 'keep' }), 'conflict', 'previous')
    expect(snapshot(t.store)).toEqual(before)
    t.clock.advance(3 * HOUR) // r1's 2 h grace is over; the original key's 24 h is not
    expect([ok(k.accessKey), ok(r1.accessKey), ok(r2.accessKey)]).toEqual([true, false, true])
    t.clock.advance(24 * HOUR)
    expect([ok(k.accessKey), ok(r1.accessKey), ok(r2.accessKey)]).toEqual([false, false, true])
  })

  it('each previous secret has its own last use', () => {
    const k = t.store.create({ name: 'k', owner: 'svc' })
    t.store.reset(k.accessId, { confirm: 'k', grace: '24h' })
    t.clock.advance(10 * MIN)
    expect(ok(k.accessKey)).toBe(true)
    t.store.flushLastUsed()
    const v = t.store.get(k.accessId)
    expect(v.previousSecrets[0]!.lastUsedAt).toBe(new Date(t.clock.t).toISOString())
    expect(v.lastUsedAt).toBeNull()
  })

  it('end: every previous secret stops at once', () => {
    const k = t.store.create({ name: 'k', owner: 'svc' })
    const r1 = t.store.reset(k.accessId, { confirm: 'k', grace: '24h' })
    const r2 = t.store.reset(k.accessId, { confirm: 'k', grace: '1h', previous: 'end' })
    expect([ok(k.accessKey), ok(r1.accessKey), ok(r2.accessKey)]).toEqual([false, true, true])
    expect(t.store.get(k.accessId).previousSecrets).toHaveLength(1)
  })
})

describe('disable and enable one key', () => {
  it('a disabled key answers "disabled", is listed as disabled, and works again after enable; all audited', () => {
    const k = t.store.create({ name: 'k', owner: 'svc' })
    const v = t.store.disableKey(k.accessId, 'investigating')
    expect(v.status).toBe('disabled')
    expect(v.disabledAt).not.toBeNull()
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'disabled' })
    expect(t.store.list({ status: 'disabled' }).items.map((x) => x.accessId)).toEqual([k.accessId])
    expect(t.store.list({ status: 'active' }).total).toBe(0)
    expectKd(() => t.store.disableKey(k.accessId), 'conflict', 'key')
    expect(t.store.enableKey(k.accessId).status).toBe('active')
    expect(ok(k.accessKey)).toBe(true)
    expect(t.store.listAudit({ limit: 2 }).map((e) => e.action)).toEqual(['key.enable', 'key.disable'])
    t.store.revoke([k.accessId])
    expectKd(() => t.store.enableKey(k.accessId), 'conflict', 'key')
  })

  it('an edited disabled_at (switched back on by hand) is tampered', () => {
    const k = t.store.create({ name: 'k', owner: 'svc' })
    t.store.disableKey(k.accessId)
    rawAll(t.store, 'UPDATE keys SET disabled_at = NULL WHERE access_id = ?', [k.accessId])
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'tampered' })
  })
})

describe('edit a key', () => {
  it('name, description, scopes and expiry change; secrets do not; audited with from/to', () => {
    const k = t.store.create({ name: 'old', owner: 'svc', scopes: ['read'], expiresIn: '10d' })
    const v = t.store.updateKey(k.accessId, { name: 'new', description: 'moved', scopes: ['read', 'write'], expiresIn: '20d' })
    expect(v).toMatchObject({ name: 'new', description: 'moved', scopes: ['read', 'write'], expiresAt: new Date(t.clock.t + 20 * DAY).toISOString() })
    expect(t.store.verify({ accessKey: k.accessKey })).toMatchObject({ valid: true, scopes: ['read', 'write'] })
    expect(t.store.list({ scope: 'write' }).total).toBe(1)
    const e = t.store.listAudit({ action: 'key.update' })[0]!
    expect(e.detail).toMatchObject({ owner: 'svc', name: { from: 'old', to: 'new' }, scopes: { from: ['read'], to: ['read', 'write'] } })
  })

  it('expiry stays within the policy’s max age counted from creation; names stay unique; bad input names the field', () => {
    const k = t.store.create({ name: 'a', owner: 'svc', expiresIn: '350d' })
    t.store.create({ name: 'b', owner: 'svc' })
    expectKd(() => t.store.updateKey(k.accessId, { name: 'b' }), 'conflict', 'name')
    t.clock.advance(300 * DAY)
    expectKd(() => t.store.updateKey(k.accessId, { expiresIn: '100d' }), 'policy', 'expiresIn')
    expect(t.store.updateKey(k.accessId, { expiresIn: '60d' }).expiresAt).toBe(new Date(t.clock.t + 60 * DAY).toISOString())
    expectKd(() => t.store.updateKey(k.accessId, { name: '=cmd()' }), 'invalid_input', 'name')
    expectKd(() => t.store.updateKey(k.accessId, {}), 'invalid_input', 'changes')
  })

  it('a revoked or tampered key cannot be edited', () => {
    const k = t.store.create({ name: 'a', owner: 'svc' })
    rawAll(t.store, `UPDATE keys SET scopes = 'admin' WHERE access_id = ?`, [k.accessId])
    expectKd(() => t.store.updateKey(k.accessId, { description: 'x' }), 'tampered', 'key')
    const j = t.store.create({ name: 'j', owner: 'svc' })
    t.store.revoke([j.accessId])
    expectKd(() => t.store.updateKey(j.accessId, { description: 'x' }), 'conflict', 'key')
  })
})

describe('scopes in use, find by secret, reminders, stale keys', () => {
  it('scopesInUse lists the scopes of live keys', () => {
    t.store.create({ name: 'a', owner: 'svc', scopes: ['read', 'write'] })
    const b = t.store.create({ name: 'b', owner: 'svc', scopes: ['admin'] })
    t.store.revoke([b.accessId])
    expect(t.store.scopesInUse()).toEqual(['read', 'write'])
  })

  it('findByKey names the key of a current, previous or retired secret, and whether it is live', () => {
    const k = t.store.create({ name: 'leaky', owner: 'svc' })
    expect(t.store.findByKey(k.accessKey)).toMatchObject({ accessId: k.accessId, name: 'leaky', owner: 'svc', previous: false, live: true })
    const r = t.store.reset(k.accessId, { confirm: 'leaky', grace: '1h' })
    expect(t.store.findByKey(k.accessKey)).toMatchObject({ previous: true, live: true })
    t.clock.advance(2 * HOUR)
    expect(t.store.findByKey(k.accessKey)).toMatchObject({ accessId: k.accessId, previous: true, live: false })
    expect(t.store.findByKey(r.accessKey)).toMatchObject({ live: true })
    expect(t.store.findByKey('kdsk_not-a-key')).toBeNull()
    expect(JSON.stringify(t.store.findByKey(r.accessKey))).not.toContain(r.accessKey)
  })

  it('reminders: the smallest crossed threshold once per key, persisted across a restart', async () => {
    const a = t.store.create({ name: 'a', owner: 'svc', expiresIn: '20d' })
    t.store.create({ name: 'b', owner: 'svc', expiresIn: '60d' })
    const due = t.store.dueReminders()
    expect(due).toEqual([expect.objectContaining({ accessId: a.accessId, thresholdDays: 30 })])
    t.store.markReminded(due)
    expect(t.store.dueReminders()).toEqual([])
    t.store.close()
    t.store = await openKeyStore({ ...t.where, now: t.clock.now, actor: 'tester' })
    expect(t.store.dueReminders()).toEqual([])
    t.clock.advance(14 * DAY) // 6 days left: the 7-day threshold
    expect(t.store.dueReminders()).toEqual([expect.objectContaining({ accessId: a.accessId, thresholdDays: 7 })])
  })

  it('unusedForDays and the stale flag count from creation when never used', () => {
    const a = t.store.create({ name: 'a', owner: 'svc', expiresIn: '90d' })
    const b = t.store.create({ name: 'b', owner: 'svc', expiresIn: '90d' })
    t.clock.advance(20 * DAY)
    t.store.verify({ accessKey: b.accessKey })
    t.store.flushLastUsed()
    t.clock.advance(26 * DAY)
    expect(t.store.list({ unusedForDays: 45 }).items.map((k) => k.accessId)).toEqual([a.accessId])
    expect(t.store.get(a.accessId).stale).toBe(true)
    expect(t.store.get(b.accessId).stale).toBe(false)
    t.store.setPolicy({ staleAfterDays: 0 })
    expect(t.store.get(a.accessId).stale).toBe(false)
  })
})
