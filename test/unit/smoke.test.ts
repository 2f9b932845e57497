import { describe, expect, it } from 'vitest'
import { tempStore } from '../helpers'

describe('smoke', () => {
  it('creates and verifies', async () => {
    const { store, cleanup } = await tempStore()
    const k = store.create({ name: 'demo', scopes: ['read'] })
    expect(store.verify({ accessKey: k.accessKey })).toMatchObject({ valid: true, accessId: k.accessId })
    expect(store.list({ search: 'dem' }).items.length).toBe(1)
    expect(store.list({ search: 'demo' }).items.length).toBe(1)
    expect(store.verifyAudit().ok).toBe(true)
    cleanup()
  })
})
