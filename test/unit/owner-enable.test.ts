import { afterEach, describe, expect, it } from 'vitest'
import { tempStore } from '../helpers'
import { rawConnection } from './support'

describe('owner enable (undo a disable)', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => cleanups.splice(0).forEach((c) => c()))

  it('makes the owner\'s live keys verify again, keeps revoked ones revoked, and is audited', async () => {
    const t = await tempStore()
    cleanups.push(t.cleanup)
    const s = t.store
    s.addOwner('svc', 'service')
    const live = s.create({ name: 'live', owner: 'svc' })
    const gone = s.create({ name: 'gone', owner: 'svc' })
    s.revoke([gone.accessId])
    s.disableOwner('svc')
    expect(s.verify({ accessKey: live.accessKey })).toEqual({ valid: false, reason: 'owner_disabled' })
    const v = s.enableOwner('svc')
    expect(v.disabledAt).toBeNull()
    expect(v.tampered).toBe(false)
    expect(s.verify({ accessKey: live.accessKey })).toMatchObject({ valid: true, owner: 'svc' })
    expect(s.verify({ accessKey: gone.accessKey })).toEqual({ valid: false, reason: 'revoked' })
    expect(s.get(live.accessId)).toMatchObject({ ownerDisabled: false, tampered: false })
    expect(s.listAudit({ action: 'owner.enable' })).toHaveLength(1)
    expect(s.verifyAudit().ok).toBe(true)
    expect(() => s.enableOwner('svc')).toThrow(/is not disabled/)
  })

  it('a key row whose owner copy is re-enabled by editing the file stays refused (tampered)', async () => {
    const t = await tempStore()
    cleanups.push(t.cleanup)
    t.store.addOwner('svc', 'service')
    const k = t.store.create({ name: 'k', owner: 'svc' })
    t.store.disableOwner('svc')
    const db = rawConnection(t.store)
    db.prepare('UPDATE keys SET owner_disabled_at = NULL WHERE access_id = ?').run(k.accessId)
    db.close()
    expect(t.store.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'tampered' })
  })
})
