/**
 * The Store setting's core (src/main/core/settings.ts) without Electron: the
 * settings file (0600, atomic, never a password in it — read back as bytes), the
 * database password through the REAL OS keychain (Secret Service under
 * scripts/with-keyring.sh) and back into the connection URL as pg reads it, and a
 * settings file that is not valid: refused with a message naming it, and left as it was.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import keytar from 'keytar'
import { parse as parsePgUrl } from 'pg-connection-string'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { KeydeskError } from '../../src/main/core/errors'
import { KEYCHAIN_SERVICE, dbPasswordAccount, keytarKeychain } from '../../src/main/core/keychain'
import {
  STORE_SETTINGS_FILE,
  configuredStore,
  connectionUrl,
  hasSavedPassword,
  readStoreSettings,
  resolveStoreChoice,
  saveStoreChoice,
  writeStoreSettings,
} from '../../src/main/core/settings'
import { splitStoreUrl } from '../../src/shared/store-url'
import { tempDir } from '../helpers'

const keychain = keytarKeychain()
/** A host name of this run, so entries never meet another run's. */
const HOST = `db-${randomBytes(4).toString('hex')}.example`
const PASSWORD = `S3cret-${randomBytes(6).toString('hex')}`
const accounts = new Set<string>()
const account = (url: string): string => {
  accounts.add(dbPasswordAccount(url))
  return dbPasswordAccount(url)
}

const dirs: (() => void)[] = []
function dataDir(): string {
  const t = tempDir('keydesk-settings-')
  dirs.push(t.cleanup)
  return t.dir
}
afterEach(() => {
  for (const c of dirs.splice(0)) c()
})
afterAll(async () => {
  for (const a of accounts) await keytar.deletePassword(KEYCHAIN_SERVICE, a).catch(() => false)
})

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<KeydeskError> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (e) {
    if (e instanceof KeydeskError) return e
    throw e
  }
  throw new Error('expected a KeydeskError')
}

