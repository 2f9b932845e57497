/** Domain types shared by core, the API contract and the renderer. Pure types and constants: no imports. Timestamps are ISO-8601 strings (UTC). */

/** `disabled`: switched off by an admin, reversible (enable); `revoked` is final. */
export type KeyStatus = 'active' | 'disabled' | 'expired' | 'revoked'
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
  /** The previous secret still verifies until this time (reset with a grace period); the latest end if two do. */
  graceUntil: string | null
  /** Previous secrets still in their grace period (at most two), newest first. */
  previousSecrets: PreviousSecret[]
  /** Disabled by an admin (reversible); such a key answers `disabled` at verify. */
  disabledAt: string | null
  /** Not used for the policy's stale-after-days (never used counts from creation); false when that setting is 0. */
  stale: boolean
  /** The row's MAC does not match: the database file was edited. Such a key never verifies. */
  tampered: boolean
}

export interface PreviousSecret {
  hint: string
  /** When this secret stops verifying. */
  graceUntil: string
  /** Last time this previous secret (not the current one) was presented. */
  lastUsedAt: string | null
}

/** Editable fields of a key (secrets are never touched). Absent = unchanged. */
export interface KeyChanges {
  name?: string
  description?: string
  scopes?: string[]
  expiresIn?: string
  expiresAt?: string
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
  /** Days before expiry at which reminders fire (descending, 1–365, at most 5 values). */
  reminderDays: number[]
  /** Flag keys unused for this many days (0 = off). */
  staleAfterDays: number
}

export const DEFAULT_POLICY: Policy = {
  maxKeyAgeDays: 365,
  maxKeysPerOwner: 100,
  defaultExpiryDays: 30,
  allowCreation: true,
  retentionDays: 90,
  reminderDays: [30, 7, 1],
  staleAfterDays: 45,
}

export type SortField = 'created' | 'name' | 'accessId' | 'owner' | 'status' | 'expires' | 'lastUsed'

export interface KeyQuery {
  status?: KeyStatus | 'all'
  owner?: string
  scope?: string
  search?: string
  expiringWithinDays?: number
  /** Active keys not used for this many days (never used counts from creation). */
  unusedForDays?: number
  sort?: SortField
  order?: 'asc' | 'desc'
  offset?: number
  limit?: number
}

export interface KeyPage {
  items: KeyView[]
  total: number
}

export type VerifyFailure = 'unknown' | 'mismatch' | 'revoked' | 'disabled' | 'expired' | 'owner_disabled' | 'malformed' | 'tampered'

export type VerifyResult =
  | { valid: true; accessId: string; owner: string; scopes: string[] }
  | { valid: false; reason: VerifyFailure }

/** Every action the audit log records (the app's filter must name each: AuditScreen's labels are a Record over this). */
export const AUDIT_ACTIONS = [
  'key.create', 'key.reset', 'key.revoke', 'key.update', 'key.disable', 'key.enable',
  'owner.add', 'owner.disable', 'owner.enable', 'owner.revoke_all',
  'policy.set', 'keys.purge',
  'credentials.export', 'inventory.export', 'audit.export', 'team.export_secret',
  'store.backup', 'store.restore', 'store.upgrade',
] as const
export type AuditAction = (typeof AUDIT_ACTIONS)[number]

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

/** `keydesk check` / the app's "Check integrity": every page, row MAC, tombstone, the audit chain and the anchor. */
export interface StoreCheck {
  ok: boolean
  /** Plain sentences, one per problem found (empty when ok). */
  problems: string[]
  counts: { keys: number; owners: number; tombstones: number; auditEntries: number }
}

/** Leak scan: files and blobs bigger than this are skipped (and counted). */
export const SCAN_MAX_FILE_BYTES = 4 * 1024 * 1024

/** A key found by its secret (leak scan): never the secret itself. */
export interface KeyMatch {
  accessId: string
  name: string
  owner: string
  status: KeyStatus
  hint: string
  /** True when the match is a previous secret still in grace (or retired). */
  previous: boolean
  /** Whether the presented secret verifies right now. */
  live: boolean
}

/** A reminder due: an active key that crossed a threshold (days before expiry) and was not yet reminded of it. */
export interface ReminderDue {
  accessId: string
  name: string
  owner: string
  expiresAt: string
  thresholdDays: number
}
