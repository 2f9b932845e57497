import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isWellFormedAccessKey } from '../../src/main/core/keyformat'
import { DAY, HOUR, MIN, T0, expectKd, openTestStore, snapshot, type TestStore } from './support'

let t: TestStore
beforeEach(async () => {
  t = await openTestStore()
})
afterEach(() => t.cleanup())

const iso = (ms: number) => new Date(ms).toISOString()

describe('create: the issued key', () => {
  it('returns a well-formed pair once, with name, owner, scopes and expiry; it verifies', () => {
    t.store.addOwner('svc-billing', 'service')
    const k = t.store.create({ name: 'billing/prod', owner: 'svc-billing', scopes: ['write', 'read', 'read'], description: 'prod billing' })
    expect(k.accessId).toMatch(/^kdid_[0-9A-Za-z]{16}$/)
    expect(isWellFormedAccessKey(k.accessKey)).toBe(true)
    expect(k).toMatchObject({ name: 'billing/prod', owner: 'svc-billing', scopes: ['read', 'write'] })
    const v = t.store.get(k.accessId)
    expect(v).toMatchObject({ name: 'billing/prod', owner: 'svc-billing', ownerKind: 'service', description: 'prod billing', scopes: ['read', 'write'], status: 'active', tampered: false })
    expect(v.hint).toBe(k.accessKey.slice(0, 9))
    expect(t.store.verify({ accessKey: k.accessKey, accessId: k.accessId })).toEqual({ valid: true, accessId: k.accessId, owner: 'svc-billing', scopes: ['read', 'write'] })
  })
})

describe('create: expiry', () => {
  it('defaults to the policy default (30 days)', () => {
    expect(t.store.create({ name: 'a' }).expiresAt).toBe(iso(T0 + 30 * DAY))
    t.store.setPolicy({ defaultExpiryDays: 7 })
    expect(t.store.create({ name: 'b' }).expiresAt).toBe(iso(T0 + 7 * DAY))
  })

  it('takes a duration (m, h, d) or an ISO-8601 date / date-time', () => {
    expect(t.store.create({ name: 'm', expiresIn: '90m' }).expiresAt).toBe(iso(T0 + 90 * MIN))
    expect(t.store.create({ name: 'h', expiresIn: '12h' }).expiresAt).toBe(iso(T0 + 12 * HOUR))
    expect(t.store.create({ name: 'd', expiresIn: '365d' }).expiresAt).toBe(iso(T0 + 365 * DAY))
    expect(t.store.create({ name: 'dt', expiresAt: '2031-02-01T08:30:00Z' }).expiresAt).toBe('2031-02-01T08:30:00.000Z')
    expect(t.store.create({ name: 'tz', expiresAt: '2031-02-01T08:30:00+02:00' }).expiresAt).toBe('2031-02-01T06:30:00.000Z')
    // A bare date means the end of that day, UTC.
    expect(t.store.create({ name: 'date', expiresAt: '2031-03-01' }).expiresAt).toBe('2031-03-01T23:59:59.999Z')
  })

  it('refuses an expiry in the past or now', () => {
    const before = snapshot(t.store)
    expect(expectKd(() => t.store.create({ name: 'x', expiresAt: '2031-01-01T00:00:00Z' }), 'invalid_input', 'expiresAt').message).toMatch(/future/)
    expectKd(() => t.store.create({ name: 'x', expiresAt: iso(T0) }), 'invalid_input', 'expiresAt')
    expectKd(() => t.store.create({ name: 'x', expiresIn: '0m' }), 'invalid_input', 'expiresIn')
    expect(snapshot(t.store)).toEqual(before)
  })

  it('refuses an unparseable expiry, naming the field', () => {
    const before = snapshot(t.store)
    for (const bad of ['tomorrow', '2031-13-45', '31/12/2031', '2031-02-01T25:00:00Z', '1e12'])
      expectKd(() => t.store.create({ name: 'x', expiresAt: bad }), 'invalid_input', 'expiresAt')
    for (const bad of ['3w', '1.5d', '-1d', 'd', '10', '1234567d'])
      expectKd(() => t.store.create({ name: 'x', expiresIn: bad }), 'invalid_input', 'expiresIn')
    expectKd(() => t.store.create({ name: 'x', expiresIn: '1d', expiresAt: '2031-02-01' }), 'invalid_input', 'expiresAt')
    expect(snapshot(t.store)).toEqual(before)
  })

  it('refuses an expiry past the policy maximum age (365 days by default, configurable)', () => {
    const before = snapshot(t.store)
    const e = expectKd(() => t.store.create({ name: 'x', expiresIn: '366d' }), 'policy', 'expiresIn')
    expect(e.message).toMatch(/maximum key age of 365 days/)
    expectKd(() => t.store.create({ name: 'x', expiresAt: iso(T0 + 365 * DAY + 1) }), 'policy', 'expiresAt')
    expect(t.store.create({ name: 'edge', expiresAt: iso(T0 + 365 * DAY) }).expiresAt).toBe(iso(T0 + 365 * DAY))
    t.store.setPolicy({ maxKeyAgeDays: 30, defaultExpiryDays: 30 })
    expectKd(() => t.store.create({ name: 'y', expiresIn: '31d' }), 'policy', 'expiresIn')
    expect(snapshot(t.store).keys).toBe(before.keys + 1)
  })
})

