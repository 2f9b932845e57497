/**
 * Opening the SQLite file: pragmas for durability, an integrity check, and
 * migrations. Every failure becomes a store_unavailable error with a plain message.
 */
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { KeydeskError } from './errors'
import { LATEST_VERSION, MIGRATIONS, type Migration } from './migrations/index'

export type Db = Database.Database
export const DB_FILE = 'keydesk.sqlite'
export const BUSY_TIMEOUT_MS = 10_000
const MMAP_BYTES = 1 << 30

function storeError(path: string, e: unknown): KeydeskError {
  if (e instanceof KeydeskError) return e
  const code = (e as { code?: string }).code ?? ''
  const msg = e instanceof Error ? e.message : String(e)
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || /not a database|malformed/i.test(msg))
    return new KeydeskError('store_unavailable', `The key store at ${path} is corrupt or not a KeyDesk database; it was not changed. Restore it from a backup (keydesk backup).`)
  if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'EROFS' || code === 'EPERM' || /readonly|unable to open/i.test(msg))
    return new KeydeskError('store_unavailable', `The key store at ${path} cannot be opened for writing (${code || 'permission denied'}); check that the data directory exists and is writable.`)
  if (code === 'SQLITE_BUSY')
    return new KeydeskError('store_unavailable', `The key store at ${path} is locked by another process for too long; try again.`)
  return new KeydeskError('store_unavailable', `The key store at ${path} could not be opened: ${msg.split('\n')[0]}`)
}

export function openDatabase(dataDir: string, opts: { mmap?: boolean } = {}): { db: Db; path: string } {
  const path = join(dataDir, DB_FILE)
  let db: Db | undefined
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS })
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    // For verify-heavy processes (keydesk serve, library users): reads through a memory
    // map, no read() call and no copy per page, which is what random lookups in a large
    // store spend their time on. Off by default: mapped pages count as resident, and the
    // app's main process keeps its RSS small instead (see README, Performance).
    if (opts.mmap) db.pragma(`mmap_size = ${MMAP_BYTES}`)
    const check = db.pragma('quick_check', { simple: true })
    if (check !== 'ok')
      throw new KeydeskError('store_unavailable', `The key store at ${path} failed its integrity check (${String(check).slice(0, 120)}); it was not changed. Restore it from a backup (keydesk backup).`)
    migrate(db, MIGRATIONS, path)
    return { db, path }
  } catch (e) {
    db?.close()
    throw storeError(path, e)
  }
}

export function migrate(db: Db, migrations: readonly Migration[], path = 'the key store'): void {
  const current = db.pragma('user_version', { simple: true }) as number
  const latest = migrations.length ? migrations[migrations.length - 1]!.version : 0
  if (current > latest)
    throw new KeydeskError('store_unavailable', `The key store at ${path} has schema version ${current}, newer than this KeyDesk understands (${latest}); upgrade KeyDesk.`)
  for (const m of migrations) {
    if (m.version <= current) continue
    db.transaction(() => {
      // Re-check inside the write lock: another process may have migrated meanwhile.
      const v = db.pragma('user_version', { simple: true }) as number
      if (v >= m.version) return
      db.exec(m.up)
      db.pragma(`user_version = ${m.version}`)
    }).immediate()
  }
}

export { LATEST_VERSION }
