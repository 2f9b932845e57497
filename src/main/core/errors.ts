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

/** Plain words for an OS error code in a message; "disk full" for ENOSPC/EDQUOT. */
export function systemErrorDetail(code: string | undefined): string {
  switch (code) {
    case 'ENOSPC':
    case 'SQLITE_FULL':
      return 'the disk is full (ENOSPC); free some space'
    case 'EDQUOT':
      return 'the disk is full for this user (EDQUOT, quota exceeded); free some space'
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`
    case 'EROFS':
      return 'the filesystem is read-only (EROFS)'
    case 'ENOENT':
      return 'the directory no longer exists (ENOENT)'
    case 'ENOTDIR':
      return 'a part of the path is not a directory (ENOTDIR)'
    case 'EEXIST':
      return 'the path already exists (EEXIST)'
    case 'EIO':
      return 'an input/output error (EIO)'
    case 'ESHORT':
      return 'the file was not written in full'
    default:
      return `error ${code ?? 'unknown'}`
  }
}

/**
 * A file that carried a just-committed secret (credential CSV) could not be placed.
 * Thrown by PendingFile.commit() AFTER the caller's commit: the caller must undo what
 * the file was for (revoke the just-issued keys; for a reset, retire the new secret
 * so the old one keeps working), audit it, and report it (exit 3). No temporary
 * file with the secret is left behind when this is thrown.
 */
export class DeliveryError extends KeydeskError {
  readonly deliveryFailed = true
  readonly path: string
  readonly code: string
  constructor(path: string, message: string, field: string, code: string) {
    super('store_unavailable', message, field)
    this.name = 'DeliveryError'
    this.path = path
    this.code = code
  }
}

export function isDeliveryError(e: unknown): e is DeliveryError {
  return e instanceof DeliveryError
}

/** The OS keychain holds (or may hold) the entry but is locked: not the same as a missing entry. */
export class KeychainLockedError extends KeydeskError {
  readonly locked = true
  constructor(message: string) {
    super('keychain_unavailable', message)
    this.name = 'KeychainLockedError'
  }
}