describe('the URL rule (src/shared/store-url.ts)', () => {
  it('takes a password out of the URL, keeps everything else as typed', () => {
    expect(splitStoreUrl(`postgres://alice:${PASSWORD}@${HOST}:5432/keydesk?sslmode=require`)).toEqual({
      ok: true,
      url: `postgres://alice@${HOST}:5432/keydesk?sslmode=require`,
      password: PASSWORD,
    })
    expect(splitStoreUrl(`postgresql://alice@${HOST}/kd?password=p%40ss&sslmode=require`)).toEqual({ ok: true, url: `postgresql://alice@${HOST}/kd?sslmode=require`, password: 'p@ss' })
    expect(splitStoreUrl('postgres:///kd?host=/var/run/postgresql')).toEqual({ ok: true, url: 'postgres:///kd?host=/var/run/postgresql', password: null })
    expect(splitStoreUrl(`  postgres://alice:p%2Fw@${HOST}/kd  `, 'p/w')).toEqual({ ok: true, url: `postgres://alice@${HOST}/kd`, password: 'p/w' })
  })
  it('refuses what is not a team database URL, or carries two passwords, at the field', () => {
    expect(splitStoreUrl('')).toMatchObject({ ok: false, field: 'url' })
    expect(splitStoreUrl('/home/alice/keydesk')).toMatchObject({ ok: false, field: 'url', message: /must start with postgres:\/\// })
    expect(splitStoreUrl('mysql://alice@db/kd')).toMatchObject({ ok: false, field: 'url' })
    expect(splitStoreUrl('postgres://alice@db/kd#frag')).toMatchObject({ ok: false, field: 'url' })
    expect(splitStoreUrl('postgres://alice@db/kd?sslpassword=x')).toMatchObject({ ok: false, field: 'url', message: /sslpassword/ })
    expect(splitStoreUrl('postgres://alice:a@db/kd?password=b')).toMatchObject({ ok: false, field: 'url' })
    expect(splitStoreUrl('postgres://alice:a@db/kd', 'b')).toMatchObject({ ok: false, field: 'password' })
  })
})

describe('the settings file', () => {
  it('is absent by default: the local store, and nothing is written by reading', () => {
    const dir = dataDir()
    expect(readStoreSettings(dir)).toEqual({ kind: 'local' })
    expect(readdirSync(dir)).toEqual([])
  })

  it('is 0600, replaced atomically, and never holds a password', () => {
    const dir = dataDir()
    const path = writeStoreSettings(dir, { kind: 'team', url: `postgres://alice@${HOST}/keydesk` })
    expect(path).toBe(join(dir, STORE_SETTINGS_FILE))
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ version: 1, kind: 'team', url: `postgres://alice@${HOST}/keydesk` })
    expect(readStoreSettings(dir)).toEqual({ kind: 'team', url: `postgres://alice@${HOST}/keydesk` })
    writeStoreSettings(dir, { kind: 'local' })
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(readStoreSettings(dir)).toEqual({ kind: 'local' })
    expect(readdirSync(dir)).toEqual([STORE_SETTINGS_FILE]) // no temporary file left
  })

  it('refuses to write a URL that still holds a password', async () => {
    const dir = dataDir()
    const e = await refusal(() => writeStoreSettings(dir, { kind: 'team', url: `postgres://alice:${PASSWORD}@${HOST}/kd` }))
    expect(e).toMatchObject({ kind: 'invalid_input', field: 'url' })
    expect(e.message).not.toContain(PASSWORD)
    expect(existsSync(join(dir, STORE_SETTINGS_FILE))).toBe(false)
  })

  const MALFORMED: [string, string | ((path: string) => void), RegExp][] = [
    ['not JSON', '{"version": 1, "kind": "team", "url": ', /is not valid JSON/],
    ['an empty file', '', /is not valid JSON/],
    ['not an object', '["team"]', /is not a JSON object/],
    ['another version', '{"version": 2, "kind": "local"}', /has version 2, not 1/],
    ['an unknown kind', '{"version": 1, "kind": "cloud"}', /"kind" of "local" or "team"/],
    ['an unknown field', '{"version": 1, "kind": "local", "password": "x"}', /unknown field "password"/],
    ['a team store without a URL', '{"version": 1, "kind": "team"}', /has no team database URL/],
    ['a URL that is not postgres', '{"version": 1, "kind": "team", "url": "mysql://db/kd"}', /URL that is not valid/],
    ['a password in the URL', `{"version": 1, "kind": "team", "url": "postgres://alice:${PASSWORD}@db/kd"}`, /holds a password in its URL/],
    [
      'a group-writable file',
      (path) => {
        writeFileSync(path, '{"version": 1, "kind": "local"}\n')
        chmodSync(path, 0o664)
      },
      /is writable by its group/,
    ],
    [
      'a symlink',
      (path) => {
        writeFileSync(`${path}.real`, '{"version": 1, "kind": "local"}\n', { mode: 0o600 })
        symlinkSync(`${path}.real`, path)
      },
      /is not a regular file/,
    ],
  ]
  it.each(MALFORMED)('%s is refused with a message naming the file, and left as it was', async (_label, content, why) => {
    const dir = dataDir()
    const path = join(dir, STORE_SETTINGS_FILE)
    if (typeof content === 'string') writeFileSync(path, content, { mode: 0o600 })
    else content(path)
    const before = readFileSync(path, 'utf8')
    const e = await refusal(() => readStoreSettings(dir))
    expect(e.kind).toBe('store_unavailable')
    expect(e.message).toContain(path)
    expect(e.message).toMatch(why)
    expect(e.message).toMatch(/KeyDesk opened no store/)
    expect(e.message).not.toContain(PASSWORD)
    // Opening refuses it the same way; nothing was reset.
    expect((await refusal(configuredStore(dir, keychain))).message).toBe(e.message)
    expect(readFileSync(path, 'utf8')).toBe(before)
  })
})

