import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DB_FILE } from '../../src/main/core/db'
import { openKeyStore } from '../../src/main/core/keystore'
import { catchKdAsync, openTestStore, type TestStore } from './support'

let t: TestStore
beforeEach(async () => {
  t = await openTestStore()
})
afterEach(() => t.cleanup())

describe('online backup', () => {
  it('produces an owner-only file that opens as a store with the same keys, policy and audit', async () => {
    t.store.addOwner('svc', 'service')
    const keys = t.store.createMany(Array.from({ length: 20 }, (_, i) => ({ name: `k${i}`, owner: i % 2 ? 'svc' : undefined, scopes: ['read'] })))
    t.store.revoke([keys[0]!.accessId], 'r')
    t.store.setPolicy({ retentionDays: 12 })
    t.store.verify({ accessKey: keys[5]!.accessKey })
    const path = join(t.dir, 'backup.sqlite')
    expect(await t.store.backup(path)).toEqual({ path })
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(t.store.listAudit({ limit: 1 })[0]).toMatchObject({ action: 'store.backup', target: path })

    // keep working on the original after the backup: the backup must not see this
    const later = t.store.create({ name: 'after-backup' })

    const restoreDir = join(t.dir, 'restored')
    mkdirSync(restoreDir)
    copyFileSync(path, join(restoreDir, DB_FILE))
    const restored = await openKeyStore({ dataDir: restoreDir, actor: 'tester' })
    try {
      expect(restored.health().storeId).toBe(t.storeId)
      expect(restored.getPolicy().retentionDays).toBe(12)
      const page = restored.list({ limit: 1000 })
      expect(page.total).toBe(20)
      expect(page.items.every((k) => !k.tampered)).toBe(true)
      expect(restored.verify({ accessKey: keys[0]!.accessKey })).toEqual({ valid: false, reason: 'revoked' })
      for (const k of keys.slice(1)) expect(restored.verify({ accessKey: k.accessKey, accessId: k.accessId })).toMatchObject({ valid: true, owner: k.owner })
      expect(restored.verify({ accessKey: later.accessKey })).toEqual({ valid: false, reason: 'unknown' })
      expect(restored.get(keys[5]!.accessId).lastUsedAt).not.toBeNull()
      expect(restored.verifyAudit().ok).toBe(true)
      expect(restored.database.pragma('quick_check', { simple: true })).toBe('ok')
    } finally {
      restored.close()
    }
  })

  it('refuses to overwrite an existing file', async () => {
    const path = join(t.dir, 'exists.sqlite')
    writeFileSync(path, 'precious')
    const e = await catchKdAsync(t.store.backup(path))
    expect(e.kind).toBe('invalid_input')
    expect(e.field).toBe('file')
    expect(readFileSync(path, 'utf8')).toBe('precious')
  })

  it('an unwritable target is refused as invalid_input on file, and not audited', async () => {
    const n = t.store.listAudit({ limit: 1000 }).length
    const e = await catchKdAsync(t.store.backup(join(t.dir, 'no-such-dir', 'b.sqlite')))
    expect(e.kind).toBe('invalid_input')
    expect(e.field).toBe('file')
    expect(existsSync(join(t.dir, 'no-such-dir'))).toBe(false)
    expect(t.store.listAudit({ limit: 1000 })).toHaveLength(n)
  })
})
