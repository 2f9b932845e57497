import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { newAccessId, newAccessKey } from '../../src/main/core/keyformat'
import { HOUR, MIN, openTestStore, type TestStore } from './support'

let t: TestStore
beforeEach(async () => {
  t = await openTestStore()
})
afterEach(() => t.cleanup())

const typo = (k: string, pos = 20) => k.slice(0, pos) + (k[pos] === 'A' ? 'B' : 'A') + k.slice(pos + 1)

describe('verify: success', () => {
  it('with the key alone and with access ID + key, returns access ID, owner and scopes', () => {
    t.store.addOwner('svc-api', 'service')
    const k = t.store.create({ name: 'api', owner: 'svc-api', scopes: ['orders:read', 'orders:write'] })
    const expected = { valid: true, accessId: k.accessId, owner: 'svc-api', scopes: ['orders:read', 'orders:write'] }
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual(expected)
    expect(t.store.verify({ accessKey: k.accessKey, accessId: k.accessId })).toEqual(expected)
    // surrounding whitespace (a key read from stdin) is ignored
    expect(t.store.verify({ accessKey: ` ${k.accessKey}\n` })).toEqual(expected)
  })

  it('a key without scopes returns an empty list', () => {
    const k = t.store.create({ name: 'plain' })
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: true, accessId: k.accessId, owner: 'tester', scopes: [] })
  })
})

describe('verify: every failure reason', () => {
  it('malformed: wrong shape, wrong checksum (a typo) or a malformed access ID', () => {
    const k = t.store.create({ name: 'k' })
    for (const bad of ['', 'nope', k.accessKey.slice(0, -1), k.accessKey + 'x', typo(k.accessKey), typo(k.accessKey, 40), k.accessId, 'Bearer ' + k.accessKey])
      expect(t.store.verify({ accessKey: bad })).toEqual({ valid: false, reason: 'malformed' })
    expect(t.store.verify({ accessKey: k.accessKey, accessId: 'kdid_short' })).toEqual({ valid: false, reason: 'malformed' })
    expect(t.store.verify({ accessKey: k.accessKey, accessId: k.accessKey })).toEqual({ valid: false, reason: 'malformed' })
    expect(t.store.verify({ accessKey: 42 as unknown as string })).toEqual({ valid: false, reason: 'malformed' })
  })

  it('malformed keys are rejected before any lookup (works even with the database closed)', () => {
    const k = t.store.create({ name: 'k' })
    t.store.database.close()
    expect(t.store.verify({ accessKey: typo(k.accessKey) })).toEqual({ valid: false, reason: 'malformed' })
    expect(t.store.verify({ accessKey: 'garbage' })).toEqual({ valid: false, reason: 'malformed' })
    // a well-formed key does need the lookup, so it cannot be answered now
    expect(() => t.store.verify({ accessKey: k.accessKey })).toThrow()
  })

  it('unknown: well-formed, never issued (with no access ID, or an access ID that does not exist)', () => {
    t.store.create({ name: 'k' })
    expect(t.store.verify({ accessKey: newAccessKey() })).toEqual({ valid: false, reason: 'unknown' })
    expect(t.store.verify({ accessKey: newAccessKey(), accessId: newAccessId() })).toEqual({ valid: false, reason: 'unknown' })
  })

  it('mismatch: the access ID exists but the key is not its key', () => {
    const [a, b] = t.store.createMany([{ name: 'a' }, { name: 'b' }])
    expect(t.store.verify({ accessKey: b!.accessKey, accessId: a!.accessId })).toEqual({ valid: false, reason: 'mismatch' })
    expect(t.store.verify({ accessKey: newAccessKey(), accessId: a!.accessId })).toEqual({ valid: false, reason: 'mismatch' })
    // a valid key with a non-existent access ID is not accepted either
    expect(t.store.verify({ accessKey: a!.accessKey, accessId: newAccessId() }).valid).toBe(false)
  })

  it('revoked', () => {
    const k = t.store.create({ name: 'k' })
    t.store.revoke([k.accessId])
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'revoked' })
    expect(t.store.verify({ accessKey: k.accessKey, accessId: k.accessId })).toEqual({ valid: false, reason: 'revoked' })
  })

  it('expired: at the expiry instant and after, not before', () => {
    const k = t.store.create({ name: 'k', expiresIn: '1h' })
    t.clock.advance(HOUR - 1)
    expect(t.store.verify({ accessKey: k.accessKey }).valid).toBe(true)
    t.clock.advance(1)
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'expired' })
    t.clock.advance(HOUR)
    expect(t.store.verify({ accessKey: k.accessKey, accessId: k.accessId })).toEqual({ valid: false, reason: 'expired' })
  })

  it('owner_disabled', () => {
    t.store.addOwner('svc', 'service')
    const k = t.store.create({ name: 'k', owner: 'svc' })
    t.store.disableOwner('svc')
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'owner_disabled' })
  })

  it('tampered: the row was edited in the database file', () => {
    const k = t.store.create({ name: 'k', expiresIn: '1h' })
    const db = new Database(t.store.dbPath)
    db.prepare('UPDATE keys SET expires_at = expires_at + ? WHERE access_id = ?').run(100 * HOUR, k.accessId)
    db.close()
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'tampered' })
    expect(t.store.verify({ accessKey: k.accessKey, accessId: k.accessId })).toEqual({ valid: false, reason: 'tampered' })
  })

  it('failures carry nothing but the reason', () => {
    const k = t.store.create({ name: 'k' })
    t.store.revoke([k.accessId])
    for (const r of [t.store.verify({ accessKey: k.accessKey }), t.store.verify({ accessKey: newAccessKey() }), t.store.verify({ accessKey: 'x' })])
      expect(Object.keys(r).sort()).toEqual(['reason', 'valid'])
  })
})