describe('create: names', () => {
  it('a blank or missing name gets a generated one', () => {
    for (const name of [undefined, '', '   ']) {
      const k = t.store.create(name === undefined ? {} : { name })
      expect(k.name).toMatch(/^key-[0-9A-Za-z]{8}$/)
      expect(k.name).toBe(`key-${k.accessId.slice(5, 13)}`)
    }
  })

  it('a duplicate live name for the same owner is refused; another owner may use it', () => {
    t.store.addOwner('bob')
    t.store.create({ name: 'deploy' })
    const before = snapshot(t.store)
    const e = expectKd(() => t.store.create({ name: 'deploy' }), 'conflict', 'name')
    expect(e.message).toMatch(/already has a live key named "deploy"/)
    // Normalisation applies before the check.
    expectKd(() => t.store.create({ name: '  deploy ' }), 'conflict', 'name')
    expect(snapshot(t.store)).toEqual(before)
    expect(t.store.create({ name: 'deploy', owner: 'bob' }).owner).toBe('bob')
  })

  it('a duplicate inside one batch is refused', () => {
    const before = snapshot(t.store)
    expectKd(() => t.store.createMany([{ name: 'same' }, { name: 'same' }]), 'conflict', 'name')
    expect(snapshot(t.store)).toEqual(before)
  })

  it('a name is reusable after the key is revoked', () => {
    const a = t.store.create({ name: 'rotating' })
    t.store.revoke([a.accessId])
    const b = t.store.create({ name: 'rotating' })
    expect(b.accessId).not.toBe(a.accessId)
  })

  it('a name is reusable after the key expires, not before', () => {
    t.store.create({ name: 'short', expiresIn: '1h' })
    t.clock.advance(HOUR - 1)
    expectKd(() => t.store.create({ name: 'short' }), 'conflict', 'name')
    t.clock.advance(1)
    expect(t.store.create({ name: 'short' }).name).toBe('short')
  })
})

describe('create: owners', () => {
  it('without an owner the key belongs to the acting user, created on first use as a user', () => {
    expect(t.store.listOwners()).toEqual([])
    const k = t.store.create({ name: 'mine' })
    expect(k.owner).toBe('tester')
    const owners = t.store.listOwners()
    expect(owners).toHaveLength(1)
    expect(owners[0]).toMatchObject({ name: 'tester', kind: 'user', disabledAt: null, keys: { active: 1, expired: 0, revoked: 0 } })
    t.store.create({ name: 'mine-2' })
    expect(t.store.listOwners()).toHaveLength(1)
    expect(t.store.listAudit({ action: 'owner.add' })).toHaveLength(1)
  })

  it('an unknown owner is refused with not_found on field owner', () => {
    const before = snapshot(t.store)
    const e = expectKd(() => t.store.create({ name: 'x', owner: 'nobody' }), 'not_found', 'owner')
    expect(e.message).toMatch(/Owner "nobody" does not exist/)
    expect(snapshot(t.store)).toEqual(before)
  })

  it('a disabled owner cannot get new keys', () => {
    t.store.addOwner('carol')
    t.store.disableOwner('carol')
    const before = snapshot(t.store)
    const e = expectKd(() => t.store.create({ name: 'x', owner: 'carol' }), 'policy', 'owner')
    expect(e.message).toMatch(/disabled/)
    expect(snapshot(t.store)).toEqual(before)
  })
})

