/**
 * The secret of a TEAM store (its pepper and MAC key) on its way between admins and
 * to gateway hosts — never through the shared database:
 *
 * - between admins: an ASCII-armored age file sealed with a passphrase (scrypt),
 *   written like a credential CSV (new path only, 0600, fsynced), and opened into
 *   the admin's OS keychain by joinTeam, which never replaces a different entry;
 * - to a gateway: the unsealed JSON in a file only its service user can read
 *   (`keydesk serve --secret-file FILE`, or a systemd credential), served to the
 *   store by a read-only KeychainPort.
 *
 * Key material and file contents are never logged and never put in an error message.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs'
import { timingSafeEqual } from 'node:crypto'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { decodeKeyMaterial, encodeKeyMaterial, type KeyMaterial } from './crypto'
import { KeydeskError, invalid, systemErrorDetail } from './errors'
import { writePrivateFile } from './files'
import type { KeychainPort } from './keychain'
import { anchorAccount } from './services/integrity'

const KIND = 'keydesk-team-secret'
const MIN_PASSPHRASE = 12
const MAX_FILE = 64 * 1024
const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const OPEN_FAILED = 'The team secret file could not be opened: wrong passphrase or damaged file.'

export interface TeamSecret {
  storeId: string
  /** The store's URL, without a password. */
  store: string
  material: KeyMaterial
}

/** Whether the store label is a URL that carries no password (in the user info or the query). */
function isPasswordFreeUrl(label: string): boolean {
  let u: URL
  try {
    u = new URL(label)
  } catch {
    return false
  }
  return u.password === '' && ![...u.searchParams.keys()].some((k) => /pass/i.test(k))
}

const key32 = (s: unknown): Buffer | undefined => {
  if (typeof s !== 'string') return undefined
  const b = Buffer.from(s, 'base64')
  return b.length === 32 && b.toString('base64') === s ? b : undefined
}

/** The JSON a team secret file seals (and a gateway secret file holds in the clear). */
export function teamSecretPayload(material: KeyMaterial, storeId: string, storeLabel: string): string {
  if (typeof storeId !== 'string' || !UUID.test(storeId)) throw invalid('storeId', 'The store id is not a UUID.')
  if (!isPasswordFreeUrl(storeLabel))
    throw invalid('store', 'The store label must be the database URL without a password; remove the password from it.')
  const { pepper, mac } = JSON.parse(encodeKeyMaterial(material)) as { pepper: string; mac: string }
  return JSON.stringify({ v: 1, kind: KIND, storeId, store: storeLabel, pepper, mac })
}

/** The payload back, or undefined if the text is not one (never says what it holds). */
function parsePayload(text: string): TeamSecret | undefined {
  let o: Record<string, unknown>
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined
    o = parsed as Record<string, unknown>
  } catch {
    return undefined
  }
  const { v, kind, storeId, store } = o
  const pepper = key32(o.pepper)
  const macKey = key32(o.mac)
  if (v !== 1 || kind !== KIND || typeof storeId !== 'string' || !UUID.test(storeId)) return undefined
  if (typeof store !== 'string' || !isPasswordFreeUrl(store) || !pepper || !macKey) return undefined
  return { storeId, store, material: { pepper, macKey } }
}

/** Seal the store's secret with a passphrase: an ASCII-armored age file. */
export async function sealTeamSecret(material: KeyMaterial, storeId: string, storeLabel: string, passphrase: string): Promise<string> {
  if (typeof passphrase !== 'string' || [...passphrase].length < MIN_PASSPHRASE)
    throw invalid('passphrase', `The passphrase must be at least ${MIN_PASSPHRASE} characters long.`)
  const payload = teamSecretPayload(material, storeId, storeLabel)
  // Loaded when used: every CLI command would otherwise pay for it at start.
  const { Encrypter, armor } = await import('age-encryption')
  const e = new Encrypter()
  e.setPassphrase(passphrase)
  return armor.encode(await e.encrypt(payload))
}

/** Open a sealed team secret. A wrong passphrase and a damaged file give the same answer. */
export async function openTeamSecret(armored: string, passphrase: string): Promise<TeamSecret> {
  if (typeof armored !== 'string' || typeof passphrase !== 'string' || armored.length > MAX_FILE)
    throw new KeydeskError('invalid_input', OPEN_FAILED)
  let text: string
  try {
    const { Decrypter, armor } = await import('age-encryption')
    const d = new Decrypter()
    d.addPassphrase(passphrase)
    text = await d.decrypt(armor.decode(armored), 'text')
  } catch {
    throw new KeydeskError('invalid_input', OPEN_FAILED) // age's reason is not shown: one answer for every failure
  }
  const secret = parsePayload(text)
  if (!secret) throw new KeydeskError('invalid_input', 'The team secret file opened, but it does not hold a KeyDesk team secret.')
  return secret
}

