import Database from 'better-sqlite3'
import keytar from 'keytar'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeKeyMaterial, newKeyMaterial } from '../../src/main/core/crypto'
import { DB_FILE } from '../../src/main/core/db'
import { KeydeskError } from '../../src/main/core/errors'
import { KEYCHAIN_SERVICE, keytarKeychain, type KeychainPort } from '../../src/main/core/keychain'
import { openKeyStore } from '../../src/main/core/keystore'
import { tempDir } from '../helpers'
import { catchKdAsync, dropKeychainEntry } from './support'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** A real store (real keyring), closed again; returns what a test needs to reopen it. */
async function makeStore(): Promise<{ dir: string; storeId: string; entry: string; key: string }> {
  const t = tempDir()
  cleanups.push(t.cleanup)
  const s = await openKeyStore({ dataDir: t.dir, actor: 'tester' })
  const storeId = s.health().storeId
  cleanups.push(() => dropKeychainEntry(storeId))
  const k = s.create({ name: 'existing' })
  s.close()
  const entry = await keytar.getPassword(KEYCHAIN_SERVICE, storeId)
  expect(entry).not.toBeNull()
  return { dir: t.dir, storeId, entry: entry!, key: k.accessKey }
}

function meta(dir: string): Record<string, string> {
  const db = new Database(join(dir, DB_FILE), { readonly: true })
  try {
    return Object.fromEntries((db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]))
  } finally {
    db.close()
  }
}

describe('the keychain entry (real Secret Service)', () => {
  it('is created on first use, one per store, holding a 32-byte pepper and MAC key that never reach the database', async () => {
    const a = await makeStore()
    const b = await makeStore()
    expect(a.storeId).not.toBe(b.storeId)
    const parsed = JSON.parse(a.entry) as { v: number; pepper: string; mac: string }
    expect(parsed.v).toBe(1)
    expect(Buffer.from(parsed.pepper, 'base64')).toHaveLength(32)
    expect(Buffer.from(parsed.mac, 'base64')).toHaveLength(32)
    expect(b.entry).not.toBe(a.entry)
    const file = readFileSync(join(a.dir, DB_FILE))
    for (const s of [parsed.pepper, parsed.mac]) {
      expect(file.includes(Buffer.from(s))).toBe(false)
      expect(file.includes(Buffer.from(s, 'base64'))).toBe(false)
    }
    const m = meta(a.dir)
    expect(m.store_id).toBe(a.storeId)
    expect(m.keychain_service).toBe(KEYCHAIN_SERVICE)
    expect(m.keychain_backend).toBe('keytar')
    expect(m.keychain_fingerprint).toMatch(/^[0-9a-f]{64}$/)
  })

  it('a key from one store does not verify in another (separate peppers)', async () => {
    const a = await makeStore()
    const b = await makeStore()
    const sb = await openKeyStore({ dataDir: b.dir })
    cleanups.push(() => sb.close())
    expect(sb.verify({ accessKey: a.key })).toEqual({ valid: false, reason: 'unknown' })
    expect(sb.verify({ accessKey: b.key }).valid).toBe(true)
  })

  it('entry deleted → keychain_unavailable; no fresh secret is made; restoring the entry brings the store back', async () => {
    const s = await makeStore()
    const before = meta(s.dir)
    expect(await keytar.deletePassword(KEYCHAIN_SERVICE, s.storeId)).toBe(true)
    const e = await catchKdAsync(openKeyStore({ dataDir: s.dir }))
    expect(e.kind).toBe('keychain_unavailable')
    expect(e.message).toMatch(/has no entry/)
    expect(e.message).toMatch(/will not create a new one/)
    expect(e.message).toContain(s.storeId)
    // Not reinitialised: nothing written to the keychain, the store's record unchanged.
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, s.storeId)).toBeNull()
    expect(meta(s.dir)).toEqual(before)
    // A second attempt behaves the same (no silent fallback the second time either).
    expect((await catchKdAsync(openKeyStore({ dataDir: s.dir }))).kind).toBe('keychain_unavailable')
    await keytar.setPassword(KEYCHAIN_SERVICE, s.storeId, s.entry)
    const back = await openKeyStore({ dataDir: s.dir })
    cleanups.push(() => back.close())
    expect(back.verify({ accessKey: s.key }).valid).toBe(true)
  })

  it('entry replaced by different key material → refused, and the entry is left as found', async () => {
    const s = await makeStore()
    const other = encodeKeyMaterial(newKeyMaterial())
    await keytar.setPassword(KEYCHAIN_SERVICE, s.storeId, other)
    const e = await catchKdAsync(openKeyStore({ dataDir: s.dir }))
    expect(e.kind).toBe('keychain_unavailable')
    expect(e.message).toMatch(/has changed/)
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, s.storeId)).toBe(other)
    expect(e.message).not.toContain(JSON.parse(other).pepper)
  })

  it('entry replaced by garbage → refused without echoing it, entry untouched', async () => {
    const s = await makeStore()
    const junk = 'not-json-SECRET-LOOKING-VALUE-123'
    await keytar.setPassword(KEYCHAIN_SERVICE, s.storeId, junk)
    const e = await catchKdAsync(openKeyStore({ dataDir: s.dir }))
    expect(e.kind).toBe('keychain_unavailable')
    expect(e.message).not.toContain(junk)
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, s.storeId)).toBe(junk)
  })

  it('keytarKeychain round-trips through the real Secret Service', async () => {
    const port = keytarKeychain()
    const account = `unit-${process.pid}-${Date.now()}`
    cleanups.push(() => keytar.deletePassword(KEYCHAIN_SERVICE, account))
    expect(await port.get(account)).toBeNull()
    await port.set(account, 'value-1')
    expect(await port.get(account)).toBe('value-1')
    expect(port.backend).toBe('keytar')
  })
})

