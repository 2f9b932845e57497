import type { KeydeskError } from '../main/core/errors'

/** CLI exit codes (contract): 0 done; 1 verify failed or not found; 2 bad usage or invalid input; 3 keychain or store unavailable. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unavailable: 3 } as const

export function exitCodeFor(e: KeydeskError): number {
  switch (e.kind) {
    case 'not_found':
      return EXIT.failed
    case 'keychain_unavailable':
    case 'store_unavailable':
    case 'tampered':
      return EXIT.unavailable
    default:
      return EXIT.usage
  }
}
