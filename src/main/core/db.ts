/**
 * Opening the SQLite file: pragmas for durability, an integrity check, and
 * migrations. Every failure becomes a store_unavailable error with a plain message.
 */
import Database from 'better-sqlite3'
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { KeydeskError } from './errors'
import { LATEST_VERSION, MIGRATIONS, type Migration } from './migrations/index'
import { STORE_SETTINGS_FILE } from './settings'

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

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1')

/**
 * The data directory must be ours alone: owned by this user, not writable by group
 * or others (anyone who can write there can swap the store's files).
 */
function checkDataDir(dataDir: string): void {
  const st = statSync(dataDir)
  if (!st.isDirectory()) throw new KeydeskError('store_unavailable', `${dataDir} is not a directory; give a data directory with --data-dir.`)
  const uid = process.getuid?.()
  if (uid !== undefined && st.uid !== uid)
    throw new KeydeskError('store_unavailable', `The data directory ${dataDir} belongs to another user (uid ${st.uid}); KeyDesk only uses a directory you own. Use your own directory, or chown it to yourself.`)
  if ((st.mode & 0o022) !== 0)
    throw new KeydeskError('store_unavailable', `The data directory ${dataDir} is writable by ${st.mode & 0o002 ? 'everyone' : 'its group'}; anyone who can write there could swap the key store. Fix it with: chmod 700 ${dataDir}`)
}

/** A store file that exists must look like SQLite: a 0-byte or header-less file is corrupt, never a new store. */
function checkStoreFile(path: string): void {
  const st = lstatSync(path)
  if (!st.isFile()) throw new KeydeskError('store_unavailable', `The key store at ${path} is not a regular file; KeyDesk will not open it.`)
  if (st.size === 0)
    throw new KeydeskError('store_unavailable', `The key store at ${path} is empty (0 bytes): it is corrupt, not a new store. Restore it from a backup (keydesk restore), or move it away to start over.`)
  const fd = openSync(path, 'r')
  try {
    const head = Buffer.alloc(16)
    const n = readSync(fd, head, 0, 16, 0)
    if (n < 16 || !head.equals(SQLITE_MAGIC))
      throw new KeydeskError('store_unavailable', `The key store at ${path} is corrupt or not a KeyDesk database (no SQLite header); it was not changed. Restore it from a backup (keydesk restore).`)
  } finally {
    closeSync(fd)
  }
}

/**
 * A new store appears fully formed or not at all: built in a 0600 temporary sibling
 * (schema and all), then linked into place. If another process got there first
 * (link: EEXIST), its store is used and ours discarded. So no process ever sees a
 * half-made or 0-byte store file.
 */
function createStoreFile(path: string): boolean {
  const tmp = `${path}.${process.pid}.${Date.now()}.init`
  try {
    closeSync(openSync(tmp, 'wx', 0o600))
    const db = new Database(tmp)
    try {
      db.pragma('journal_mode = DELETE')
      migrate(db, MIGRATIONS, path)
    } finally {
      db.close()
    }
    const fd = openSync(tmp, 'r')
    try { fsyncSync(fd) } finally { closeSync(fd) }
    try {
      linkSync(tmp, path)
      return true
    } catch (e) {
      if ((e as { code?: string }).code === 'EEXIST') return false
      throw e
    }
  } finally {
    rmSync(tmp, { force: true })
    rmSync(`${tmp}-journal`, { force: true })
  }
}

export interface OpenDbOptions {
  mmap?: boolean
  /** SQLite's page cache for this connection, KiB (default: better-sqlite3's 16 MiB). */
  pageCacheKiB?: number
  /** Create a store when there is none (write commands only). Never in a directory that holds anything else. */
  create?: boolean
  /** The app's own user-data dir may hold the app's other files. */
  allowNonEmptyDir?: boolean
}

export function openDatabase(dataDir: string, opts: OpenDbOptions = {}): { db: Db; path: string; created: boolean } {
  const path = join(dataDir, DB_FILE)
  let db: Db | undefined
  let created = false
  try {
    if (existsSync(path)) checkStoreFile(path)
    else {
      if (!opts.create) throw new KeydeskError('store_unavailable', `There is no key store in ${dataDir}. Check --data-dir (or KEYDESK_DATA_DIR); a write command such as keydesk create makes one.`)
      if (existsSync(dataDir) && !opts.allowNonEmptyDir) {
        // The app's Store setting (settings.ts) may sit there before any local store does.
        const other = readdirSync(dataDir).filter((f) => !f.startsWith(DB_FILE) && f !== STORE_SETTINGS_FILE)
        if (other.length)
          throw new KeydeskError('store_unavailable', `There is no key store in ${dataDir}, and it is not empty (${other.slice(0, 3).join(', ')}${other.length > 3 ? ', …' : ''}); KeyDesk creates a store only in a new or empty directory. Check --data-dir.`)
      }
      mkdirSync(dataDir, { recursive: true, mode: 0o700 })
      created = createStoreFile(path)
    }
    checkDataDir(dataDir)
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
    if (opts.pageCacheKiB !== undefined) db.pragma(`cache_size = -${Math.max(64, Math.floor(opts.pageCacheKiB))}`)
    // No page check here: opening stays fast on large stores; `keydesk check` and the app's
    // background check read every page.
    if ((db.pragma('user_version', { simple: true }) as number) === 0)
      throw new KeydeskError('store_unavailable', `The file at ${path} is a SQLite database but not a KeyDesk key store; it was not changed.`)
    migrate(db, MIGRATIONS, path)
    for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f) && (statSync(f).mode & 0o077) !== 0) chmodSync(f, 0o600)
    return { db, path, created }
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
