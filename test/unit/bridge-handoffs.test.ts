/**
 * One-time secrets across the bridge: the handoff lives 10 minutes or until
 * discarded; the credential CSV and the clipboard copy come from it (the renderer
 * never sends a secret back); the CSV is owner-only and verifies.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Papa from 'papaparse'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HANDOFF_TTL_MS, SECRET_CLIPBOARD_CLEAR_MS, type OneTimeSecret } from '../../src/shared/contract'
import { HandoffRegistry } from '../../src/main/api/index'
import { bridgeFixture, snapshot, ManualClock, type BridgeFixture } from './bridge-fixture'

let f: BridgeFixture
beforeEach(async () => {
  f = await bridgeFixture()
})
afterEach(async () => {
  await f.cleanup()
})

async function create(name = 'svc/deploy'): Promise<OneTimeSecret> {
  const r = await f.api.invoke('keysCreate', { name, scopes: ['read', 'write'], expiresIn: '30d' })
  if (!r.ok) throw new Error(r.error.message)
  return r.value
}
const store = () => {
  if (!f.store.ok) throw new Error('no store')
  return f.store.store
}

describe('HandoffRegistry', () => {
  const key = { accessId: 'kdid_0000000000000000', accessKey: 'kdsk_x', name: 'n', owner: 'o', scopes: ['a'], expiresAt: '2031-01-01T00:00:00.000Z' }
  it('uses 128-bit random ids and a 10-minute TTL', () => {
    const clock = new ManualClock()
    const h = new HandoffRegistry(clock)
    const a = h.put([key])
    const b = h.put([key])
    expect(a.handoffId).toMatch(/^[0-9a-f]{32}$/)
    expect(a.handoffId).not.toBe(b.handoffId)
    expect(HANDOFF_TTL_MS).toBe(600_000)
    expect(Date.parse(a.handoffExpiresAt) - clock.t).toBe(HANDOFF_TTL_MS)
  })
  it('forgets a handoff when the TTL passes (timer), and refuses it at the boundary even without one', () => {
    const clock = new ManualClock()
    const h = new HandoffRegistry(clock)
    const a = h.put([key])
    clock.advance(HANDOFF_TTL_MS - 1)
    expect(h.get(a.handoffId)).toHaveLength(1)
    clock.advance(1)
    expect(h.get(a.handoffId)).toBeNull()
    expect(h.size).toBe(0)
    // A clock that never fires timers: get() still refuses an expired handoff.
    const lazy = new HandoffRegistry({ now: () => clock.t, setTimer: () => () => {} })
    const b = lazy.put([key])
    clock.t += HANDOFF_TTL_MS
    expect(lazy.get(b.handoffId)).toBeNull()
    expect(lazy.size).toBe(0)
  })
  it('discard and clear drop the keys; the caller copy is independent', () => {
    const h = new HandoffRegistry(new ManualClock())
    const a = h.put([key])
    const held = h.get(a.handoffId)!
    expect(h.discard(a.handoffId)).toBe(true)
    expect(held).toHaveLength(0) // main's array is emptied, not just unlinked
    expect(a.keys[0]!.accessKey).toBe('kdsk_x')
    expect(h.discard(a.handoffId)).toBe(false)
    h.put([key])
    h.put([key])
    h.clear()
    expect(h.size).toBe(0)
  })
})

describe('create → credentialsSave → discard', () => {
  it('writes an owner-only credential CSV from the handoff that verifies, and audits the export', async () => {
    const issued = await create()
    const [k] = issued.keys
    const saved = await f.api.invoke('credentialsSave', { handoffId: issued.handoffId })
    expect(saved).toEqual({ ok: true, value: { saved: true, path: join(f.downloads, `keydesk-credentials-svc-deploy-${k!.accessId}.csv`) } })
    const path = saved.ok ? saved.value.path! : ''
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const rows = Papa.parse<Record<string, string>>(readFileSync(path, 'utf8'), { header: true, skipEmptyLines: true }).data
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ Name: 'svc/deploy', 'Access ID': k!.accessId, 'Access Key': k!.accessKey })
    expect(store().verify({ accessId: rows[0]!['Access ID']!, accessKey: rows[0]!['Access Key']! })).toMatchObject({ valid: true, scopes: ['read', 'write'] })
    const audit = store().listAudit({ action: 'credentials.export' })
    expect(audit[0]).toMatchObject({ target: path, detail: { keys: 1 } })
    expect(JSON.stringify(store().listAudit({ limit: 1000 }))).not.toContain(k!.accessKey)

    expect(await f.api.invoke('credentialsDiscard', { handoffId: issued.handoffId })).toEqual({ ok: true, value: { discarded: true } })
    expect(await f.api.invoke('credentialsSave', { handoffId: issued.handoffId })).toMatchObject({ ok: false, error: { kind: 'handoff_expired', field: 'handoffId' } })
    expect(await f.api.invoke('secretCopy', { handoffId: issued.handoffId, accessId: k!.accessId })).toMatchObject({ ok: false, error: { kind: 'handoff_expired' } })
    expect(await f.api.invoke('credentialsDiscard', { handoffId: issued.handoffId })).toEqual({ ok: true, value: { discarded: false } })
  })
  it('a cancelled save dialog writes nothing and records nothing', async () => {
    const issued = await create()
    const auditBefore = store().listAudit({ limit: 1 })[0]!.id
    f.nextSave.path = null
    expect(await f.api.invoke('credentialsSave', { handoffId: issued.handoffId })).toEqual({ ok: true, value: { saved: false, path: null } })
    expect(store().listAudit({ limit: 1 })[0]!.id).toBe(auditBefore)
  })
  it('an unwritable target is a typed error naming the file field', async () => {
    const issued = await create()
    f.nextSave.path = join(f.dir, 'no-such-dir', 'x.csv')
    expect(await f.api.invoke('credentialsSave', { handoffId: issued.handoffId })).toMatchObject({ ok: false, error: { kind: 'invalid_input', field: 'csv' } })
  })
  it('after 10 minutes the secret is gone from main', async () => {
    const issued = await create()
    f.clock.advance(HANDOFF_TTL_MS)
    expect(f.handoffs.size).toBe(0)
    expect(await f.api.invoke('credentialsSave', { handoffId: issued.handoffId })).toMatchObject({ ok: false, error: { kind: 'handoff_expired' } })
    expect(f.rec.saves).toHaveLength(0)
  })
  it('an unknown (well-formed) handoff id is handoff_expired, not a crash', async () => {
    expect(await f.api.invoke('credentialsSave', { handoffId: '0'.repeat(32) })).toMatchObject({ ok: false, error: { kind: 'handoff_expired' } })
  })
})

describe('secretCopy', () => {
  it('copies the key of the handoff, with the 30 s clear', async () => {
    const issued = await create()
    const [k] = issued.keys
    expect(await f.api.invoke('secretCopy', { handoffId: issued.handoffId, accessId: k!.accessId })).toEqual({ ok: true, value: { clearsAfterMs: 30_000 } })
    expect(f.rec.copies).toEqual([{ text: k!.accessKey, clearAfterMs: SECRET_CLIPBOARD_CLEAR_MS }])
  })
  it('refuses an access ID that is not in the handoff', async () => {
    const issued = await create()
    const other = await create('other')
    expect(await f.api.invoke('secretCopy', { handoffId: issued.handoffId, accessId: other.keys[0]!.accessId })).toMatchObject({ ok: false, error: { kind: 'not_found', field: 'accessId' } })
    expect(f.rec.copies).toHaveLength(0)
  })
})

describe('reset and import hand off too', () => {
  it('reset returns the new secret once, through a handoff', async () => {
    const issued = await create('rotating')
    const r = await f.api.invoke('keysReset', { accessId: issued.keys[0]!.accessId, confirm: 'rotating' })
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.value.keys[0]!.accessKey).not.toBe(issued.keys[0]!.accessKey)
    expect(store().verify({ accessKey: r.value.keys[0]!.accessKey })).toMatchObject({ valid: true })
    expect(store().verify({ accessKey: issued.keys[0]!.accessKey })).toMatchObject({ valid: false })
    expect(await f.api.invoke('keysReset', { accessId: issued.keys[0]!.accessId, confirm: 'Rotating' })).toMatchObject({ ok: false, error: { kind: 'invalid_input', field: 'confirm' } })
  })
  it('keysImport reads the chosen CSV, issues all rows into one handoff, and writes no credential file itself', async () => {
    const csv = join(f.dir, 'names.csv')
    writeFileSync(csv, 'Name,Scopes\nimp/one,read\nimp/two,read write\n')
    f.nextOpen.path = csv
    const r = await f.api.invoke('keysImport', {})
    expect(r.ok).toBe(true)
    if (!r.ok || !r.value) return
    expect(r.value.keys.map((k) => k.name)).toEqual(['imp/one', 'imp/two'])
    expect(f.handoffs.get(r.value.handoffId)).toHaveLength(2)
    const saved = await f.api.invoke('credentialsSave', { handoffId: r.value.handoffId })
    expect(saved).toMatchObject({ ok: true, value: { saved: true, path: join(f.downloads, 'keydesk-credentials-2-keys.csv') } })
  })
  it('keysImport: cancel is null; a bad row issues nothing', async () => {
    expect(await f.api.invoke('keysImport', {})).toEqual({ ok: true, value: null })
    const csv = join(f.dir, 'bad.csv')
    writeFileSync(csv, 'Name\ngood\n=cmd\n')
    f.nextOpen.path = csv
    const before = snapshot(f)
    const r = await f.api.invoke('keysImport', {})
    expect(r).toMatchObject({ ok: false, error: { kind: 'invalid_input' } })
    if (!r.ok) expect(r.error.message).toMatch(/Row 3/)
    expect(snapshot(f).replace(/"opens":\d+/, '')).toBe(before.replace(/"opens":\d+/, ''))
  })
})

describe('owners revoke-all needs the typed name', () => {
  it('refuses a wrong confirmation and revokes nothing', async () => {
    store().addOwner('team-a', 'service')
    store().create({ name: 'a1', owner: 'team-a' })
    const before = snapshot(f)
    expect(await f.api.invoke('ownersRevokeAll', { name: 'team-a', confirm: 'team-A' })).toMatchObject({ ok: false, error: { kind: 'invalid_input', field: 'confirm' } })
    expect(snapshot(f)).toBe(before)
    expect(await f.api.invoke('ownersRevokeAll', { name: 'team-a', confirm: 'team-a', reason: 'offboarded' })).toEqual({ ok: true, value: { owner: 'team-a', revoked: 1 } })
  })
})
