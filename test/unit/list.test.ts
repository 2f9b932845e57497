import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { IssuedKey, KeyView, SortField } from '../../src/main/core/types'
import { DAY, HOUR, MIN, expectKd, openTestStore, type TestStore, rawAll } from './support'

let t: TestStore
const issued: IssuedKey[] = []
let all: KeyView[] = []

beforeAll(async () => {
  t = await openTestStore()
  const s = t.store
  s.addOwner('alice')
  s.addOwner('svc-ci', 'service')
  s.addOwner('bob')
  const add = (k: IssuedKey) => (issued.push(k), k)
  add(s.create({ name: 'payroll/prod', owner: 'alice', scopes: ['payroll:read', 'payroll:write'], description: 'Payroll production', expiresIn: '90d' }))
  t.clock.advance(MIN)
  add(s.create({ name: 'payroll/staging', owner: 'alice', scopes: ['payroll:read'], description: 'staging env', expiresIn: '5d' }))
  t.clock.advance(MIN)
  add(s.create({ name: 'ab', owner: 'alice', expiresIn: '200d' }))
  add(s.create({ name: 'ci/deploy', owner: 'svc-ci', scopes: ['deploy'], description: 'Deploys from CI', expiresIn: '2d' }))
  const old = add(s.create({ name: 'ci/old', owner: 'svc-ci', scopes: ['deploy'], expiresIn: '30d' }))
  add(s.create({ name: 'reports', owner: 'bob', scopes: ['reports:read'], expiresIn: '1h' }))
  add(s.create({ name: 'odd 100%_name', owner: 'bob', description: 'percent and underscore' }))
  t.clock.advance(MIN)
  for (const k of s.createMany(Array.from({ length: 30 }, (_, i) => ({ name: `bulk/${String(i).padStart(2, '0')}`, owner: 'svc-ci', scopes: i % 3 === 0 ? ['deploy', 'bulk'] : ['bulk'], expiresIn: `${10 + i}d` })))) add(k)
  s.revoke([old.accessId], 'rotated')
  t.clock.advance(2 * HOUR) // 'reports' has now expired
  // last-used on a few keys, at distinct times
  for (const [i, k] of [issued[0]!, issued[3]!, issued[10]!].entries()) {
    t.clock.advance((i + 2) * MIN)
    expect(s.verify({ accessKey: k.accessKey }).valid).toBe(true)
  }
  s.flushLastUsed()
  all = s.list({ limit: 1000 }).items
  expect(all).toHaveLength(issued.length)
})
afterAll(() => t.cleanup())

const ids = (items: KeyView[]) => items.map((k) => k.accessId).sort()
const expectIds = (items: KeyView[], expected: KeyView[]) => {
  expect(expected.length).toBeGreaterThan(0)
  expect(ids(items)).toEqual(ids(expected))
}

describe('filters', () => {
  it('status: active, expired, revoked, all', () => {
    const by = (st: string) => all.filter((k) => k.status === st)
    expect(by('expired').map((k) => k.name)).toEqual(['reports'])
    expect(by('revoked').map((k) => k.name)).toEqual(['ci/old'])
    for (const st of ['active', 'expired', 'revoked'] as const) {
      const page = t.store.list({ status: st, limit: 1000 })
      expectIds(page.items, by(st))
      expect(page.total).toBe(by(st).length)
    }
    expect(t.store.list({ status: 'all', limit: 1000 }).total).toBe(all.length)
    expect(t.store.list({ limit: 1000 }).total).toBe(all.length)
    expectKd(() => t.store.list({ status: 'gone' as never }), 'invalid_input', 'status')
  })

  it('owner', () => {
    const page = t.store.list({ owner: 'alice', limit: 1000 })
    expectIds(page.items, all.filter((k) => k.owner === 'alice'))
    expect(page.total).toBe(3)
    expect(t.store.list({ owner: 'svc-ci', status: 'active', limit: 1000 }).total).toBe(31)
    expectKd(() => t.store.list({ owner: 'nobody' }), 'not_found', 'owner')
  })

  it('scope', () => {
    expectIds(t.store.list({ scope: 'payroll:read' }).items, all.filter((k) => k.scopes.includes('payroll:read')))
    expectIds(t.store.list({ scope: 'deploy', limit: 1000 }).items, all.filter((k) => k.scopes.includes('deploy')))
    expect(t.store.list({ scope: 'deploy', status: 'active', limit: 1000 }).total).toBe(1 + 10)
    expect(t.store.list({ scope: 'nothing-has-this' }).total).toBe(0)
    expectKd(() => t.store.list({ scope: '=bad' }), 'invalid_input', 'scopes')
  })

  it('expiring within N days: only live keys expiring in that window', () => {
    const now = t.clock.t
    const within = (d: number) => all.filter((k) => k.status === 'active' && Date.parse(k.expiresAt) <= now + d * DAY)
    expectIds(t.store.list({ expiringWithinDays: 2 }).items, within(2))
    expect(t.store.list({ expiringWithinDays: 2 }).items.map((k) => k.name)).toEqual(['ci/deploy'])
    expectIds(t.store.list({ expiringWithinDays: 7, limit: 1000 }).items, within(7))
    expect(within(7).map((k) => k.name).sort()).toEqual(['ci/deploy', 'payroll/staging'])
    expectIds(t.store.list({ expiringWithinDays: 15, limit: 1000 }).items, within(15))
    expect(t.store.list({ expiringWithinDays: 0 }).total).toBe(0)
    for (const bad of [-1, 1.5, 3651]) expectKd(() => t.store.list({ expiringWithinDays: bad }), 'invalid_input', 'expiringWithin')
  })

  it('filters combine', () => {
    const page = t.store.list({ owner: 'svc-ci', scope: 'deploy', status: 'active', expiringWithinDays: 15, limit: 1000 })
    expectIds(page.items, all.filter((k) => k.owner === 'svc-ci' && k.scopes.includes('deploy') && k.status === 'active' && Date.parse(k.expiresAt) <= t.clock.t + 15 * DAY))
  })
})

