/**
 * The real keytar port with no reachable Secret Service. This file runs in its
 * own worker process, so pointing D-Bus at nothing here does not affect other files.
 */
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeKeyMaterial, newKeyMaterial } from '../../src/main/core/crypto'
import { DB_FILE } from '../../src/main/core/db'
import { keytarKeychain, type KeychainPort } from '../../src/main/core/keychain'
import { openKeyStore } from '../../src/main/core/keystore'
import { tempDir } from '../helpers'
import { catchKdAsync } from './support'

const savedBus = process.env.DBUS_SESSION_BUS_ADDRESS
beforeAll(() => {
  process.env.DBUS_SESSION_BUS_ADDRESS = 'unix:path=/nonexistent/keydesk-test-bus'
  delete process.env.DISPLAY
})
afterAll(() => {
  if (savedBus === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS
  else process.env.DBUS_SESSION_BUS_ADDRESS = savedBus
})

const storeIdOf = (dir: string): string | undefined => {
  const db = new Database(join(dir, DB_FILE), { readonly: true })
  try {
    return db.prepare(`SELECT value FROM meta WHERE key = 'store_id'`).pluck().get() as string | undefined
  } finally {
    db.close()
  }
}

describe('no Secret Service reachable (real keytar)', () => {
  it('the port turns keytar failures into keychain_unavailable with a plain message', async () => {
    const port = keytarKeychain()
    // Start each call only when it is awaited: a second pending rejection would be unhandled meanwhile.
    for (const call of [() => port.get('anything'), () => port.set('anything', 'value')]) {
      const e = await catchKdAsync(call())
      expect(e.kind).toBe('keychain_unavailable')
      expect(e.message).toMatch(/keychain is unavailable/)
      expect(e.message).toMatch(/will not issue or verify keys without it/)
      expect(e.message).not.toContain('value')
    }
  })

  it('a new store is refused and not initialised (no plaintext fallback)', async () => {
    const t = tempDir()
    try {
      const e = await catchKdAsync(openKeyStore({ dataDir: t.dir }))
      expect(e.kind).toBe('keychain_unavailable')
      expect(storeIdOf(t.dir)).toBeUndefined()
    } finally {
      t.cleanup()
    }
  })

  it('an existing store is refused; nothing in it changes', async () => {
    const t = tempDir()
    try {
      // Set the store up with an in-memory port standing in for a keychain that was available earlier.
      const entries = new Map<string, string>()
      const earlier: KeychainPort = {
        backend: 'keytar',
        async get(a) {
          return entries.get(a) ?? null
        },
        async set(a, s) {
          entries.set(a, s)
        },
      }
      const s = await openKeyStore({ dataDir: t.dir, keychain: earlier })
      const k = s.create({ name: 'made-earlier' })
      const id = s.health().storeId
      s.close()
      // The store's entry and its anchor (the last known state, for rollback detection).
      expect([...entries.keys()].sort()).toEqual([id, `${id}:anchor`])
      expect(encodeKeyMaterial(newKeyMaterial())).not.toBe(entries.get(id))

      const e = await catchKdAsync(openKeyStore({ dataDir: t.dir }))
      expect(e.kind).toBe('keychain_unavailable')
      expect(storeIdOf(t.dir)).toBe(id)
      // With the keychain back, the old key still verifies: nothing was regenerated.
      const back = await openKeyStore({ dataDir: t.dir, keychain: earlier })
      expect(back.verify({ accessKey: k.accessKey }).valid).toBe(true)
      back.close()
    } finally {
      t.cleanup()
    }
  })
})
