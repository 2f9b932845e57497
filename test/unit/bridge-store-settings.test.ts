/**
 * The Store setting through the bridge (storeSettingsGet / Test / Save), without
 * Electron: the real api on a real local store, a real PostgreSQL team store
 * (KEYDESK_TEST_PG: test/run.sh starts one; or `eval "$(scripts/pg-test-server.sh start)"`)
 * and the real OS keychain. Bad input is a field error that changes nothing; a test
 * switches nothing; a save switches the handlers (keys listed from the team store),
 * survives a restart (settings file + keychain) and switches back.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { hostname, userInfo } from 'node:os'
import { join } from 'node:path'
import keytar from 'keytar'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { openConfiguredStoreState, type StoreState } from '../../src/main/api/index'
import { openKeyStore } from '../../src/main/core/index'
import { KEYCHAIN_SERVICE, dbPasswordAccount } from '../../src/main/core/keychain'
import { STORE_SETTINGS_FILE } from '../../src/main/core/settings'
import { anchorAccount } from '../../src/main/core/services/integrity'
import { freshTeamDatabase, tempDir } from '../helpers'
import { bridgeFixture, type BridgeFixture } from './bridge-fixture'

if (!process.env.KEYDESK_TEST_PG)
  throw new Error('KEYDESK_TEST_PG is not set: this test needs a PostgreSQL server. Run it through npm test, or: eval "$(scripts/pg-test-server.sh start)" first.')

// Each step opens a real store (a worker thread and a connection for PostgreSQL): generous on a loaded machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 })

const PASSWORD = `Pw-${randomBytes(6).toString('hex')}`
const silent = { error: () => {}, warn: () => {} }

/** A team store in a fresh database, with one key; its entry is in this keychain (as after `keydesk team init`). */
let teamUrl = ''
let teamStoreId = ''
const keychainAccounts = new Set<string>()
const dirs: (() => void)[] = []

async function makeTeamStore(keyName: string): Promise<{ url: string; storeId: string }> {
  const url = await freshTeamDatabase()
  const t = tempDir('keydesk-team-bridge-')
  dirs.push(t.cleanup)
  const s = await openKeyStore({ dataDir: t.dir, store: url, initTeam: true, actor: 'tester' })
  try {
    s.create({ name: keyName })
    await s.settled()
  } finally {
    s.close()
  }
  keychainAccounts.add(s.storeId).add(anchorAccount(s.storeId))
  return { url, storeId: s.storeId }
}

/** postgres://postgres@host:port/db → with a password typed into it (trust auth ignores it). */
const withPassword = (url: string, pw: string): string => url.replace('postgres://postgres@', `postgres://postgres:${pw}@`)

beforeAll(async () => {
  ;({ url: teamUrl, storeId: teamStoreId } = await makeTeamStore('team-key'))
  keychainAccounts.add(dbPasswordAccount(teamUrl))
})
afterAll(async () => {
  for (const a of keychainAccounts) await keytar.deletePassword(KEYCHAIN_SERVICE, a).catch(() => false)
  for (const c of dirs) c()
})

let f: BridgeFixture | undefined
afterEach(async () => {
  await f?.cleanup()
  f = undefined
})

const dataDirOf = (fx: BridgeFixture): string => join(fx.dir, 'data')
const settingsFile = (fx: BridgeFixture): string => join(dataDirOf(fx), STORE_SETTINGS_FILE)

async function localFixture(): Promise<{ fx: BridgeFixture; localId: string }> {
  const fx = await bridgeFixture()
  if (!fx.store.ok) throw new Error(fx.store.problem.message)
  fx.store.store.create({ name: 'local-key' })
  return { fx, localId: fx.store.store.storeId }
}

async function names(fx: BridgeFixture): Promise<string[]> {
  const r = await fx.api.invoke('keysList', { status: 'all' })
  if (!r.ok) throw new Error(r.error.message)
  return r.value.items.map((k) => k.name).sort()
}

describe('storeSettingsGet', () => {
  it('is the local store by default, and writes nothing', async () => {
    const { fx, localId } = await localFixture()
    f = fx
    expect(await fx.api.invoke('storeSettingsGet', {})).toEqual({
      ok: true,
      value: { kind: 'local', url: null, passwordSaved: false, dataDir: dataDirOf(fx), storeId: localId, engine: 'sqlite' },
    })
    expect(existsSync(settingsFile(fx))).toBe(false)
  })
})

