import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_POLICY } from '../../src/main/core/types'
import { DAY, HOUR, expectKd, openTestStore, snapshot, type TestStore, rawValue } from './support'

let t: TestStore
beforeEach(async () => {
  t = await openTestStore()
})
afterEach(() => t.cleanup())

describe('policy', () => {
  it('defaults: 365-day max age, 100 keys per owner, 30-day default expiry, creation allowed, 90-day retention', () => {
    expect(DEFAULT_POLICY).toEqual({ maxKeyAgeDays: 365, maxKeysPerOwner: 100, defaultExpiryDays: 30, allowCreation: true, retentionDays: 90, reminderDays: [30, 7, 1], staleAfterDays: 45 })
    expect(t.store.getPolicy()).toEqual(DEFAULT_POLICY)
  })

  it('set changes only what is given, persists, and is audited with from/to', () => {
    const p = t.store.setPolicy({ maxKeyAgeDays: 90, retentionDays: 7 })
    expect(p).toEqual({ ...DEFAULT_POLICY, maxKeyAgeDays: 90, retentionDays: 7 })
    expect(t.store.getPolicy()).toEqual(p)
    const [entry] = t.store.listAudit({ action: 'policy.set' })
    expect(entry).toMatchObject({ target: 'policy', detail: { maxKeyAgeDays: { from: 365, to: 90 }, retentionDays: { from: 90, to: 7 } } })
    expect(Object.keys(entry!.detail).sort()).toEqual(['maxKeyAgeDays', 'retentionDays'])
  })

  it('refuses bad values naming the policy setting, and changes nothing', () => {
    const before = snapshot(t.store)
    const cases: [Record<string, unknown>, string][] = [
      [{ maxKeyAgeDays: 0 }, 'max-key-age-days'],
      [{ maxKeyAgeDays: 3651 }, 'max-key-age-days'],
      [{ maxKeyAgeDays: 1.5 }, 'max-key-age-days'],
      [{ maxKeysPerOwner: 0 }, 'max-keys-per-owner'],
      [{ maxKeysPerOwner: '10' }, 'max-keys-per-owner'],
      [{ defaultExpiryDays: 0 }, 'default-expiry-days'],
      [{ defaultExpiryDays: 400 }, 'default-expiry-days'], // above the max age
      [{ maxKeyAgeDays: 10 }, 'default-expiry-days'], // below the default expiry
      [{ allowCreation: 'yes' }, 'allow-creation'],
      [{ retentionDays: -1 }, 'retention-days'],
    ]
    for (const [change, field] of cases) expectKd(() => t.store.setPolicy(change as never), 'invalid_input', field)
    expect(t.store.getPolicy()).toEqual(DEFAULT_POLICY)
    expect(snapshot(t.store)).toEqual(before)
  })

  it('persists across reopen', async () => {
    t.store.setPolicy({ maxKeysPerOwner: 5 })
    const { openKeyStore } = await import('../../src/main/core/keystore')
    const other = await openKeyStore({ ...t.where })
    expect(other.getPolicy().maxKeysPerOwner).toBe(5)
    other.close()
  })

  it('preview: which existing keys and owners a tighter policy would catch', () => {
    t.store.addOwner('big')
    t.store.createMany(Array.from({ length: 6 }, (_, i) => ({ name: `b${i}`, owner: 'big', expiresIn: `${100 + i}d` })))
    t.store.create({ name: 'small', expiresIn: '10d' })
    const r = t.store.create({ name: 'gone' })
    t.store.revoke([r.accessId])
    const pv = t.store.previewPolicy({ maxKeyAgeDays: 102, maxKeysPerOwner: 3, retentionDays: 0 })
    expect(pv.keysOverMaxAge).toBe(3) // 103, 104, 105 days
    expect(pv.sample.map((k) => k.name).sort()).toEqual(['b3', 'b4', 'b5'])
    expect(pv.ownersOverCap).toEqual([{ owner: 'big', keys: 6 }])
    expect(pv.keysPurgeable).toBe(0) // revoked just now: not older than the cutoff
    t.clock.advance(1)
    expect(t.store.previewPolicy({ retentionDays: 0 }).keysPurgeable).toBe(1)
    // preview never writes
    expect(t.store.getPolicy()).toEqual(DEFAULT_POLICY)
    expectKd(() => t.store.previewPolicy({ maxKeyAgeDays: -5 }), 'invalid_input', 'max-key-age-days')
  })
})