describe('create: policy', () => {
  it('the key cap counts active, expired and revoked keys', () => {
    t.store.setPolicy({ maxKeysPerOwner: 5 })
    t.store.addOwner('dave')
    const a = t.store.create({ name: 'a', owner: 'dave' })
    t.store.create({ name: 'b', owner: 'dave', expiresIn: '1h' })
    t.store.create({ name: 'c', owner: 'dave' })
    t.store.revoke([a.accessId])
    t.clock.advance(2 * HOUR) // b has expired
    t.store.create({ name: 'd', owner: 'dave' })
    t.store.create({ name: 'e', owner: 'dave' })
    expect(t.store.listOwners().find((o) => o.name === 'dave')!.keys).toEqual({ active: 3, expired: 1, revoked: 1 })
    const before = snapshot(t.store)
    const e = expectKd(() => t.store.create({ name: 'f', owner: 'dave' }), 'policy', 'owner')
    expect(e.message).toMatch(/has 5 keys, the policy's maximum \(5/)
    expect(snapshot(t.store)).toEqual(before)
    // Other owners are not affected.
    expect(t.store.create({ name: 'f' }).owner).toBe('tester')
  })

  it('the key cap applies inside one batch', () => {
    t.store.setPolicy({ maxKeysPerOwner: 3 })
    const before = snapshot(t.store)
    const e = expectKd(() => t.store.createMany([{ name: '1' }, { name: '2' }, { name: '3' }, { name: '4' }]), 'policy', 'owner')
    expect(e.message).toMatch(/has 3 keys/)
    expect(snapshot(t.store)).toEqual(before)
    // Exactly the cap in one batch is fine (keys issued earlier in the batch are counted once).
    expect(t.store.createMany([{ name: '1' }, { name: '2' }, { name: '3' }])).toHaveLength(3)
    expectKd(() => t.store.create({ name: '4' }), 'policy', 'owner')
  })

  it('a batch of the default cap (100) for one owner is issued whole', () => {
    expect(t.store.createMany(Array.from({ length: 100 }, (_, i) => ({ name: `n${i}` })))).toHaveLength(100)
    expectKd(() => t.store.create({ name: 'n100' }), 'policy', 'owner')
  })

  it('allow-creation = false refuses every create', () => {
    t.store.setPolicy({ allowCreation: false })
    const before = snapshot(t.store)
    expect(expectKd(() => t.store.create({ name: 'x' }), 'policy').message).toMatch(/allow-creation = false/)
    expectKd(() => t.store.createMany([{ name: 'y' }, { name: 'z' }]), 'policy')
    expect(snapshot(t.store)).toEqual(before)
    t.store.setPolicy({ allowCreation: true })
    expect(t.store.create({ name: 'x' }).name).toBe('x')
  })
})

describe('create: nothing half-written on failure', () => {
  it('a batch failing on its last item leaves keys, owners, scopes and audit exactly as before', () => {
    t.store.addOwner('erin')
    const before = snapshot(t.store)
    const auditBefore = t.store.listAudit({ limit: 1000 })
    expectKd(
      () =>
        t.store.createMany([
          { name: 'one', scopes: ['a', 'b'] }, // would create the default owner
          { name: 'two', owner: 'erin', scopes: ['c'] },
          { name: 'three', owner: 'erin', expiresIn: '999d' },
        ]),
      'policy',
      'expiresIn',
    )
    expect(snapshot(t.store)).toEqual(before)
    expect(t.store.listAudit({ limit: 1000 })).toEqual(auditBefore)
    expect(t.store.listOwners().map((o) => o.name)).toEqual(['erin'])
    expect(t.store.list({ search: 'one' }).total).toBe(0)
    expect(t.store.verifyAudit().ok).toBe(true)
  })

  it('a failed create with a credential CSV path leaves no file and no temporary file', () => {
    t.store.create({ name: 'taken' })
    const before = snapshot(t.store)
    const out = join(t.dir, 'creds.csv')
    expectKd(() => t.store.createMany([{ name: 'fresh' }, { name: 'taken' }], out), 'conflict', 'name')
    expect(existsSync(out)).toBe(false)
    expect(readdirSync(t.dir).filter((f) => f.includes('creds'))).toEqual([])
    expect(snapshot(t.store)).toEqual(before)
  })

  it('an unwritable credential CSV location refuses the create and issues nothing', () => {
    const before = snapshot(t.store)
    expectKd(() => t.store.create({ name: 'x' }, join(t.dir, 'no-such-dir', 'creds.csv')), 'invalid_input', 'csv')
    expect(snapshot(t.store)).toEqual(before)
  })

  it('refuses an empty batch', () => {
    expectKd(() => t.store.createMany([]), 'invalid_input', 'keys')
  })
})
