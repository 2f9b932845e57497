/**
 * Domain errors. Every failure a user can cause or meet is a KeydeskError with a
 * kind (stable, machine-readable), a plain message (shown as written) and,
 * for input errors, the field it concerns. Messages never contain secrets.
 */
export type ErrorKind =
  | 'invalid_input' // a field is malformed or breaks a rule
  | 'not_found' // no such key / owner
  | 'conflict' // duplicate name, already revoked, ambiguous name
  | 'policy' // refused by policy (cap, max age, creation restricted)
  | 'tampered' // a row's MAC does not match: the database was edited
  | 'keychain_unavailable' // keychain missing, locked, changed or unreachable
  | 'store_unavailable' // database unreadable, corrupt, read-only, newer schema

export class KeydeskError extends Error {
  readonly kind: ErrorKind
  readonly field: string | undefined
  constructor(kind: ErrorKind, message: string, field?: string) {
    super(message)
    this.name = 'KeydeskError'
    this.kind = kind
    this.field = field
  }
}

export const invalid = (field: string, message: string): KeydeskError =>
  new KeydeskError('invalid_input', message, field)

export function isKeydeskError(e: unknown): e is KeydeskError {
  return e instanceof KeydeskError
}
