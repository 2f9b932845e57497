/**
 * The trust boundary, for EVERY operation: wrong types, missing fields, unknown
 * fields, prototype keys, 10 MB strings, NaN, non-objects, deep nesting — each
 * a typed invalid_input error naming the field, and the store (keys, owners,
 * audit, policy), the handoffs and the ports untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { contract, type Input } from '../../src/shared/contract'
import { OPERATION_NAMES, type OperationName } from '../../src/shared/operations'
import { parseInput } from '../../src/main/api/index'
import { bridgeFixture, snapshot, type BridgeFixture } from './bridge-fixture'

const HUGE = 'a'.repeat(10 * 1024 * 1024)

let f: BridgeFixture
let baselines: { [K in OperationName]: Input<K> }

beforeAll(async () => {
  f = await bridgeFixture()
  if (!f.store.ok) throw new Error(`store did not open: ${f.store.problem.message}`)
  const s = f.store.store
  s.addOwner('svc', 'service')
  const base = s.create({ name: 'base', owner: 'svc', scopes: ['read'], expiresIn: '7d' })
  const issued = await f.api.invoke('keysCreate', { name: 'handed', owner: 'svc', scopes: ['read'] })
  if (!issued.ok) throw new Error(issued.error.message)
  const handoffId = issued.value.handoffId
  const policy = { maxKeyAgeDays: 100, maxKeysPerOwner: 10, defaultExpiryDays: 10, allowCreation: false, retentionDays: 1, reminderDays: [7, 1], staleAfterDays: 30 }
  baselines = {
    health: {},
    keysList: { status: 'active', owner: 'svc', scope: 'read', search: 'base', expiringWithinDays: 7, unusedForDays: 3, sort: 'name', order: 'asc', offset: 0, limit: 10 },
    keysGet: { accessId: base.accessId },
    keysCreate: { name: 'new-key', owner: 'svc', scopes: ['read'], description: 'd', expiresIn: '7d', expiresAt: '2031-02-01' },
    keysImport: {},
    keysReset: { accessId: base.accessId, confirm: 'base', grace: '1h', previous: 'keep' },
    keysUpdate: { accessId: base.accessId, name: 'base2', description: 'd', scopes: ['read'], expiresIn: '5d', expiresAt: '2031-02-01' },
    keysDisable: { accessId: base.accessId, reason: 'r' },
    keysEnable: { accessId: base.accessId },
    scopesInUse: {},
    keysRevoke: { accessIds: [base.accessId], reason: 'r' },
    keysRevokeMatching: { query: { status: 'active', owner: 'svc', scope: 'read', search: 'base', expiringWithinDays: 30 }, expectedCount: 1, reason: 'r' },
    keysPurge: {},
    attentionList: {},
    scanFolder: { git: false },
    reportSave: {},
    ownersList: {},
    ownersAdd: { name: 'another', kind: 'service' },
    ownersDisable: { name: 'svc' },
    ownersEnable: { name: 'svc' },
    ownersRevokeAll: { name: 'svc', confirm: 'svc', reason: 'r' },
    policyGet: {},
    policySet: policy,
    policyPreview: policy,
    auditList: { action: 'key.create', target: 'x', beforeId: 5, limit: 10 },
    auditVerify: {},
    storeCheck: {},
    auditExport: {},
    inventoryExport: {},
    credentialsSave: { handoffId },
    credentialsDiscard: { handoffId },
    secretCopy: { handoffId, accessId: issued.value.keys[0]!.accessId },
    storeSettingsGet: {},
    storeSettingsTest: { kind: 'team', url: 'postgres://alice@127.0.0.1:1/keydesk', password: 'pw' },
    storeSettingsSave: { kind: 'team', url: 'postgres://alice@127.0.0.1:1/keydesk', password: 'pw' },
  }
})
afterAll(async () => {
  await f?.cleanup()
})

// ── case generation from the schemas themselves ─────────────────────────────

type Def = { type: string; innerType?: z.ZodType; element?: z.ZodType; shape?: Record<string, z.ZodType> }
const defOf = (s: z.ZodType): Def => (s as unknown as { def: Def }).def

function unwrap(s: z.ZodType): { schema: z.ZodType; optional: boolean } {
  const d = defOf(s)
  return d.type === 'optional' ? { schema: d.innerType!, optional: true } : { schema: s, optional: false }
}
function shapeOf(s: z.ZodType): Record<string, z.ZodType> {
  return (s as unknown as { shape: Record<string, z.ZodType> }).shape
}
function wrongValue(kind: string): unknown {
  return ({ string: 42, number: '7', boolean: 'true', array: 'x', object: 'x', enum: 42 } as Record<string, unknown>)[kind] ?? 42
}

interface Case {
  label: string
  input: unknown
  /** The top-level field the error must name, when the case is about one. */
  field?: string
}

