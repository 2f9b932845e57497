import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NAME_MAX, normalizeDescription, normalizeName, normalizeScopes } from '../../src/main/core/names'
import { expectKd, openTestStore, snapshot, type TestStore } from './support'

describe('normalizeName', () => {
  it('trims and returns NFC', () => {
    expect(normalizeName('  payroll  ')).toBe('payroll')
    expect(normalizeName('\u00a0payroll\u3000')).toBe('payroll')
    const decomposed = 'cafe\u0301'
    const out = normalizeName(decomposed)
    expect(out).toBe('caf\u00e9')
    expect(out).toHaveLength(4)
  })

  it('accepts 1 to 128 characters, counted after NFC, as code points', () => {
    expect(normalizeName('a')).toBe('a')
    expect(normalizeName('x'.repeat(NAME_MAX))).toHaveLength(128)
    expect(normalizeName('e\u0301'.repeat(128))).toBe('\u00e9'.repeat(128))
    expect([...normalizeName('😀'.repeat(128))]).toHaveLength(128)
    const e = expectKd(() => normalizeName('x'.repeat(129)), 'invalid_input', 'name')
    expect(e.message).toMatch(/too long/)
    expectKd(() => normalizeName('😀'.repeat(129)), 'invalid_input', 'name')
  })

  it('refuses empty and blank names', () => {
    for (const s of ['', ' ', '\t \n', '\u3000']) {
      const e = expectKd(() => normalizeName(s), 'invalid_input', 'name')
      expect(e.message).toMatch(/empty/)
    }
  })

  it('allows / folder segments and refuses an empty segment', () => {
    expect(normalizeName('team/payments/prod')).toBe('team/payments/prod')
    for (const s of ['a//b', '/a', 'a/', 'a/ /b', '/']) {
      const e = expectKd(() => normalizeName(s), 'invalid_input', 'name')
      expect(e.message).toMatch(/empty folder segment/)
    }
  })

  it('refuses control characters (C0, DEL, C1)', () => {
    for (const c of ['\u0000', '\u0001', '\n', '\t', '\r', '\u001b', '\u007f', '\u0085', '\u009f']) {
      const e = expectKd(() => normalizeName(`ab${c}cd`), 'invalid_input', 'name')
      expect(e.message).toMatch(/control/)
    }
  })

  it('refuses bidi override, embedding, isolate and mark characters', () => {
    for (const c of ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c']) {
      const e = expectKd(() => normalizeName(`ab${c}cd`), 'invalid_input', 'name')
      expect(e.message).toMatch(/bidirectional/)
    }
  })

  it('refuses a leading = + - @, also when hidden behind leading whitespace', () => {
    for (const s of ['=SUM(A1)', '+1', '-x', '@cmd', ' =x', '\u00a0@x', '\t-x']) {
      const e = expectKd(() => normalizeName(s), 'invalid_input', 'name')
      expect(e.message).toMatch(/must not begin with/)
    }
    // Leading whitespace itself never survives: it is trimmed off before the rule applies.
    expect(normalizeName(' ok')).toBe('ok')
    // Those characters are fine after the first position.
    expect(normalizeName('a=b+c-d@e')).toBe('a=b+c-d@e')
  })

  it('names the field it was given', () => {
    expect(expectKd(() => normalizeName('', 'owner', 'Owner'), 'invalid_input', 'owner').message).toMatch(/^Owner /)
    expectKd(() => normalizeName('=x', 'key', 'Key name'), 'invalid_input', 'key')
  })
})

describe('normalizeDescription', () => {
  it('trims, allows newlines and tabs, refuses other controls and bidi', () => {
    expect(normalizeDescription(undefined)).toBe('')
    expect(normalizeDescription('  line 1\n\tline 2  ')).toBe('line 1\n\tline 2')
    expectKd(() => normalizeDescription('a\u0000b'), 'invalid_input', 'description')
    expectKd(() => normalizeDescription('a\u202eb'), 'invalid_input', 'description')
    expect(normalizeDescription('x'.repeat(1000))).toHaveLength(1000)
    expectKd(() => normalizeDescription('x'.repeat(1001)), 'invalid_input', 'description')
  })
})

describe('normalizeScopes', () => {
  it('splits on spaces and commas, de-duplicates and sorts', () => {
    expect(normalizeScopes(undefined)).toEqual([])
    expect(normalizeScopes(['write, read', 'read', 'billing:*  admin/x'])).toEqual(['admin/x', 'billing:*', 'read', 'write'])
  })

  it('refuses bad scopes and too many, with field scopes', () => {
    for (const s of ['-read', '=x', 'a"b', 'x'.repeat(65), 'ü']) expectKd(() => normalizeScopes([s]), 'invalid_input', 'scopes')
    expect(normalizeScopes(Array.from({ length: 64 }, (_, i) => `s${i}`))).toHaveLength(64)
    expectKd(() => normalizeScopes(Array.from({ length: 65 }, (_, i) => `s${i}`)), 'invalid_input', 'scopes')
  })
})

describe('input rules through the store: the right field, nothing written', () => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore()
    t.store.addOwner('alice')
  })
  afterAll(() => t.cleanup())

  it('create: bad name → field name; bad owner → field owner; bad scope → scopes; bad description → description', () => {
    const before = snapshot(t.store)
    expectKd(() => t.store.create({ name: '=evil', owner: 'alice' }), 'invalid_input', 'name')
    expectKd(() => t.store.create({ name: 'a\u202eb', owner: 'alice' }), 'invalid_input', 'name')
    expectKd(() => t.store.create({ name: 'ok', owner: '@alice' }), 'invalid_input', 'owner')
    expectKd(() => t.store.create({ name: 'ok', owner: 'alice', scopes: ['bad scope!'] }), 'invalid_input', 'scopes')
    expectKd(() => t.store.create({ name: 'ok', owner: 'alice', description: 'x\u0007' }), 'invalid_input', 'description')
    expect(snapshot(t.store)).toEqual(before)
  })

  it('create stores the normalised name', () => {
    const k = t.store.create({ name: '  team/cafe\u0301  ', owner: 'alice' })
    expect(k.name).toBe('team/caf\u00e9')
    expect(t.store.get(k.accessId).name).toBe('team/caf\u00e9')
  })

  it('addOwner: bad name → field owner', () => {
    const before = snapshot(t.store)
    expectKd(() => t.store.addOwner('+svc'), 'invalid_input', 'owner')
    expectKd(() => t.store.addOwner(''), 'invalid_input', 'owner')
    expectKd(() => t.store.addOwner('svc', 'robot' as never), 'invalid_input', 'kind')
    expect(snapshot(t.store)).toEqual(before)
  })
})