/** Write a sealed team secret to a new file (never an existing path), 0600, fsynced. Returns the absolute path. */
export function writeTeamSecretFile(path: string, armored: string): string {
  if (typeof armored !== 'string' || !armored.trimStart().startsWith(ARMOR_BEGIN))
    throw invalid('file', 'Only a sealed (age-armored) team secret can be written to a team secret file.')
  return writePrivateFile(path, armored, 'file')
}

/**
 * Read a gateway's unsealed secret file. A relative path under $CREDENTIALS_DIRECTORY
 * (systemd LoadCredential=) is read from there. The file must be a regular file (not
 * followed through a symlink), owned by this process's user, mode 0600 or 0400 (0440
 * too in the credentials directory); otherwise nothing is read.
 */
export function readGatewaySecretFile(path: string, expectedStoreId?: string): KeyMaterial & { storeId: string; store: string } {
  const credDir = process.env.CREDENTIALS_DIRECTORY
  const full = !isAbsolute(path) && credDir ? resolve(credDir, path) : resolve(path)
  const inCredDir = credDir !== undefined && credDir !== '' && dirname(full) === resolve(credDir)
  const refuse = (why: string): KeydeskError => new KeydeskError('keychain_unavailable', `Cannot use the gateway secret file ${full}: ${why}`)
  const uid = process.getuid?.()
  if (uid === undefined) throw refuse('secret files need a POSIX system (owner and mode checks).')
  let fd: number
  try {
    fd = openSync(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (e) {
    const code = (e as { code?: string }).code
    throw refuse(
      code === 'ELOOP'
        ? 'it is a symbolic link; give the real file.'
        : code === 'ENOENT'
          ? 'it does not exist; write it with "keydesk team export-secret --gateway FILE".'
          : `${systemErrorDetail(code)}.`,
    )
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw refuse('it is not a regular file.')
    if (st.uid !== uid) throw refuse(`it is owned by uid ${st.uid}, not by this user (uid ${uid}); run: chown ${uid} ${full}`)
    const mode = st.mode & 0o7777
    const allowed = inCredDir ? [0o600, 0o400, 0o440] : [0o600, 0o400]
    if (!allowed.includes(mode))
      throw refuse(`its mode is 0${mode.toString(8)}, but only its owner may read it (0600 or 0400); run: chmod 600 ${full}`)
    if (st.size > MAX_FILE) throw refuse('it is too large to be a KeyDesk gateway secret file.')
    const secret = parsePayload(readFileSync(fd, 'utf8'))
    if (!secret) throw refuse('it is not a KeyDesk gateway secret file; write it with "keydesk team export-secret --gateway FILE".')
    if (expectedStoreId !== undefined && secret.storeId !== expectedStoreId)
      throw refuse(`it holds the secret of store ${secret.storeId}, not of store ${expectedStoreId}.`)
    return { ...secret.material, storeId: secret.storeId, store: secret.store }
  } finally {
    closeSync(fd)
  }
}

/**
 * A read-only keychain for a gateway: the store's entry comes from the secret file,
 * the anti-rollback anchor lives in memory only (a gateway does not anchor), and
 * nothing else can be stored.
 */
export function fileKeychain(material: KeyMaterial, storeId: string): KeychainPort {
  const entry = encodeKeyMaterial(material)
  const anchor = anchorAccount(storeId)
  let anchorValue: string | null = null
  return {
    backend: 'secret-file',
    async get(account) {
      if (account === storeId) return entry
      if (account === anchor) return anchorValue
      return null
    },
    async set(account, secret) {
      if (account !== anchor)
        throw new KeydeskError('keychain_unavailable', 'The gateway secret file is read-only; KeyDesk cannot store a keychain entry in it.')
      anchorValue = secret
    },
  }
}

const sameMaterial = (a: KeyMaterial, b: KeyMaterial): boolean =>
  a.pepper.length === b.pepper.length &&
  a.macKey.length === b.macKey.length &&
  timingSafeEqual(a.pepper, b.pepper) &&
  timingSafeEqual(a.macKey, b.macKey)

/** Put a team store's secret into this keychain. An existing, different entry is never replaced. */
export async function joinTeam(keychain: KeychainPort, secret: { storeId: string; material: KeyMaterial }): Promise<'added' | 'same'> {
  const { storeId, material } = secret
  if (typeof storeId !== 'string' || !UUID.test(storeId)) throw invalid('storeId', 'The store id is not a UUID.')
  const differs = (): KeydeskError =>
    new KeydeskError('keychain_unavailable', `This keychain already holds a different secret for store ${storeId}; KeyDesk will not replace it.`)
  const existing = await keychain.get(storeId)
  if (existing !== null) {
    let held: KeyMaterial
    try {
      held = decodeKeyMaterial(existing)
    } catch {
      throw differs() // an entry KeyDesk cannot read is still not ours to replace
    }
    if (!sameMaterial(held, material)) throw differs()
    return 'same'
  }
  await keychain.set(storeId, encodeKeyMaterial(material))
  return 'added'
}
