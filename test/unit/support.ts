/**
 * Shared bits for the core unit tests (not a test file itself). Stores are real:
 * a SQLite file in a temp dir and an entry in the real Secret Service, which is
 * deleted again on cleanup so test runs leave no keyring litter.
 */
import keytar from 'keytar'
import { tempStore } from '../helpers'
import { KeydeskError, type ErrorKind } from '../../src/main/core/errors'
import { KEYCHAIN_SERVICE } from '../../src/main/core/keychain'
import type { KeyStore, OpenOptions } from '../../src/main/core/keystore'
import type { PostgresStorage } from '../../src/main/core/storage/postgres'
import { PgSyncClient } from '../../src/main/core/storage/pg-sync'
import Database from 'better-sqlite3'

export const DAY = 86_400_000
export const HOUR = 3_600_000
export const MIN = 60_000
/** A fixed start for test clocks, well in the future so real dates never interfere. */
export const T0 = Date.UTC(2031, 0, 15, 12, 0, 0)

export interface Clock {
  t: number
  now: () => number
  advance(ms: number): void
}

export function clock(start = T0): Clock {
  const c: Clock = {
    t: start,
    now: () => c.t,
    advance(ms) {
      c.t += ms
    },
  }
  return c
}

export interface TestStore {
  store: KeyStore
  dir: string
  /** Where to open the store again: spread into openKeyStore's options. */
  where: { dataDir: string; store?: string }
  storeId: string
  clock: Clock
  cleanup: () => Promise<void>
}

/** A real store on a controllable clock; cleanup also removes its keychain entry. */
export async function openTestStore(opts: Partial<OpenOptions> = {}): Promise<TestStore> {
  const c = clock()
  const t = await tempStore({ now: c.now, ...opts })
  const storeId = t.store.health().storeId
  return {
    store: t.store,
    dir: t.dir,
    where: t.where,
    storeId,
    clock: c,
    cleanup: async () => {
      t.cleanup()
      await dropKeychainEntry(storeId)
    },
  }
}

export async function dropKeychainEntry(storeId: string): Promise<void> {
  if (!storeId) return
  await keytar.deletePassword(KEYCHAIN_SERVICE, storeId)
  await keytar.deletePassword(KEYCHAIN_SERVICE, `${storeId}:anchor`)
}

/** Run fn and return the KeydeskError it throws; fail if it throws something else or nothing. */
export function catchKd(fn: () => unknown): KeydeskError {
  try {
    fn()
  } catch (e) {
    if (e instanceof KeydeskError) return e
    throw e
  }
  throw new Error('expected a KeydeskError, but nothing was thrown')
}

export async function catchKdAsync(p: Promise<unknown>): Promise<KeydeskError> {
  try {
    await p
  } catch (e) {
    if (e instanceof KeydeskError) return e
    throw e
  }
  throw new Error('expected a KeydeskError, but the promise resolved')
}

/** Assert fn throws a KeydeskError of this kind (and field, if given); returns it. */
export function expectKd(fn: () => unknown, kind: ErrorKind, field?: string): KeydeskError {
  const e = catchKd(fn)
  if (e.kind !== kind || (field !== undefined && e.field !== field))
    throw new Error(`expected ${kind}${field ? `/${field}` : ''}, got ${e.kind}/${e.field}: ${e.message}`)
  return e
}

/**
 * Raw SQL against a test store, whichever engine holds it (`?` placeholders): for
 * assertions and tamper tests only; the code under test never does this.
 */
export function rawAll(store: KeyStore, sql: string, params: readonly unknown[] = []): Record<string, unknown>[] {
  if (store.engine === 'sqlite') {
    const st = store.database.prepare(sql)
    if (!st.reader) {
      st.run(...params)
      return []
    }
    return st.all(...params) as Record<string, unknown>[]
  }
  let i = 0
  return (store.port as PostgresStorage).client.query(sql.replace(/\?/g, () => `$${++i}`), params).rows
}
/**
 * A second, raw connection to a test store's database, as an attacker with write
 * access to the database (not the keychain) has: the subset of better-sqlite3's API
 * the tamper tests use, on either engine. SQLite's zeroblob(n) is translated.
 */
export interface RawStatement {
  run(...args: unknown[]): void
  get(...args: unknown[]): unknown
  all(...args: unknown[]): unknown[]
  pluck(): RawStatement
}
export interface RawConnection {
  prepare(sql: string): RawStatement
  transaction(fn: () => void): () => void
  close(): void
}
export function rawConnection(store: KeyStore): RawConnection {
  if (store.engine === 'sqlite') return new Database(store.dbPath) as unknown as RawConnection
  const c = new PgSyncClient(store.dbPath)
  const pgSql = (sql: string) => {
    let i = 0
    return sql.replace(/zeroblob\((\d+)\)/g, (_, n: string) => `decode(repeat('00', ${Number(n)}), 'hex')`).replace(/\?/g, () => `$${++i}`)
  }
  const statement = (sql: string, pluck: boolean): RawStatement => {
    const rows = (args: unknown[]) => {
      let text = pgSql(sql)
      let values = args
      const named = args[0]
      if (args.length === 1 && named !== null && typeof named === 'object' && !Buffer.isBuffer(named)) {
        // better-sqlite3's @name parameters, from one object
        const names: string[] = []
        text = text.replace(/@([a-z_][a-z0-9_]*)/gi, (_, n: string) => `$${(names.includes(n) ? names.indexOf(n) : names.push(n) - 1) + 1}`)
        values = names.map((n) => (named as Record<string, unknown>)[n])
      }
      return c.query(text, values).rows.map((r) => (pluck ? Object.values(r)[0] : r))
    }
    return {
      run: (...args) => void rows(args),
      get: (...args) => rows(args)[0],
      all: (...args) => rows(args),
      pluck: () => statement(sql, true),
    }
  }
  return {
    prepare: (sql) => statement(sql, false),
    transaction: (fn) => () => {
      c.exec('BEGIN')
      try {
        fn()
        c.exec('COMMIT')
      } catch (e) {
        c.exec('ROLLBACK')
        throw e
      }
    },
    close: () => c.close(),
  }
}

/** The first column of the first row. */
export function rawValue<T = unknown>(store: KeyStore, sql: string, params: readonly unknown[] = []): T {
  const r = rawAll(store, sql, params)[0]
  return (r ? Object.values(r)[0] : undefined) as T
}

/** Row counts that must not move when an operation fails. */
export function snapshot(store: KeyStore): { keys: number; owners: number; audit: number; scopes: number } {
  const n = (sql: string) => Number(rawValue(store, sql))
  return {
    keys: n('SELECT count(*) FROM keys'),
    owners: n('SELECT count(*) FROM owners'),
    audit: n('SELECT count(*) FROM audit'),
    scopes: n('SELECT count(*) FROM key_scopes'),
  }
}
