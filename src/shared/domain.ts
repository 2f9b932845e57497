/** Domain types shared by core, the API contract and the renderer. Pure types and constants: no imports. Timestamps are ISO-8601 strings (UTC). */

export type KeyStatus = 'active' | 'expired' | 'revoked'
export type OwnerKind = 'user' | 'service'

export interface KeyView {
  accessId: string
  name: string
  owner: string
  ownerKind: OwnerKind
  ownerDisabled: boolean
  description: string
  scopes: string[]
  status: KeyStatus
  hint: string
  createdAt: string
  expiresAt: string
  resetAt: string | null
  revokedAt: string | null
  revokedReason: string | null
  lastUsedAt: string | null
  /** The previous secret still verifies until this time (reset with a grace period). */
  graceUntil: string | null
  /** The row's MAC does not match: the database file was edited. Such a key never verifies. */
  tampered: boolean
}

/** The only type that carries a secret; it is returned once and never stored. */
export interface IssuedKey {
  accessId: string
  accessKey: string
  name: string
  owner: string
  scopes: string[]
  expiresAt: string
}

export interface OwnerView {
  name: string
  kind: OwnerKind
  createdAt: string
  disabledAt: string | null
  tampered: boolean
  keys: { active: number; expired: number; revoked: number }
}

export interface Policy {
  maxKeyAgeDays: number
  maxKeysPerOwner: number
  defaultExpiryDays: number
  allowCreation: boolean
  retentionDays: number
}

export const DEFAULT_POLICY: Policy = {
  maxKeyAgeDays: 365,
  maxKeysPerOwner: 100,
  defaultExpiryDays: 30,
  allowCreation: true,
  retentionDays: 90,
}

export type SortField = 'created' | 'name' | 'accessId' | 'owner' | 'status' | 'expires' | 'lastUsed'

export interface KeyQuery {
  status?: KeyStatus | 'all'
  owner?: string
  scope?: string
  search?: string
  expiringWithinDays?: number
  sort?: SortField
  order?: 'asc' | 'desc'
  offset?: number
  limit?: number
}

export interface KeyPage {
  items: KeyView[]
  total: number
}

export type VerifyFailure = 'unknown' | 'mismatch' | 'revoked' | 'expired' | 'owner_disabled' | 'malformed' | 'tampered'

export type VerifyResult =
  | { valid: true; accessId: string; owner: string; scopes: string[] }
  | { valid: false; reason: VerifyFailure }

export interface AuditEntry {
  id: number
  at: string
  actor: string
  action: string
  target: string
  detail: Record<string, unknown>
}

export interface AuditCheck {
  ok: boolean
  checked: number
  /** First entry id whose link is broken (or the id expected next, for a missing tail). */
  brokenAt?: number
  problem?: string
}

export interface CreateInput {
  name?: string
  owner?: string
  scopes?: string[]
  description?: string
  /** Duration string, e.g. 90m, 12h, 30d. */
  expiresIn?: string
  /** ISO-8601 date or date-time. */
  expiresAt?: string
}

export interface PolicyPreview {
  /** Active keys whose expiry lies beyond created + the proposed max age. */
  keysOverMaxAge: number
  /** Owners whose key count is above the proposed cap. */
  ownersOverCap: { owner: string; keys: number }[]
  /** Revoked or expired keys a purge under the proposed retention would delete. */
  keysPurgeable: number
  /** First keys caught by the max age rule, for display. */
  sample: KeyView[]
}

export interface StoreHealth {
  dataDir: string
  dbPath: string
  storeId: string
  schemaVersion: number
  keychain: string
}
