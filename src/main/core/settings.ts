/**
 * The app's Store setting: which store the window opens, the local SQLite file in
 * the data dir (the default: without a settings file nothing changes) or a team
 * database (postgres://…).
 *
 * - The choice lives in a small JSON file in the data dir (STORE_SETTINGS_FILE,
 *   0600, written atomically). It holds the URL WITHOUT its password, never a secret.
 * - A database password lives in the OS keychain (keychain.ts, account
 *   `db-password:<URL without password>`), and is forgotten when the setting moves
 *   to another store.
 * - A settings file that cannot be read or is not valid is refused with a message
 *   naming it; it is never reset or replaced on its own (saving a choice replaces it).
 *
 * Plain Node, no electron: the api handlers and the tests use it the same way.
 */
import { randomBytes } from 'node:crypto'
import { closeSync, constants, fchmodSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { hostname, userInfo } from 'node:os'
import { join } from 'node:path'
import { splitStoreUrl } from '../../shared/store-url'
import { KeydeskError, invalid, systemErrorDetail } from './errors'
import { dbPasswordAccount, type KeychainPort } from './keychain'

export const STORE_SETTINGS_FILE = 'store-settings.json'
const MAX_SETTINGS_BYTES = 16 * 1024
const VERSION = 1

/** What the settings file says. `url` never holds a password. */
export type StoreSettings = { kind: 'local' } | { kind: 'team'; url: string }

/** A store choice from the Store setting, checked, with the password it will log in with. */
export type StoreChoice =
  | { kind: 'local' }
  | {
      kind: 'team'
      /** Without the password. */
      url: string
      password: string | null
      /** Where the password came from: typed now (saved to the keychain on save), the keychain already, or none at all. */
      passwordFrom: 'typed' | 'keychain' | 'none'
    }

export interface StoreChoiceInput {
  kind: 'local' | 'team'
  url?: string | undefined
  password?: string | undefined
}

export function storeSettingsPath(dataDir: string): string {
  return join(dataDir, STORE_SETTINGS_FILE)
}

function refused(path: string, dataDir: string, why: string): KeydeskError {
  return new KeydeskError(
    'store_unavailable',
    `The store setting ${path} ${why}, so KeyDesk opened no store. Choose a store again under Settings (that rewrites the file), or fix or delete the file to use the store on this computer (${dataDir}).`,
  )
}

/** The setting in dataDir: the local store when there is no file; a file that is not valid is refused, never reset. */
export function readStoreSettings(dataDir: string): StoreSettings {
  const path = storeSettingsPath(dataDir)
  let st: ReturnType<typeof lstatSync>
  try {
    st = lstatSync(path)
  } catch (e) {
    const code = (e as { code?: string }).code
    if (code === 'ENOENT') return { kind: 'local' }
    throw refused(path, dataDir, `cannot be read (${systemErrorDetail(code)})`)
  }
  if (!st.isFile()) throw refused(path, dataDir, 'is not a regular file')
  const uid = process.getuid?.()
  if (uid !== undefined && st.uid !== uid) throw refused(path, dataDir, `belongs to another user (uid ${st.uid})`)
  if ((st.mode & 0o022) !== 0) throw refused(path, dataDir, `is writable by ${st.mode & 0o002 ? 'everyone' : 'its group'} (anyone who can write it could point KeyDesk at another database)`)
  if (st.size > MAX_SETTINGS_BYTES) throw refused(path, dataDir, `is too large to be a KeyDesk setting (${st.size} bytes)`)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw refused(path, dataDir, `cannot be read (${systemErrorDetail((e as { code?: string }).code)})`)
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    throw refused(path, dataDir, 'is not valid JSON')
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw refused(path, dataDir, 'is not a JSON object')
  const o = data as Record<string, unknown>
  const unknown = Object.keys(o).filter((k) => k !== 'version' && k !== 'kind' && k !== 'url')
  if (unknown.length) throw refused(path, dataDir, `has an unknown field "${unknown[0]!.slice(0, 40)}"`)
  if (o.version !== VERSION) throw refused(path, dataDir, `has version ${JSON.stringify(o.version)?.slice(0, 20) ?? 'none'}, not ${VERSION}`)
  if (o.kind === 'local') {
    if (o.url !== undefined) throw refused(path, dataDir, 'names a URL for the local store')
    return { kind: 'local' }
  }
  if (o.kind !== 'team') throw refused(path, dataDir, 'has no "kind" of "local" or "team"')
  if (typeof o.url !== 'string') throw refused(path, dataDir, 'has no team database URL')
  const split = splitStoreUrl(o.url)
  if (!split.ok) throw refused(path, dataDir, `has a team database URL that is not valid (${split.message})`)
  // A password never belongs in this file; one found there is not used, nor copied anywhere.
  if (split.password !== null) throw refused(path, dataDir, 'holds a password in its URL (the password belongs in the OS keychain)')
  return { kind: 'team', url: split.url }
}

/** Write the setting atomically (0600 temporary sibling, fsync, rename). Returns the path. */
export function writeStoreSettings(dataDir: string, settings: StoreSettings): string {
  const path = storeSettingsPath(dataDir)
  let body: Record<string, unknown> = { version: VERSION, kind: 'local' }
  if (settings.kind === 'team') {
    const split = splitStoreUrl(settings.url)
    if (!split.ok) throw invalid('url', split.message)
    // Defence in depth: the caller passes the URL without its password; never write one.
    if (split.password !== null) throw invalid('url', 'The team database URL still holds a password; it was not saved.')
    body = { version: VERSION, kind: 'team', url: split.url }
  }
  const buf = Buffer.from(`${JSON.stringify(body, null, 2)}\n`, 'utf8')
  const tmp = join(dataDir, `.${STORE_SETTINGS_FILE}.${randomBytes(6).toString('hex')}.tmp`)
  let fd: number | undefined
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    fchmodSync(fd, 0o600)
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off)
    fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    renameSync(tmp, path)
  } catch (e) {
    if (fd !== undefined) closeSync(fd)
    rmSync(tmp, { force: true })
    throw new KeydeskError('store_unavailable', `Cannot save the store setting to ${path} (${systemErrorDetail((e as { code?: string }).code)}); the store was not switched.`)
  }
  try {
    const dfd = openSync(dataDir, 'r')
    try { fsyncSync(dfd) } finally { closeSync(dfd) }
  } catch {
    // best effort: the rename itself is done
  }
  return path
}