// Test doubles only for states the real keyring cannot easily be put in.
describe('keychain failures that are awkward to produce for real (port doubles)', () => {
  const failing = (when: 'get' | 'set'): KeychainPort => ({
    backend: 'double',
    async get() {
      if (when === 'get') throw new KeydeskError('keychain_unavailable', 'The OS keychain is unavailable (locked).')
      return null
    },
    async set() {
      throw new KeydeskError('keychain_unavailable', 'The OS keychain is unavailable (locked).')
    },
  })

  it('a locked keychain on first use → keychain_unavailable, and the store is not initialised', async () => {
    for (const when of ['get', 'set'] as const) {
      const t = tempDir()
      cleanups.push(t.cleanup)
      const e = await catchKdAsync(openKeyStore({ dataDir: t.dir, keychain: failing(when) }))
      expect(e.kind).toBe('keychain_unavailable')
      const m = meta(t.dir)
      expect(m.store_id).toBeUndefined()
      expect(m.keychain_fingerprint).toBeUndefined()
      expect(m.policy).toBeUndefined()
    }
  })

  it('a keychain that accepts the entry but does not return it → keychain_unavailable, not initialised', async () => {
    const t = tempDir()
    cleanups.push(t.cleanup)
    let stored = 0
    const forgetful: KeychainPort = {
      backend: 'double',
      async get() {
        return null
      },
      async set() {
        stored++
      },
    }
    const e = await catchKdAsync(openKeyStore({ dataDir: t.dir, keychain: forgetful }))
    expect(stored).toBe(1)
    expect(e.kind).toBe('keychain_unavailable')
    expect(e.message).toMatch(/does not return it/)
    expect(meta(t.dir).store_id).toBeUndefined()
    // After such a failure a working keychain initialises the store normally.
    const s = await openKeyStore({ dataDir: t.dir })
    const id = s.health().storeId
    cleanups.push(() => dropKeychainEntry(id))
    cleanups.push(() => s.close())
    expect(s.verify({ accessKey: s.create({ name: 'ok' }).accessKey }).valid).toBe(true)
  })

  it('a locked keychain on an existing store → keychain_unavailable, store record unchanged', async () => {
    const s = await makeStore()
    const before = meta(s.dir)
    const e = await catchKdAsync(openKeyStore({ dataDir: s.dir, keychain: failing('get') }))
    expect(e.kind).toBe('keychain_unavailable')
    expect(meta(s.dir)).toEqual(before)
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, s.storeId)).toBe(s.entry)
  })
})