describe('purge (retention)', () => {
  it('deletes revoked and expired keys older than the retention period, and nothing else', () => {
    t.store.setPolicy({ retentionDays: 10 })
    const [oldRevoked, , recentRevoked, , live] = t.store.createMany([
      { name: 'old-revoked', scopes: ['x'] },
      { name: 'old-expired', expiresIn: '1h', scopes: ['x'] },
      { name: 'recent-revoked' },
      { name: 'recent-expired', expiresIn: '15d' },
      { name: 'live', expiresIn: '300d', scopes: ['x'] },
    ])
    t.store.revoke([oldRevoked!.accessId])
    t.clock.advance(10 * DAY + HOUR + 1) // old-expired: expired 10 days + 1 ms ago
    t.store.revoke([recentRevoked!.accessId])
    t.clock.advance(5 * DAY) // now: old-* are past the 10-day cutoff, recent-* are not
    const before = t.store.list({ limit: 1000 }).total
    expect(before).toBe(5)
    const r = t.store.purge()
    expect(r).toEqual({ purged: 2 })
    const left = t.store.list({ status: 'all', limit: 1000 }).items.map((k) => k.name).sort()
    expect(left).toEqual(['live', 'recent-expired', 'recent-revoked'])
    expect(t.store.list({ status: 'expired' }).items.map((k) => k.name)).toEqual(['recent-expired'])
    // scope rows and search index rows went with them
    expect(t.store.list({ scope: 'x' }).items.map((k) => k.accessId)).toEqual([live!.accessId])
    expect(t.store.list({ search: 'old-' }).total).toBe(0)
    expect(t.store.list({ search: 'ol' }).total).toBe(0)
    expect(Number(rawValue(t.store, 'SELECT count(*) FROM key_scopes'))).toBe(1)
    // SQLite's search index is a separate table: purge must keep it consistent (PostgreSQL's is an index on keys).
    if (t.store.engine === 'sqlite') expect(() => t.store.database.prepare(`INSERT INTO keys_fts (keys_fts) VALUES ('integrity-check')`).run()).not.toThrow()
    expect(t.store.listAudit({ action: 'keys.purge' })[0]).toMatchObject({ target: 'keys', detail: { purged: 2, retentionDays: 10 } })
    expect(t.store.verifyAudit().ok).toBe(true)
  })

  it('purging frees key-cap slots', () => {
    t.store.setPolicy({ maxKeysPerOwner: 2, retentionDays: 1 })
    const [a] = t.store.createMany([{ name: 'a' }, { name: 'b' }])
    t.store.revoke([a!.accessId])
    expectKd(() => t.store.create({ name: 'c' }), 'policy', 'owner')
    t.clock.advance(DAY)
    expect(t.store.purge().purged).toBe(0) // exactly at the cutoff: kept
    t.clock.advance(1)
    expect(t.store.purge().purged).toBe(1)
    expect(t.store.create({ name: 'c' }).name).toBe('c')
  })

  it('retention 0 purges every revoked or expired key right away (strictly older than now)', () => {
    t.store.setPolicy({ retentionDays: 0 })
    const [a] = t.store.createMany([{ name: 'a' }, { name: 'b', expiresIn: '1h' }, { name: 'c' }])
    t.store.revoke([a!.accessId])
    t.clock.advance(HOUR + 1)
    expect(t.store.purge().purged).toBe(2)
    expect(t.store.list().items.map((k) => k.name)).toEqual(['c'])
  })

  it('an empty purge is still audited', () => {
    expect(t.store.purge()).toEqual({ purged: 0 })
    expect(t.store.listAudit({ action: 'keys.purge' })).toHaveLength(1)
  })
})