describe('the database password, through the real OS keychain', () => {
  it('a password typed into the URL goes to the keychain under the URL without it; the file never sees it', async () => {
    const dir = dataDir()
    const url = `postgres://alice@${HOST}:5432/keydesk`
    const choice = await resolveStoreChoice({ kind: 'team', url: `postgres://alice:${PASSWORD}@${HOST}:5432/keydesk` }, keychain)
    expect(choice).toEqual({ kind: 'team', url, password: PASSWORD, passwordFrom: 'typed' })
    expect(await saveStoreChoice(dir, keychain, choice)).toEqual({ kind: 'team', url })
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, account(url))).toBe(PASSWORD)
    // grep the file (and everything else in the data dir) for the password
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).includes(PASSWORD), f).toBe(false)
    expect(statSync(join(dir, STORE_SETTINGS_FILE)).mode & 0o777).toBe(0o600)
    expect(await hasSavedPassword(url, keychain)).toBe(true)

    // At start: the URL from the file, the password from the keychain, as pg will read them.
    const opened = await configuredStore(dir, keychain)
    expect(opened.settings).toEqual({ kind: 'team', url })
    const parsed = parsePgUrl(opened.store!)
    expect(parsed).toMatchObject({ user: 'alice', password: PASSWORD, host: HOST, port: '5432', database: 'keydesk' })

    // No password typed next time: the saved one is used.
    expect(await resolveStoreChoice({ kind: 'team', url }, keychain)).toEqual({ kind: 'team', url, password: PASSWORD, passwordFrom: 'keychain' })
  })

  it('a password with URL-special characters round-trips exactly', async () => {
    const dir = dataDir()
    const url = `postgres://bob@${HOST}/kd2`
    const tricky = 'p@ss:w/rd%41?#&=+ é'
    const choice = await resolveStoreChoice({ kind: 'team', url, password: tricky }, keychain)
    await saveStoreChoice(dir, keychain, choice)
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, account(url))).toBe(tricky)
    expect(parsePgUrl((await configuredStore(dir, keychain)).store!).password).toBe(tricky)
    expect(parsePgUrl(connectionUrl(url, tricky)).password).toBe(tricky)
    expect(connectionUrl(url, null)).toBe(url)
  })

  it('moving the setting to another store forgets the previous database password', async () => {
    const dir = dataDir()
    const a = `postgres://carol@${HOST}/team-a`
    const b = `postgres://carol@${HOST}/team-b`
    await saveStoreChoice(dir, keychain, await resolveStoreChoice({ kind: 'team', url: a, password: 'pw-a' }, keychain))
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, account(a))).toBe('pw-a')
    // Saved again without typing it: still there.
    await saveStoreChoice(dir, keychain, await resolveStoreChoice({ kind: 'team', url: a }, keychain))
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, account(a))).toBe('pw-a')
    await saveStoreChoice(dir, keychain, await resolveStoreChoice({ kind: 'team', url: b, password: 'pw-b' }, keychain))
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, account(a))).toBeNull()
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, account(b))).toBe('pw-b')
    await saveStoreChoice(dir, keychain, await resolveStoreChoice({ kind: 'local' }, keychain))
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, account(b))).toBeNull()
    expect(readStoreSettings(dir)).toEqual({ kind: 'local' })
    expect((await configuredStore(dir, keychain)).store).toBeUndefined()
  })

  it('a database that needs no password has none saved', async () => {
    const dir = dataDir()
    const url = `postgres://dave@${HOST}/nopw`
    const choice = await resolveStoreChoice({ kind: 'team', url, password: '' }, keychain)
    expect(choice).toEqual({ kind: 'team', url, password: null, passwordFrom: 'none' })
    await saveStoreChoice(dir, keychain, choice)
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, account(url))).toBeNull()
    expect((await configuredStore(dir, keychain)).store).toBe(url)
  })

  it('bad choices are field errors and save nothing', async () => {
    expect(await refusal(resolveStoreChoice({ kind: 'team' }, keychain))).toMatchObject({ kind: 'invalid_input', field: 'url' })
    expect(await refusal(resolveStoreChoice({ kind: 'team', url: 'https://db.example.com' }, keychain))).toMatchObject({ kind: 'invalid_input', field: 'url' })
    const e = await refusal(resolveStoreChoice({ kind: 'team', url: `postgres://eve:${PASSWORD}@${HOST}/kd`, password: 'other' }, keychain))
    expect(e).toMatchObject({ kind: 'invalid_input', field: 'password' })
    expect(e.message).not.toContain(PASSWORD)
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, dbPasswordAccount(`postgres://eve@${HOST}/kd`))).toBeNull()
  })
})
