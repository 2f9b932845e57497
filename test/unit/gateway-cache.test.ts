/**
 * The gateway's cache over a team store, in-process against the real server: rows
 * are cached only when the database returned them, the cache is bounded, cached rows
 * answer without the database, and the change feed — LISTEN or, as against a read
 * replica, polling the changes table — drops a key's rows when it is revoked, reset
 * or disabled, within a second.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { openKeyStore, type KeyStore } from '../../src/main/core/keystore'
import type { GatewayStorage } from '../../src/main/core/storage/gateway'
import { newAccessKey } from '../../src/main/core/keyformat'
import { freshTeamDatabase, tempDir } from '../helpers'
import { dropKeychainEntry } from './support'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function team(feed: 'listen' | 'poll', maxEntries = 1000): Promise<{ admin: KeyStore; gateway: KeyStore; port: GatewayStorage }> {
  const url = await freshTeamDatabase()
  const d = tempDir()
  const admin = await openKeyStore({ dataDir: d.dir, store: url, initTeam: true, actor: 'admin@test' })
  const gateway = await openKeyStore({ dataDir: d.dir, store: url, create: false, gateway: { staleForMs: 60_000, feed, maxEntries } })
  const port = gateway.port as GatewayStorage
  await port.start()
  cleanups.push(async () => {
    gateway.close()
    await admin.closeAsync()
    await dropKeychainEntry(admin.storeId)
    d.cleanup()
  })
  return { admin, gateway, port }
}

async function within(ms: number, check: () => boolean): Promise<number> {
  const t0 = performance.now()
  while (performance.now() - t0 < ms) {
    if (check()) return performance.now() - t0
    await new Promise((r) => setTimeout(r, 10))
  }
  return -1
}

describe.each(['listen', 'poll'] as const)('gateway cache, feed = %s', (feed) => {
  it('reports its feed; a revoke, a reset and a disable reach it within a second', async () => {
    const { admin, gateway, port } = await team(feed)
    expect(port.state()).toMatchObject({ database: 'up', feed })
    const a = admin.create({ name: 'a' })
    const b = admin.create({ name: 'b' })
    const c = admin.create({ name: 'c' })
    for (const k of [a, b, c]) expect(gateway.verify({ accessKey: k.accessKey }).valid).toBe(true)
    expect(port.state().cached).toBe(3)

    admin.revoke([a.accessId])
    expect(await within(1000, () => gateway.verify({ accessKey: a.accessKey }).valid === false)).toBeGreaterThanOrEqual(0)
    expect(gateway.verify({ accessKey: a.accessKey })).toEqual({ valid: false, reason: 'revoked' })

    const reset = admin.reset(b.accessId, { confirm: 'b' })
    expect(await within(1000, () => gateway.verify({ accessKey: b.accessKey }).valid === false)).toBeGreaterThanOrEqual(0)
    expect(gateway.verify({ accessKey: reset.accessKey }).valid).toBe(true)

    admin.disableKey(c.accessId)
    expect(await within(1000, () => gateway.verify({ accessKey: c.accessKey }).valid === false)).toBeGreaterThanOrEqual(0)
    expect(gateway.verify({ accessKey: c.accessKey })).toEqual({ valid: false, reason: 'disabled' })
  })
})

describe('gateway cache', () => {
  it('answers cached keys from memory and stays within its bound, least recently used out first', async () => {
    const { admin, gateway, port } = await team('listen', 2)
    const keys = [admin.create({ name: 'k1' }), admin.create({ name: 'k2' }), admin.create({ name: 'k3' })]
    const [k1, k2, k3] = keys as [typeof keys[0], typeof keys[0], typeof keys[0]]
    const verify = (k: typeof k1) => expect(gateway.verify({ accessKey: k.accessKey }).valid).toBe(true)
    verify(k1)
    verify(k2)
    verify(k3) // k1 out
    expect(port.state()).toMatchObject({ cached: 2, hits: 0, misses: 3 })
    verify(k2) // from memory; k2 is now the most recent
    expect(port.state()).toMatchObject({ cached: 2, hits: 1, misses: 3 })
    verify(k1) // from the database; k3 (least recent) out
    verify(k2)
    expect(port.state()).toMatchObject({ cached: 2, hits: 2, misses: 4 })
    verify(k3)
    expect(port.state()).toMatchObject({ cached: 2, hits: 2, misses: 5 })
  })

  it('never caches what the database did not return: an unknown key is asked for every time', async () => {
    const { admin, gateway, port } = await team('listen')
    admin.create({ name: 'k' })
    const unknown = newAccessKey() // well formed, checksum right, never issued by this store
    expect(gateway.verify({ accessKey: unknown })).toEqual({ valid: false, reason: 'unknown' })
    expect(gateway.verify({ accessKey: unknown })).toEqual({ valid: false, reason: 'unknown' })
    expect(port.state()).toMatchObject({ cached: 0, hits: 0 })
    expect(port.state().misses).toBeGreaterThanOrEqual(2)
  })
})