function set(obj: Record<string, unknown>, path: string[], value: unknown, remove = false): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...obj }
  const [head, ...rest] = path
  if (rest.length === 0) {
    if (remove) delete copy[head!]
    else copy[head!] = value
  } else copy[head!] = set((obj[head!] ?? {}) as Record<string, unknown>, rest, value, remove)
  return copy
}

/** Add an own "__proto__" key (as JSON.parse and structured clone produce) at path. */
function withProtoKey(obj: Record<string, unknown>, path: string[]): unknown {
  const marker = '"__proto__":{"polluted":true,"isAdmin":true}'
  const inject = (json: string): string => (json === '{}' ? `{${marker}}` : `{${marker},${json.slice(1)}`)
  if (path.length === 0) return JSON.parse(inject(JSON.stringify(obj)))
  const inner = JSON.parse(inject(JSON.stringify(obj[path[0]!] ?? {})))
  return { ...obj, [path[0]!]: inner }
}

function fieldCases(schema: z.ZodType, base: Record<string, unknown>, path: string[]): Case[] {
  const out: Case[] = []
  const top = path[0]
  for (const [key, raw] of Object.entries(shapeOf(schema))) {
    const p = [...path, key]
    const name = p.join('.')
    const field = top ?? key
    const { schema: s, optional } = unwrap(raw)
    const kind = defOf(s).type
    out.push({ label: `${name}: wrong type`, input: set(base, p, wrongValue(kind)), field })
    out.push({ label: `${name}: NaN`, input: set(base, p, Number.NaN), field })
    out.push({ label: `${name}: Infinity`, input: set(base, p, Number.POSITIVE_INFINITY), field })
    out.push({ label: `${name}: null`, input: set(base, p, null), field })
    out.push({ label: `${name}: 10 MB string`, input: set(base, p, HUGE), field })
    if (!optional) out.push({ label: `${name}: missing`, input: set(base, p, undefined, true), field })
    if (kind === 'array') {
      out.push({ label: `${name}[0]: wrong type`, input: set(base, p, [wrongValue(defOf(defOf(s).element!).type)]), field })
      out.push({ label: `${name}[0]: NaN`, input: set(base, p, [Number.NaN]), field })
      out.push({ label: `${name}[0]: 10 MB string`, input: set(base, p, [HUGE]), field })
      out.push({ label: `${name}: object instead of list`, input: set(base, p, { 0: 'x', length: 1 }), field })
    }
    if (kind === 'object') {
      const inner = (base[key] ?? {}) as Record<string, unknown>
      out.push(...fieldCases(s, base, p))
      out.push({ label: `${name}: unknown field`, input: set(base, p, { ...inner, zzz: 1 }), field })
      out.push({ label: `${name}: __proto__ key`, input: withProtoKey(base, p), field })
      out.push({ label: `${name}: constructor key`, input: set(base, p, { ...inner, constructor: { prototype: { x: 1 } } }), field })
    }
  }
  return out
}

function casesFor(name: OperationName): Case[] {
  const base = baselines[name] as Record<string, unknown>
  const schema = contract[name].input as z.ZodType
  let deep: Record<string, unknown> = { x: 1 }
  for (let i = 0; i < 40; i++) deep = { x: deep }
  return [
    { label: 'a string instead of an object', input: 'name=x' },
    { label: 'a number instead of an object', input: 42 },
    { label: 'NaN instead of an object', input: Number.NaN },
    { label: 'null', input: null },
    { label: 'true', input: true },
    { label: 'an array', input: [base] },
    { label: 'a 10 MB string', input: HUGE },
    { label: 'unknown field', input: { ...base, zzz: 1 }, field: 'zzz' },
    { label: 'unknown field holding 10 MB', input: { ...base, blob: HUGE }, field: 'blob' },
    { label: 'unknown field holding NaN', input: { ...base, n: Number.NaN }, field: 'n' },
    { label: '__proto__ key', input: withProtoKey(base, []), field: '__proto__' },
    { label: 'constructor key', input: { ...base, constructor: { prototype: { polluted: true } } }, field: 'constructor' },
    { label: 'prototype key', input: { ...base, prototype: {} }, field: 'prototype' },
    { label: 'deep nesting', input: { ...base, deep } },
    { label: 'an object with a foreign prototype', input: Object.assign(Object.create({ inherited: true }) as object, base) },
    ...fieldCases(schema, base, []),
  ]
}