/** The URL pg connects with: the saved URL and the password from the keychain (or as typed). Never shown, logged or saved. */
export function connectionUrl(url: string, password: string | null): string {
  if (password === null || password === '') return url
  const u = new URL(url)
  // Encoded first: the URL setter leaves "%" alone, and pg decodes the password.
  u.password = encodeURIComponent(password)
  return u.toString()
}

/**
 * Check a choice from the Store setting. A password typed into the URL is taken out
 * of it; with no password typed, the one the keychain holds for that URL is used.
 * Invalid input is an invalid_input error at its field.
 */
export async function resolveStoreChoice(input: StoreChoiceInput, keychain: KeychainPort): Promise<StoreChoice> {
  if (input.kind === 'local') return { kind: 'local' }
  const split = splitStoreUrl(input.url ?? '', input.password || null)
  if (!split.ok) throw invalid(split.field, split.message)
  if (split.password !== null) return { kind: 'team', url: split.url, password: split.password, passwordFrom: 'typed' }
  const saved = await keychain.get(dbPasswordAccount(split.url))
  return saved === null ? { kind: 'team', url: split.url, password: null, passwordFrom: 'none' } : { kind: 'team', url: split.url, password: saved, passwordFrom: 'keychain' }
}

/** The audit actor on a team store, as the CLI writes it: user@host, so admins on different desks are told apart. */
export function teamActor(): string {
  let user = 'admin'
  try {
    user = userInfo().username || user
  } catch {
    user = process.env.USER || user
  }
  return `${user}@${hostname()}`
}

/** Where the configured store is, for openKeyStore: `store` is the team URL with its password from the keychain. */
export async function configuredStore(dataDir: string, keychain: KeychainPort): Promise<{ settings: StoreSettings; store?: string }> {
  const settings = readStoreSettings(dataDir)
  if (settings.kind === 'local') return { settings }
  const password = await keychain.get(dbPasswordAccount(settings.url))
  return { settings, store: connectionUrl(settings.url, password) }
}

/** Whether the keychain holds a password for this team database (false when it cannot say). */
export async function hasSavedPassword(url: string, keychain: KeychainPort): Promise<boolean> {
  try {
    return (await keychain.get(dbPasswordAccount(url))) !== null
  } catch {
    return false
  }
}

/**
 * Save a checked choice: a typed password into the keychain, then the settings file.
 * The password of the team database the setting named before is forgotten once the
 * file names another store. Returns what the file now says.
 */
export async function saveStoreChoice(dataDir: string, keychain: KeychainPort, choice: StoreChoice): Promise<StoreSettings> {
  let before: StoreSettings | null
  try {
    before = readStoreSettings(dataDir)
  } catch {
    before = null // being replaced by this save
  }
  const settings: StoreSettings = choice.kind === 'team' ? { kind: 'team', url: choice.url } : { kind: 'local' }
  if (choice.kind === 'team' && choice.passwordFrom === 'typed' && choice.password !== null) {
    await keychain.set(dbPasswordAccount(choice.url), choice.password)
    if ((await keychain.get(dbPasswordAccount(choice.url))) !== choice.password)
      throw new KeydeskError('keychain_unavailable', 'The OS keychain accepted the database password but does not return it; check that your keychain is unlocked and persistent. The store was not switched.')
  }
  writeStoreSettings(dataDir, settings)
  if (before?.kind === 'team' && (settings.kind !== 'team' || settings.url !== before.url)) await forgetPassword(keychain, before.url)
  return settings
}

async function forgetPassword(keychain: KeychainPort, url: string): Promise<void> {
  try {
    await keychain.delete?.(dbPasswordAccount(url))
  } catch {
    // The setting is saved; an entry left behind is named after its URL and holds no key material.
  }
}
