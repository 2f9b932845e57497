import { afterEach, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { tempStore } from '../helpers'

describe('last-used flush while another process holds the write lock', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => cleanups.splice(0).forEach((c) => c()))

  // The 5 s test timeout is the check: with the store's normal 10 s busy timeout,
  // a verify that flushes behind a held lock would block far longer.
  it('does not block verify; the time is kept and written once the lock is free', { timeout: 5_000 }, async () => {
    const t = await tempStore()
    cleanups.push(t.cleanup)
    const k = t.store.create({ name: 'busy' })
    const other = new Database(t.store.dbPath)
    other.exec('BEGIN IMMEDIATE')
    try {
      expect(t.store.verify({ accessKey: k.accessKey })).toMatchObject({ valid: true })
      t.store.flushLastUsed()
      expect(t.store.get(k.accessId).lastUsedAt).toBeNull()
    } finally {
      other.exec('COMMIT')
      other.close()
    }
    t.store.flushLastUsed()
    expect(t.store.get(k.accessId).lastUsedAt).not.toBeNull()
    // And the normal busy timeout is back for admin writes.
    expect(t.store.database.pragma('busy_timeout', { simple: true })).toBeGreaterThanOrEqual(5000)
  })
})
