import { afterEach, describe, expect, it } from 'vitest'
import { tempStore } from '../helpers'

describe('memory-mapped reads (opt-in for verify-heavy processes)', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => cleanups.splice(0).forEach((c) => c()))

  it('are off by default (the app keeps its resident memory small)', async () => {
    const t = await tempStore()
    cleanups.push(t.cleanup)
    expect(t.store.database.pragma('mmap_size', { simple: true })).toBe(0)
  })

  it('are on with mmap: true, and verify answers the same', async () => {
    const t = await tempStore({ mmap: true })
    cleanups.push(t.cleanup)
    expect(t.store.database.pragma('mmap_size', { simple: true })).toBeGreaterThan(0)
    const k = t.store.create({ name: 'mapped', scopes: ['read'] })
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: true, accessId: k.accessId, owner: 'tester', scopes: ['read'] })
    t.store.revoke([k.accessId])
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'revoked' })
  })
})
