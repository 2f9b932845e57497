/**
 * The only module that touches the OS keychain (keytar). Key material that passes
 * through here is never logged, never put in an error message, and a missing or
 * unreadable entry is never replaced silently: see openKeyStore for the rules.
 */
import { KeydeskError } from './errors'

export const KEYCHAIN_SERVICE = 'KeyDesk key store'

/** Small port so tests and hosts can choose the backend; production uses keytar. */
export interface KeychainPort {
  readonly backend: string
  get(account: string): Promise<string | null>
  set(account: string, secret: string): Promise<void>
}

function unavailable(cause: unknown): KeydeskError {
  const detail = cause instanceof Error ? cause.message.split('\n')[0]!.slice(0, 200) : String(cause)
  return new KeydeskError(
    'keychain_unavailable',
    `The OS keychain is unavailable (${detail}). Unlock or start your keychain (Secret Service / GNOME Keyring on Linux) and try again; KeyDesk will not issue or verify keys without it.`,
  )
}

type Keytar = {
  getPassword(service: string, account: string): Promise<string | null>
  setPassword(service: string, account: string, password: string): Promise<void>
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
      try {
        const kt = await loadKeytar()
        return await kt.getPassword(service, account)
      } catch (e) {
        throw unavailable(e)
      }
    },
    async set(account, secret) {
      try {
        const kt = await loadKeytar()
        await kt.setPassword(service, account, secret)
      } catch (e) {
        throw unavailable(e)
      }
    },
  }
}
