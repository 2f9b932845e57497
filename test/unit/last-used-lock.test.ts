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

  it('skips the fsync for last use only: admin writes after a flush (and after a failed one) are durable again (synchronous = FULL)', async () => {
    const t = await tempStore()
    cleanups.push(t.cleanup)
    const k = t.store.create({ name: 'durable' })
    const FULL = 2
    expect(t.store.database.pragma('synchronous', { simple: true })).toBe(FULL)
    expect(t.store.verify({ accessKey: k.accessKey })).toMatchObject({ valid: true })
    t.store.flushLastUsed()
    expect(t.store.get(k.accessId).lastUsedAt).not.toBeNull()
    expect(t.store.database.pragma('synchronous', { simple: true })).toBe(FULL)
    // A flush that fails (another writer holds the lock) restores it too.
    const k2 = t.store.create({ name: 'durable-2' })
    expect(t.store.verify({ accessKey: k2.accessKey })).toMatchObject({ valid: true })
    const other = new Database(t.store.dbPath)
    other.exec('BEGIN IMMEDIATE')
    try {
      t.store.flushLastUsed()
    } finally {
      other.exec('COMMIT')
      other.close()
    }
    expect(t.store.get(k2.accessId).lastUsedAt).toBeNull()
    expect(t.store.database.pragma('synchronous', { simple: true })).toBe(FULL)
  })
})