// ── the tests ───────────────────────────────────────────────────────────────

describe('baselines', () => {
  it.each([...OPERATION_NAMES])('%s: the baseline input is valid (so each bad case fails for its own reason)', (name) => {
    expect(parseInput(contract[name].input as z.ZodType, baselines[name])).toMatchObject({ ok: true })
  })
})

describe.each([...OPERATION_NAMES])('%s refuses bad input, typed, with nothing changed', (name) => {
  it('every case', async () => {
    const cases = casesFor(name)
    expect(cases.length).toBeGreaterThanOrEqual(15)
    for (const c of cases) {
      const before = snapshot(f)
      const r = await f.api.invoke(name, c.input)
      const ctx = `${name} / ${c.label}`
      expect(r.ok, ctx).toBe(false)
      if (r.ok) continue
      expect(r.error.kind, `${ctx}: ${r.error.message}`).toBe('invalid_input')
      expect(typeof r.error.message, ctx).toBe('string')
      expect(r.error.message.length, ctx).toBeLessThan(300)
      expect(r.error.message, ctx).not.toMatch(/aaaaaaaaaa|NaN|polluted/)
      if (c.field !== undefined) expect(r.error.field, `${ctx}: ${r.error.message}`).toBe(c.field)
      expect(snapshot(f), ctx).toBe(before)
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
  })
})

describe('messages name the field', () => {
  it('missing, too long, wrong type, unknown, enum', async () => {
    expect(await f.api.invoke('keysReset', { confirm: 'x' })).toEqual({ ok: false, error: { kind: 'invalid_input', message: '"accessId" is required.', field: 'accessId' } })
    expect(await f.api.invoke('keysCreate', { name: HUGE })).toEqual({ ok: false, error: { kind: 'invalid_input', message: '"name" is too long: at most 1000 characters.', field: 'name' } })
    expect(await f.api.invoke('keysList', { limit: Number.NaN })).toEqual({ ok: false, error: { kind: 'invalid_input', message: '"limit" must be a number.', field: 'limit' } })
    expect(await f.api.invoke('keysList', { limit: 1.5 })).toMatchObject({ ok: false, error: { kind: 'invalid_input', field: 'limit' } })
    expect(await f.api.invoke('keysCreate', { nmae: 'x' })).toEqual({ ok: false, error: { kind: 'invalid_input', message: 'Unknown field "nmae".', field: 'nmae' } })
    expect(await f.api.invoke('ownersAdd', { name: 'x', kind: 'robot' })).toEqual({ ok: false, error: { kind: 'invalid_input', message: '"kind" must be one of user, service.', field: 'kind' } })
    expect(await f.api.invoke('keysRevoke', { accessIds: ['nope'] })).toEqual({ ok: false, error: { kind: 'invalid_input', message: '"accessIds[0]" must be an access ID (kdid_…).', field: 'accessIds' } })
  })
  it('an unknown operation is refused without calling anything', async () => {
    const before = snapshot(f)
    for (const op of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'keysDelete', '']) {
      expect(await f.api.invoke(op, {})).toMatchObject({ ok: false, error: { kind: 'invalid_input', field: 'operation' } })
    }
    expect(snapshot(f)).toBe(before)
  })
  it('no input at all counts as {} for operations without required fields', async () => {
    expect(await f.api.invoke('health', undefined)).toMatchObject({ ok: true })
    expect(await f.api.invoke('keysList', undefined)).toMatchObject({ ok: true })
    expect(await f.api.invoke('keysGet', undefined)).toMatchObject({ ok: false, error: { kind: 'invalid_input', field: 'accessId' } })
  })
})