describe('verify: last used', () => {
  const lastUsed = (id: string) => t.store.get(id).lastUsedAt
  const at = (ms: number) => new Date(ms).toISOString()

  it('is recorded, at most once a minute per key', () => {
    const k = t.store.create({ name: 'k' })
    expect(lastUsed(k.accessId)).toBeNull()
    const t0 = t.clock.t
    expect(t.store.verify({ accessKey: k.accessKey }).valid).toBe(true)
    t.store.flushLastUsed()
    expect(lastUsed(k.accessId)).toBe(at(t0))
    // within the minute: not moved
    t.clock.advance(30_000)
    t.store.verify({ accessKey: k.accessKey })
    t.clock.advance(29_999)
    t.store.verify({ accessKey: k.accessKey })
    t.store.flushLastUsed()
    expect(lastUsed(k.accessId)).toBe(at(t0))
    // a minute later: moved
    t.clock.advance(1)
    t.store.verify({ accessKey: k.accessKey })
    t.store.flushLastUsed()
    expect(lastUsed(k.accessId)).toBe(at(t0 + MIN))
  })

  it('is batched: verify never writes; pending until flushLastUsed, then written', () => {
    const [a, b] = t.store.createMany([{ name: 'a' }, { name: 'b' }])
    const ta = t.clock.t
    t.store.verify({ accessKey: a!.accessKey })
    t.clock.advance(1000)
    const tb = t.clock.t
    t.store.verify({ accessKey: b!.accessKey })
    expect(lastUsed(a!.accessId)).toBeNull()
    expect(lastUsed(b!.accessId)).toBeNull()
    // however much time passes and however many keys are used, verify itself does not write
    t.clock.advance(2 * MIN)
    for (const k of t.store.createMany(Array.from({ length: 50 }, (_, i) => ({ name: `many-${i}` })))) t.store.verify({ accessKey: k.accessKey })
    expect(lastUsed(a!.accessId)).toBeNull()
    t.store.flushLastUsed()
    expect(lastUsed(a!.accessId)).toBe(at(ta))
    expect(lastUsed(b!.accessId)).toBe(at(tb))
  })

  it('flushLastUsed(maxRows) writes at most that many, oldest first, and says how many are left', () => {
    const ks = t.store.createMany(Array.from({ length: 5 }, (_, i) => ({ name: `slice-${i}` })))
    for (const k of ks) {
      t.store.verify({ accessKey: k.accessKey })
      t.clock.advance(10)
    }
    expect(t.store.flushLastUsed(2)).toBe(3)
    expect(ks.map((k) => lastUsed(k.accessId) !== null)).toEqual([true, true, false, false, false])
    expect(t.store.flushLastUsed(2)).toBe(1)
    expect(t.store.flushLastUsed()).toBe(0)
    expect(ks.every((k) => lastUsed(k.accessId) !== null)).toBe(true)
    expect(t.store.flushLastUsed(10)).toBe(0)
  })

  it('pending uses are written on close', async () => {
    const [a, b] = t.store.createMany([{ name: 'a' }, { name: 'b' }])
    t.store.verify({ accessKey: a!.accessKey })
    t.clock.advance(1000)
    t.store.verify({ accessKey: b!.accessKey })
    t.store.close()
    const db = new Database(t.store.dbPath, { readonly: true })
    const row = db.prepare('SELECT last_used_at FROM keys WHERE access_id = ?').pluck().get(b!.accessId)
    db.close()
    expect(row).toBe(t.clock.t)
  })

  it('failed verifications record nothing; recording does not disturb the row MAC', () => {
    const k = t.store.create({ name: 'k', expiresIn: '1h' })
    t.clock.advance(HOUR)
    t.store.verify({ accessKey: k.accessKey })
    t.store.flushLastUsed()
    expect(lastUsed(k.accessId)).toBeNull()
    const j = t.store.create({ name: 'j' })
    t.store.verify({ accessKey: j.accessKey })
    t.store.flushLastUsed()
    expect(t.store.get(j.accessId)).toMatchObject({ tampered: false })
    expect(t.store.verify({ accessKey: j.accessKey }).valid).toBe(true)
  })
})