describe('search', () => {
  const textMatch = (q: string, withId: boolean) => (k: KeyView) =>
    [k.name, k.description, ...(withId ? [k.accessId] : [])].some((f) => f.toLowerCase().includes(q.toLowerCase()))

  it('3+ characters: substring of name, case-insensitive (full-text index)', () => {
    for (const q of ['roll', 'ROLL', 'ayr', 'payroll/', 'bulk/1']) expectIds(t.store.list({ search: q, limit: 1000 }).items, all.filter(textMatch(q, true)))
    // Access IDs are searched too, and a random one can contain "yro": only names are asserted exactly.
    const yro = t.store.list({ search: 'yro', limit: 1000 }).items
    expectIds(yro, all.filter(textMatch('yro', true)))
    expect(yro.filter((k) => !k.accessId.toLowerCase().includes('yro')).map((k) => k.name).sort()).toEqual(['payroll/prod', 'payroll/staging'])
  })

  it('3+ characters: description', () => {
    expect(t.store.list({ search: 'staging env' }).items.map((k) => k.name)).toEqual(['payroll/staging'])
    expect(t.store.list({ search: 'from ci' }).items.map((k) => k.name)).toEqual(['ci/deploy'])
  })

  it('1–2 characters: substring of name or description (LIKE), with % and _ taken literally', () => {
    for (const q of ['ab', 'b', 'AB', 'l/', 'ci']) expectIds(t.store.list({ search: q, limit: 1000 }).items, all.filter(textMatch(q, false)))
    expect(t.store.list({ search: '%' }).items.map((k) => k.name)).toEqual(['odd 100%_name'])
    expect(t.store.list({ search: '%_' }).items.map((k) => k.name)).toEqual(['odd 100%_name'])
    expect(t.store.list({ search: '_' }).items.map((k) => k.name)).toEqual(['odd 100%_name'])
  })

  it('access-ID prefix and access-ID substring', () => {
    const target = issued[12]!
    const prefix = target.accessId.slice(0, 10)
    expectIds(t.store.list({ search: prefix, limit: 1000 }).items, all.filter((k) => k.accessId.startsWith(prefix)))
    expect(t.store.list({ search: target.accessId }).items.map((k) => k.accessId)).toEqual([target.accessId])
    expect(t.store.list({ search: 'kdid_', limit: 1000 }).total).toBe(all.length)
    const middle = target.accessId.slice(8, 16)
    expect(t.store.list({ search: middle }).items.map((k) => k.accessId)).toContain(target.accessId)
  })

  it('odd input is searched literally, never an error or an injection', () => {
    expect(t.store.list({ search: 'a"b' }).total).toBe(0)
    expect(t.store.list({ search: 'x" OR "a' }).total).toBe(0)
    expect(t.store.list({ search: "'; DROP TABLE keys; --" }).total).toBe(0)
    expect(t.store.list({ search: '   ' }).total).toBe(all.length)
    expect(t.store.list({ limit: 1000 }).total).toBe(all.length)
    expectKd(() => t.store.list({ search: 'x'.repeat(201) }), 'invalid_input', 'search')
  })

  it('search combines with filters and its total counts matches, not the page', () => {
    const page = t.store.list({ search: 'bulk', status: 'active', scope: 'deploy', limit: 3 })
    expect(page.items).toHaveLength(3)
    expect(page.total).toBe(10)
  })
})

