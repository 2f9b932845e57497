/**
 * The bridge operations behind the per-key actions: edit (audited, secret
 * untouched), disable/enable (verify answers `disabled`), scopes in use, and a
 * reset inside a grace period that must say what happens to the previous secret.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { bridgeFixture, type BridgeFixture } from './bridge-fixture'

let f: BridgeFixture | undefined
afterEach(async () => {
  await f?.cleanup()
  f = undefined
})

async function issue(fx: BridgeFixture, input: Record<string, unknown>) {
  const r = await fx.api.invoke('keysCreate', input)
  if (!r.ok) throw new Error(r.error.message)
  return r.value.keys[0]!
}
const storeOf = (fx: BridgeFixture) => {
  if (!fx.store.ok) throw new Error('store not open')
  return fx.store.store
}

describe('keysUpdate', () => {
  it('changes name, description, scopes and expiry, audits from/to, and the secret still verifies', async () => {
    f = await bridgeFixture()
    const k = await issue(f, { name: 'billing', scopes: ['read'] })
    const r = await f.api.invoke('keysUpdate', { accessId: k.accessId, name: 'billing-v2', description: 'nightly job', scopes: ['read', 'write'], expiresIn: '10d' })
    expect(r).toMatchObject({ ok: true, value: { name: 'billing-v2', description: 'nightly job', scopes: ['read', 'write'] } })
    expect(storeOf(f).verify({ accessKey: k.accessKey })).toMatchObject({ valid: true, scopes: ['read', 'write'] })
    const [entry] = storeOf(f).listAudit({ action: 'key.update' })
    expect(entry!.detail).toMatchObject({ name: { from: 'billing', to: 'billing-v2' }, scopes: { from: ['read'], to: ['read', 'write'] } })
  })
  it('refuses an expiry past the policy and a bad name, naming the field', async () => {
    f = await bridgeFixture()
    const k = await issue(f, { name: 'short' })
    expect(await f.api.invoke('keysUpdate', { accessId: k.accessId, expiresIn: '4000d' })).toMatchObject({ ok: false, error: { field: 'expiresIn' } })
    expect(await f.api.invoke('keysUpdate', { accessId: k.accessId, name: '=cmd()' })).toMatchObject({ ok: false, error: { kind: 'invalid_input', field: 'name' } })
    expect(await f.api.invoke('keysUpdate', { accessId: k.accessId, hash: 'x' } as never)).toMatchObject({ ok: false, error: { kind: 'invalid_input' } })
  })
})

describe('keysDisable / keysEnable', () => {
  it('a disabled key answers disabled at verify, lists as disabled, and works again when enabled', async () => {
    f = await bridgeFixture()
    const k = await issue(f, { name: 'job' })
    expect(await f.api.invoke('keysDisable', { accessId: k.accessId, reason: 'investigating' })).toMatchObject({ ok: true, value: { status: 'disabled' } })
    expect(storeOf(f).verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'disabled' })
    const listed = await f.api.invoke('keysList', { status: 'disabled' })
    expect(listed.ok && listed.value.items.map((i) => i.accessId)).toEqual([k.accessId])
    const active = await f.api.invoke('keysList', { status: 'active' })
    expect(active.ok && active.value.total).toBe(0)
    expect(await f.api.invoke('keysDisable', { accessId: k.accessId })).toMatchObject({ ok: false, error: { kind: 'conflict' } })
    expect(await f.api.invoke('keysEnable', { accessId: k.accessId })).toMatchObject({ ok: true, value: { status: 'active', disabledAt: null } })
    expect(storeOf(f).verify({ accessKey: k.accessKey })).toMatchObject({ valid: true })
    expect(storeOf(f).listAudit({}).map((e) => e.action).slice(0, 2)).toEqual(['key.enable', 'key.disable'])
  })
})

describe('scopesInUse', () => {
  it('lists the distinct scopes of live keys, sorted', async () => {
    f = await bridgeFixture()
    await issue(f, { name: 'a', scopes: ['write', 'read'] })
    const gone = await issue(f, { name: 'b', scopes: ['admin', 'read'] })
    await f.api.invoke('keysRevoke', { accessIds: [gone.accessId] })
    expect(await f.api.invoke('scopesInUse', {})).toEqual({ ok: true, value: ['read', 'write'] })
  })
})

describe('keysReset inside a grace period', () => {
  it('refuses to replace a previous secret silently; keep keeps both, end ends it', async () => {
    f = await bridgeFixture()
    const k = await issue(f, { name: 'rotating' })
    const r1 = await f.api.invoke('keysReset', { accessId: k.accessId, confirm: 'rotating', grace: '24h' })
    if (!r1.ok) throw new Error(r1.error.message)
    const first = r1.value.keys[0]!
    expect(await f.api.invoke('keysReset', { accessId: k.accessId, confirm: 'rotating', grace: '24h' })).toMatchObject({ ok: false, error: { kind: 'conflict', field: 'previous' } })
    const r2 = await f.api.invoke('keysReset', { accessId: k.accessId, confirm: 'rotating', grace: '24h', previous: 'keep' })
    if (!r2.ok) throw new Error(r2.error.message)
    expect(storeOf(f).verify({ accessKey: k.accessKey })).toMatchObject({ valid: true })
    expect(storeOf(f).verify({ accessKey: first.accessKey })).toMatchObject({ valid: true })
    const view = await f.api.invoke('keysGet', { accessId: k.accessId })
    expect(view.ok && view.value.previousSecrets).toHaveLength(2)
    const r3 = await f.api.invoke('keysReset', { accessId: k.accessId, confirm: 'rotating', previous: 'end' })
    expect(r3.ok).toBe(true)
    expect(storeOf(f).verify({ accessKey: k.accessKey })).toMatchObject({ valid: false })
    expect(storeOf(f).verify({ accessKey: first.accessKey })).toMatchObject({ valid: false })
    expect(storeOf(f).verify({ accessKey: r2.value.keys[0]!.accessKey })).toMatchObject({ valid: false })
  })
})
