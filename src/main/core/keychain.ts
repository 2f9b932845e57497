/**
 * The only module that touches the OS keychain (keytar). Key material that passes
 * through here is never logged, never put in an error message, and a missing or
 * unreadable entry is never replaced silently: see openKeyStore for the rules.
 */
import { KeychainLockedError, KeydeskError } from './errors'

export const KEYCHAIN_SERVICE = 'KeyDesk key store'

/**
 * Small port so tests and hosts can choose the backend; production uses keytar.
 * `get` resolves null only when the keychain is readable and has no such entry;
 * a locked keychain is a KeychainLockedError (kind 'keychain_unavailable'), never null.
 */
export interface KeychainPort {
  readonly backend: string
  get(account: string): Promise<string | null>
  set(account: string, secret: string): Promise<void>
  /**
   * Remove an entry; resolves false when there was none. Only for entries KeyDesk may
   * drop on its own (a team database's password it was told to forget), never for a
   * store's key material. Optional: read-only keychains (a gateway's file) have none.
   */
  delete?(account: string): Promise<boolean>
}

/**
 * The account under which a team database's login password is kept: the URL
 * without any password (src/shared/store-url.ts), so the settings file names the
 * entry without holding the secret.
 */
export function dbPasswordAccount(urlWithoutPassword: string): string {
  return `db-password:${urlWithoutPassword}`
}

export function lockedError(service = KEYCHAIN_SERVICE): KeychainLockedError {
  return new KeychainLockedError(
    `The OS keychain is locked, so KeyDesk cannot read its entry (service "${service}"). ` +
      'Unlock it (on Linux: the login keyring of GNOME Keyring / Secret Service, e.g. with "Passwords and Keys" or by logging in to the desktop) and try again; nothing was changed.',
  )
}

function unavailable(cause: unknown, service: string): KeydeskError {
  const detail = cause instanceof Error ? cause.message.split('\n')[0]!.slice(0, 200) : String(cause)
  if (/\blocked\b/i.test(detail)) return lockedError(service)
  return new KeydeskError(
    'keychain_unavailable',
    `The OS keychain is unavailable (${detail}). Unlock or start your keychain (Secret Service / GNOME Keyring on Linux) and try again; KeyDesk will not issue or verify keys without it.`,
  )
}

type Keytar = {
  getPassword(service: string, account: string): Promise<string | null>
  setPassword(service: string, account: string, password: string): Promise<void>
  deletePassword(service: string, account: string): Promise<boolean>
}

let keytarModule: Promise<Keytar> | undefined
async function loadKeytar(): Promise<Keytar> {
  keytarModule ??= import('keytar').then((m) => ((m as { default?: Keytar }).default ?? (m as unknown as Keytar)))
  return keytarModule
}

export function keytarKeychain(service = KEYCHAIN_SERVICE): KeychainPort {
  return {
    backend: 'keytar',
    async get(account) {
      let value: string | null
      try {
        const kt = await loadKeytar()
        value = await kt.getPassword(service, account)
      } catch (e) {
        throw unavailable(e, service)
      }
      // libsecret answers null both for "no such entry" and for "the collection is
      // locked and the unlock prompt was dismissed or could not be shown": tell them apart.
      if (value === null && (await secretServiceLockState(service, account)) === 'locked') throw lockedError(service)
      return value
    },
    async set(account, secret) {
      try {
        const kt = await loadKeytar()
        await kt.setPassword(service, account, secret)
      } catch (e) {
        throw unavailable(e, service)
      }
    },
    async delete(account) {
      try {
        const kt = await loadKeytar()
        return await kt.deletePassword(service, account)
      } catch (e) {
        throw unavailable(e, service)
      }
    },
  }
}

export type LockState = 'locked' | 'unlocked' | 'unknown'

async function dbusSend(args: string[]): Promise<string | undefined> {
  // Only when a keychain call failed: a command that opens its store normally never loads child_process.
  const { execFile } = await import('node:child_process')
  return new Promise((res) => {
    execFile(
      'dbus-send',
      ['--session', '--dest=org.freedesktop.secrets', '--print-reply', ...args],
      { timeout: 5000, maxBuffer: 1 << 20, env: process.env },
      (err, stdout) => res(err ? undefined : String(stdout)),
    )
  })
}

/**
 * Whether the Secret Service (Linux) holds the entry in a locked collection, or its
 * default collection is locked. Asks over D-Bus with dbus-send: SearchItems (which
 * splits matches into unlocked and locked items without unlocking anything) and the
 * default collection's Locked property. 'unknown' off Linux, without a session bus
 * or without dbus-send; never prompts, never reads a secret.
 */
export async function secretServiceLockState(service: string, account: string): Promise<LockState> {
  if (process.platform !== 'linux' || !process.env.DBUS_SESSION_BUS_ADDRESS) return 'unknown'
  // dbus-send cannot quote a comma inside a dict: without the search, the collection state decides.
  const found = /,/.test(service + account)
    ? undefined
    : await dbusSend([
        '--type=method_call',
        '/org/freedesktop/secrets',
        'org.freedesktop.Secret.Service.SearchItems',
        `dict:string:string:service,${service},account,${account}`,
      ])
  if (found !== undefined) {
    // Reply: (ao unlocked, ao locked)
    const m = /array \[([^\]]*)\]\s*array \[([^\]]*)\]/.exec(found)
    if (m && /object path/.test(m[2]!)) return 'locked'
  }
  const prop = await dbusSend([
    '/org/freedesktop/secrets/aliases/default',
    'org.freedesktop.DBus.Properties.Get',
    'string:org.freedesktop.Secret.Collection',
    'string:Locked',
  ])
  if (prop === undefined) return found === undefined ? 'unknown' : 'unlocked'
  return /boolean true/.test(prop) ? 'locked' : 'unlocked'
}