describe('sorting and paging', () => {
  const rank = (k: KeyView) => ({ active: 0, disabled: 1, expired: 2, revoked: 3 })[k.status]
  const keyOf: Record<SortField, (k: KeyView) => string | number> = {
    created: (k) => Date.parse(k.createdAt),
    name: (k) => k.name,
    accessId: (k) => k.accessId,
    owner: (k) => k.owner,
    status: rank,
    expires: (k) => Date.parse(k.expiresAt),
    lastUsed: (k) => (k.lastUsedAt ? Date.parse(k.lastUsedAt) : -1),
  }

  function sorted(items: KeyView[], f: (k: KeyView) => string | number, dir: 1 | -1): boolean {
    for (let i = 1; i < items.length; i++) {
      const a = f(items[i - 1]!)
      const b = f(items[i]!)
      if (dir === 1 ? a > b : a < b) return false
    }
    return true
  }

  it('every sort field, both directions, orders the whole result', () => {
    const defaults: Record<SortField, 1 | -1> = { created: -1, name: 1, accessId: 1, owner: 1, status: 1, expires: 1, lastUsed: -1 }
    for (const field of Object.keys(keyOf) as SortField[]) {
      for (const order of [undefined, 'asc', 'desc'] as const) {
        const items = t.store.list({ sort: field, order, limit: 1000 }).items
        expect(items).toHaveLength(all.length)
        const dir = order === 'asc' ? 1 : order === 'desc' ? -1 : defaults[field]
        if (field === 'lastUsed') {
          // keys never used come last in either direction
          const used = items.filter((k) => k.lastUsedAt)
          expect(used).toHaveLength(3)
          expect(items.slice(0, 3)).toEqual(used)
          expect(sorted(used, keyOf.lastUsed, dir)).toBe(true)
        } else {
          expect(sorted(items, keyOf[field], dir), `${field} ${order}`).toBe(true)
        }
      }
    }
    // created desc (the default) puts the newest first
    expect(t.store.list({ limit: 1 }).items[0]!.accessId).toBe(issued[issued.length - 1]!.accessId)
    expect(t.store.list({ sort: 'lastUsed', limit: 1 }).items[0]!.accessId).toBe(issued[10]!.accessId)
    expectKd(() => t.store.list({ sort: 'hash' as never }), 'invalid_input', 'sort')
  })

  it('offset/limit pages are disjoint, complete, in order; total is the full count', () => {
    const full = t.store.list({ sort: 'name', limit: 1000 }).items.map((k) => k.accessId)
    const seen: string[] = []
    for (let offset = 0; offset < full.length + 7; offset += 7) {
      const page = t.store.list({ sort: 'name', offset, limit: 7 })
      expect(page.total).toBe(full.length)
      expect(page.items.length).toBe(Math.max(0, Math.min(7, full.length - offset)))
      seen.push(...page.items.map((k) => k.accessId))
    }
    expect(seen).toEqual(full)
    expect(t.store.list().items).toHaveLength(Math.min(50, all.length))
  })

  it('refuses bad paging', () => {
    for (const limit of [0, -1, 1001, 2.5]) expectKd(() => t.store.list({ limit }), 'invalid_input', 'limit')
    for (const offset of [-1, 0.5]) expectKd(() => t.store.list({ offset }), 'invalid_input', 'offset')
  })
})

describe('what a list item holds', () => {
  it('no secret, no hash, no MAC: only the view fields', () => {
    const allowed = ['accessId', 'name', 'owner', 'ownerKind', 'ownerDisabled', 'description', 'scopes', 'status', 'hint', 'createdAt', 'expiresAt', 'resetAt', 'revokedAt', 'revokedReason', 'lastUsedAt', 'graceUntil', 'previousSecrets', 'disabledAt', 'stale', 'tampered'].sort()
    const hashes = rawAll(t.store, 'SELECT hash, mac FROM keys') as { hash: Buffer; mac: Buffer }[]
    const pages = [t.store.list({ limit: 1000 }), t.store.list({ search: 'payroll' }), t.store.list({ status: 'revoked' })]
    for (const page of pages) {
      const json = JSON.stringify(page)
      for (const k of issued) {
        expect(json).not.toContain(k.accessKey)
        expect(json).not.toContain(k.accessKey.slice(5, 37))
      }
      for (const h of hashes) {
        for (const enc of ['hex', 'base64'] as const) {
          expect(json).not.toContain(h.hash.toString(enc))
          expect(json).not.toContain(h.mac.toString(enc))
        }
      }
      for (const item of page.items) expect(Object.keys(item).sort()).toEqual(allowed)
    }
  })

  it('shows last use, revocation and the hint', () => {
    const used = all.find((k) => k.accessId === issued[0]!.accessId)!
    expect(used.lastUsedAt).not.toBeNull()
    const revoked = all.find((k) => k.status === 'revoked')!
    expect(revoked.revokedReason).toBe('rotated')
    expect(revoked.revokedAt).not.toBeNull()
    for (const k of issued) expect(all.find((v) => v.accessId === k.accessId)!.hint).toBe(k.accessKey.slice(0, 9))
  })
})
