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

/** Row counts that must not move when an operation fails. */
export function snapshot(store: KeyStore): { keys: number; owners: number; audit: number; scopes: number } {
  const db = store.database
  const n = (sql: string) => db.prepare(sql).pluck().get() as number
  return {
    keys: n('SELECT count(*) FROM keys'),
    owners: n('SELECT count(*) FROM owners'),
    audit: n('SELECT count(*) FROM audit'),
    scopes: n('SELECT count(*) FROM key_scopes'),
  }
}
