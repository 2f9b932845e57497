/**
 * Errors cross as values: domain errors keep kind/message/field; a store that did
 * not open answers every operation with its problem (health says so); anything
 * unexpected is `internal` with a fixed message, logged without the input.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { OPERATION_NAMES } from '../../src/shared/operations'
import { openStoreState, type StoreState } from '../../src/main/api/index'
import { KeydeskError } from '../../src/main/core/errors'
import { bridgeFixture, type BridgeFixture } from './bridge-fixture'

let f: BridgeFixture | undefined
afterEach(async () => {
  await f?.cleanup()
  f = undefined
})

describe('domain errors', () => {
  it('keep kind, message and field', async () => {
    f = await bridgeFixture()
    expect(await f.api.invoke('keysCreate', { name: '=SUM(A1)' })).toMatchObject({ ok: false, error: { kind: 'invalid_input', field: 'name' } })
    expect(await f.api.invoke('keysGet', { accessId: 'kdid_0000000000000000' })).toMatchObject({ ok: false, error: { kind: 'not_found' } })
    expect(await f.api.invoke('keysCreate', { expiresIn: '400d' })).toMatchObject({ ok: false, error: { kind: 'policy', field: 'expiresIn' } })
    expect(await f.api.invoke('ownersAdd', { name: 'x', kind: 'user' })).toMatchObject({ ok: true })
    expect(await f.api.invoke('ownersAdd', { name: 'x', kind: 'user' })).toMatchObject({ ok: false, error: { kind: 'conflict' } })
  })
})

describe('a store that did not open', () => {
  const problem: StoreState = {
    ok: false,
    problem: { kind: 'keychain_unavailable', message: 'The OS keychain is unavailable (locked). Unlock it and try again.' },
  }
  it('health reports it; every other operation returns it', async () => {
    f = await bridgeFixture({ store: problem })
    const h = await f.api.invoke('health', {})
    expect(h).toMatchObject({ ok: true, value: { ok: false, problem: problem.ok ? null : problem.problem, keychain: 'unavailable', dbPath: null, schemaVersion: null } })
    const inputs: Record<string, unknown> = {
      keysGet: { accessId: 'kdid_0000000000000000' },
      keysReset: { accessId: 'kdid_0000000000000000', confirm: 'x' },
      keysRevoke: { accessIds: ['kdid_0000000000000000'] },
      keysUpdate: { accessId: 'kdid_0000000000000000', name: 'x' },
      keysDisable: { accessId: 'kdid_0000000000000000' },
      keysEnable: { accessId: 'kdid_0000000000000000' },
      keysRevokeMatching: { query: {}, expectedCount: 1 },
      ownersAdd: { name: 'x', kind: 'user' },
      ownersDisable: { name: 'x' },
      ownersEnable: { name: 'x' },
      ownersRevokeAll: { name: 'x', confirm: 'x' },
      credentialsSave: { handoffId: '0'.repeat(32) },
      secretCopy: { handoffId: '0'.repeat(32), accessId: 'kdid_0000000000000000' },
    }
    // The Store setting keeps working (bridge-store-settings.test.ts): it is how another store is chosen.
    const storeSetting = new Set(['storeSettingsGet', 'storeSettingsTest', 'storeSettingsSave'])
    for (const name of OPERATION_NAMES) {
      if (name === 'health' || name === 'credentialsDiscard' || storeSetting.has(name)) continue
      const r = await f.api.invoke(name, inputs[name] ?? {})
      expect(r, name).toMatchObject({ ok: false, error: { kind: 'keychain_unavailable', message: /keychain is unavailable/ } })
    }
    expect(f.rec.saves.length + f.rec.opens.length + f.rec.copies.length).toBe(0)
  })
  it('openStoreState turns a keychain failure into that problem (no throw)', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dir = mkdtempSync(join(tmpdir(), 'keydesk-nokeychain-'))
    const broken = {
      backend: 'broken',
      get: async () => {
        throw new KeydeskError('keychain_unavailable', 'The OS keychain is unavailable (no Secret Service). Unlock or start your keychain.')
      },
      set: async () => {
        throw new KeydeskError('keychain_unavailable', 'The OS keychain is unavailable (no Secret Service). Unlock or start your keychain.')
      },
    }
    const s = await openStoreState({ dataDir: dir, keychain: broken }, { error: () => {}, warn: () => {} })
    expect(s).toMatchObject({ ok: false, problem: { kind: 'keychain_unavailable' } })
    rmSync(dir, { recursive: true, force: true })
  })
})

describe('unexpected failures', () => {
  it('are internal with a fixed message, and the log never holds the input', async () => {
    f = await bridgeFixture({
      ports: {
        chooseSavePath: async () => {
          throw new TypeError('the dialog exploded')
        },
      },
    })
    const marker = 'MARKER-never-logged-7d1f'
    const issued = await f.api.invoke('keysCreate', { name: marker, description: marker })
    expect(issued.ok).toBe(true)
    if (!issued.ok) return
    const r = await f.api.invoke('credentialsSave', { handoffId: issued.value.handoffId })
    expect(r).toEqual({ ok: false, error: { kind: 'internal', message: 'Unexpected error; see the log.' } })
    expect(f.rec.logs.join('\n')).toMatch(/credentialsSave failed: TypeError: the dialog exploded/)

    // A closed database (better-sqlite3 throws a plain TypeError) with a payload full of markers.
    if (f.store.ok) f.store.store.close()
    const r2 = await f.api.invoke('keysCreate', { name: marker, description: marker, scopes: [marker] })
    expect(r2).toEqual({ ok: false, error: { kind: 'internal', message: 'Unexpected error; see the log.' } })
    const log = f.rec.logs.join('\n')
    expect(log).toMatch(/keysCreate failed/)
    expect(log).not.toContain(marker)
    expect(log).not.toContain(issued.value.keys[0]!.accessKey)
  })
})