describe('bad input is refused at the field, and nothing changes', () => {
  const cases: [string, unknown, string][] = [
    ['a URL that is not postgres', { kind: 'team', url: 'mysql://db.example.com/keydesk' }, 'url'],
    ['a file path', { kind: 'team', url: '/home/alice/keydesk.sqlite' }, 'url'],
    ['no URL for a team store', { kind: 'team' }, 'url'],
    ['an empty URL', { kind: 'team', url: '  ' }, 'url'],
    ['another secret in the query', { kind: 'team', url: 'postgres://a@db/kd?sslpassword=x' }, 'url'],
    ['two different passwords', { kind: 'team', url: 'postgres://a:pw-ONE-x7@db/kd', password: 'pw-TWO-y8' }, 'password'],
    ['an unknown kind', { kind: 'cloud', url: 'postgres://a@db/kd' }, 'kind'],
    ['no kind', { url: 'postgres://a@db/kd' }, 'kind'],
    ['an unknown field', { kind: 'local', path: '/tmp' }, 'path'],
    ['a URL of 10 000 characters', { kind: 'team', url: `postgres://a@db/${'x'.repeat(10_000)}` }, 'url'],
    ['a password that is not text', { kind: 'team', url: 'postgres://a@db/kd', password: 42 }, 'password'],
  ]
  let shared: { fx: BridgeFixture; localId: string }
  beforeAll(async () => {
    shared = await localFixture()
  })
  afterAll(async () => {
    await shared?.fx.cleanup()
  })
  it.each(cases)('%s', async (_label, input, field) => {
    const { fx, localId } = shared
    for (const op of ['storeSettingsTest', 'storeSettingsSave'] as const) {
      const r = await fx.api.invoke(op, input)
      expect(r, op).toMatchObject({ ok: false, error: { kind: 'invalid_input', field } })
      if (!r.ok) expect(r.error.message).not.toMatch(/pw-ONE|pw-TWO/)
    }
    expect(existsSync(settingsFile(fx))).toBe(false)
    expect(fx.api.store.ok && fx.api.store.store.storeId).toBe(localId)
  })
})

describe('storeSettingsTest switches nothing', () => {
  it('reports the team store and its keys; a password typed into the URL is never echoed', async () => {
    const { fx, localId } = await localFixture()
    f = fx
    const r = await fx.api.invoke('storeSettingsTest', { kind: 'team', url: withPassword(teamUrl, PASSWORD) })
    expect(r).toMatchObject({ ok: true, value: { ok: true, storeId: teamStoreId, keys: 1 } })
    if (!r.ok) return
    expect(r.value.message).toContain(teamUrl)
    expect(r.value.message).toMatch(/1 key\b/)
    expect(JSON.stringify(r)).not.toContain(PASSWORD)
    expect(fx.api.store.ok && fx.api.store.store.storeId).toBe(localId)
    expect(await names(fx)).toEqual(['local-key'])
    expect(existsSync(settingsFile(fx))).toBe(false)
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, dbPasswordAccount(teamUrl))).toBeNull()
  })

  it('a database that cannot be reached, or holds no KeyDesk store, is reported in words', async () => {
    const { fx } = await localFixture()
    f = fx
    const missing = teamUrl.replace(/\/[^/]*$/, `/kd_missing_${randomBytes(3).toString('hex')}`)
    const r1 = await fx.api.invoke('storeSettingsTest', { kind: 'team', url: missing })
    expect(r1).toMatchObject({ ok: true, value: { ok: false, message: /does not exist/ } })
    const empty = await freshTeamDatabase()
    const r2 = await fx.api.invoke('storeSettingsTest', { kind: 'team', url: empty })
    expect(r2).toMatchObject({ ok: true, value: { ok: false, message: /There is no KeyDesk store in the team database/ } })
    const closedPort = 'postgres://postgres@127.0.0.1:1/keydesk'
    const r3 = await fx.api.invoke('storeSettingsTest', { kind: 'team', url: closedPort })
    expect(r3).toMatchObject({ ok: true, value: { ok: false, message: /cannot be reached/ } })
  })

  it('a team store whose secret is not in this keychain is reported as such (keydesk team join puts it there)', async () => {
    const { fx } = await localFixture()
    f = fx
    const other = await makeTeamStore('other-key')
    await keytar.deletePassword(KEYCHAIN_SERVICE, other.storeId)
    const r = await fx.api.invoke('storeSettingsTest', { kind: 'team', url: other.url })
    expect(r).toMatchObject({ ok: true, value: { ok: false, message: /keychain has no entry/ } })
    // Saving refuses the same way, and switches nothing.
    const s = await fx.api.invoke('storeSettingsSave', { kind: 'team', url: other.url })
    expect(s).toMatchObject({ ok: false, error: { kind: 'keychain_unavailable' } })
    expect(existsSync(settingsFile(fx))).toBe(false)
    expect(await names(fx)).toEqual(['local-key'])
  })

  it('the local store: the one in the data dir', async () => {
    const { fx, localId } = await localFixture()
    f = fx
    expect(await fx.api.invoke('storeSettingsTest', { kind: 'local' })).toMatchObject({ ok: true, value: { ok: true, storeId: localId, keys: 1, message: /on this computer/ } })
  })
})

describe('storeSettingsSave', () => {
  it('switches to the team store (its keys listed), survives a restart, and switches back', async () => {
    const { fx, localId } = await localFixture()
    f = fx
    const saved = await fx.api.invoke('storeSettingsSave', { kind: 'team', url: withPassword(teamUrl, PASSWORD) })
    expect(saved).toEqual({
      ok: true,
      value: { kind: 'team', url: teamUrl, passwordSaved: true, dataDir: dataDirOf(fx), storeId: teamStoreId, engine: 'postgres' },
    })
    // The handlers use the team store now.
    expect(await names(fx)).toEqual(['team-key'])
    const created = await fx.api.invoke('keysCreate', { name: 'made-in-the-app' })
    expect(created.ok).toBe(true)
    expect(await names(fx)).toEqual(['made-in-the-app', 'team-key'])
    // On a team store the audit actor is user@host, as the CLI writes it.
    expect(await fx.api.invoke('auditList', { action: 'key.create', limit: 1 })).toMatchObject({ ok: true, value: [{ actor: `${userInfo().username}@${hostname()}` }] })
    expect(await fx.api.invoke('health', {})).toMatchObject({ ok: true, value: { ok: true, keychain: 'ok' } })

    // The settings file: 0600, the URL without the password; the password in the keychain only.
    const file = settingsFile(fx)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, kind: 'team', url: teamUrl })
    for (const name of readdirSync(dataDirOf(fx))) {
      const p = join(dataDirOf(fx), name)
      if (statSync(p).isFile()) expect(readFileSync(p).includes(PASSWORD), name).toBe(false)
    }
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, dbPasswordAccount(teamUrl))).toBe(PASSWORD)
    expect(fx.rec.logs.join('\n')).not.toContain(PASSWORD)

    // A restart opens what the setting names, with the password from the keychain.
    const restarted: StoreState = await openConfiguredStoreState({ dataDir: dataDirOf(fx), actor: 'tester' }, silent)
    expect(restarted.ok && restarted.store.storeId).toBe(teamStoreId)
    if (restarted.ok) {
      expect(restarted.store.list({ status: 'all' }).total).toBe(2)
      restarted.store.close()
    }

    // Back to this computer: the local keys, the password forgotten.
    const back = await fx.api.invoke('storeSettingsSave', { kind: 'local' })
    expect(back).toEqual({ ok: true, value: { kind: 'local', url: null, passwordSaved: false, dataDir: dataDirOf(fx), storeId: localId, engine: 'sqlite' } })
    expect(await names(fx)).toEqual(['local-key'])
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, dbPasswordAccount(teamUrl))).toBeNull()
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, kind: 'local' })
  })

  it('a save that fails its test changes nothing', async () => {
    const { fx, localId } = await localFixture()
    f = fx
    const r = await fx.api.invoke('storeSettingsSave', { kind: 'team', url: 'postgres://postgres:pw@127.0.0.1:1/keydesk' })
    expect(r).toMatchObject({ ok: false, error: { kind: 'store_unavailable', message: /cannot be reached/ } })
    if (!r.ok) expect(r.error.message).not.toContain(':pw@')
    expect(existsSync(settingsFile(fx))).toBe(false)
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, dbPasswordAccount('postgres://postgres@127.0.0.1:1/keydesk'))).toBeNull()
    expect(fx.api.store.ok && fx.api.store.store.storeId).toBe(localId)
  })

  it('works while the store is down, which is how a broken choice is undone', async () => {
    const dir = tempDir('keydesk-down-')
    dirs.push(dir.cleanup)
    // The setting names a team database that is gone: the app starts with no store.
    writeFileSync(join(dir.dir, STORE_SETTINGS_FILE), JSON.stringify({ version: 1, kind: 'team', url: 'postgres://postgres@127.0.0.1:1/gone' }), { mode: 0o600 })
    const down = await openConfiguredStoreState({ dataDir: dir.dir }, silent)
    expect(down).toMatchObject({ ok: false, problem: { kind: 'store_unavailable', message: /127\.0\.0\.1:1\/gone.*cannot be reached/ } })
    const { createApi, HandoffRegistry } = await import('../../src/main/api/index')
    const api = createApi({ dataDir: dir.dir, store: down, setup: { dataDir: dir.dir, actor: 'tester' }, ports: {} as never, handoffs: new HandoffRegistry(), log: silent })
    expect(await api.invoke('keysList', {})).toMatchObject({ ok: false, error: { kind: 'store_unavailable' } })
    expect(await api.invoke('storeSettingsGet', {})).toEqual({
      ok: true,
      value: { kind: 'team', url: 'postgres://postgres@127.0.0.1:1/gone', passwordSaved: false, dataDir: dir.dir, storeId: null, engine: null },
    })
    const r = await api.invoke('storeSettingsSave', { kind: 'team', url: teamUrl })
    expect(r).toMatchObject({ ok: true, value: { kind: 'team', url: teamUrl, storeId: teamStoreId, engine: 'postgres', passwordSaved: false } })
    expect(await api.invoke('health', {})).toMatchObject({ ok: true, value: { ok: true } })
    expect(await api.invoke('keysList', { status: 'all' })).toMatchObject({ ok: true, value: { total: expect.any(Number) } })
    api.close()
  })

  it('a settings file that is not valid is refused at start, never reset; saving a choice replaces it', async () => {
    const dir = tempDir('keydesk-malformed-')
    dirs.push(dir.cleanup)
    const file = join(dir.dir, STORE_SETTINGS_FILE)
    writeFileSync(file, '{"version": 1, "kind": "team", "url": "postgres://a@db/kd",', { mode: 0o600 })
    const down = await openConfiguredStoreState({ dataDir: dir.dir }, silent)
    expect(down).toMatchObject({ ok: false, problem: { kind: 'store_unavailable' } })
    if (!down.ok) {
      expect(down.problem.message).toContain(file)
      expect(down.problem.message).toMatch(/is not valid JSON.*opened no store/)
    }
    expect(readFileSync(file, 'utf8')).toBe('{"version": 1, "kind": "team", "url": "postgres://a@db/kd",')
    expect(readdirSync(dir.dir)).toEqual([STORE_SETTINGS_FILE]) // no local store was invented either
    const { createApi, HandoffRegistry } = await import('../../src/main/api/index')
    const api = createApi({ dataDir: dir.dir, store: down, setup: { dataDir: dir.dir, actor: 'tester' }, ports: {} as never, handoffs: new HandoffRegistry(), log: silent })
    expect(await api.invoke('storeSettingsGet', {})).toMatchObject({ ok: false, error: { kind: 'store_unavailable', message: /is not valid JSON/ } })
    // Choosing "This computer" explicitly: a new local store, and a valid file.
    const r = await api.invoke('storeSettingsSave', { kind: 'local' })
    expect(r).toMatchObject({ ok: true, value: { kind: 'local', engine: 'sqlite' } })
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, kind: 'local' })
    if (r.ok && r.value.storeId) keychainAccounts.add(r.value.storeId).add(anchorAccount(r.value.storeId))
    api.close()
    rmSync(file)
  })
})
