/**
 * The storage port: every read and write the domain services need, in domain
 * terms, behind one typed interface. Services never see SQL; an adapter per engine
 * implements this (sqlite.ts today). Rows become records here and only here.
 *
 * Writes happen only inside `transaction(fn)`, which serialises writers across
 * processes (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL).
 */
import type { KeyStatus, OwnerKind } from '../../../shared/domain'

export interface OwnerRecord {
  id: number
  name: string
  kind: OwnerKind
  createdAt: number
  disabledAt: number | null
  mac: Buffer
}

export interface KeyRecord {
  id: number
  accessId: string
  ownerId: number
  /** The key row's MAC'd copies of its owner's name and disabled time (what verify reads). */
  ownerName: string
  ownerDisabledAt: number | null
  name: string
  description: string
  scopes: string
  hash: Buffer
  hint: string
  prevHash: Buffer | null
  prevValidUntil: number | null
  prev2Hash: Buffer | null
  prev2ValidUntil: number | null
  status: 'active' | 'revoked'
  createdAt: number
  expiresAt: number
  resetAt: number | null
  revokedAt: number | null
  revokedReason: string | null
  disabledAt: number | null
  disabledReason: string | null
  lastUsedAt: number | null
  prevLastUsedAt: number | null
  prev2LastUsedAt: number | null
  mac: Buffer
  macVersion: number
  /** The owner row, as stored (checked against the copies above). */
  owner: OwnerRecord
  /** Tombstones that concern this row: a revocation of its access ID, a retirement of its current secret. */
  revocationAt: number | null
  currentRetiredAt: number | null
}

/** The columns a key insert or update may set (never id, never last use). */
export type KeyFields = Omit<KeyRecord, 'id' | 'owner' | 'revocationAt' | 'currentRetiredAt' | 'lastUsedAt' | 'macVersion'>

/**
 * The verify hot path's row, as a flat tuple (no object allocation per lookup):
 * see verifyCurrentSql in sql.ts for the order. Hashes and the MAC are lowercase
 * hex; `hash` is null in a row found by its current secret (the caller holds that
 * hash). `slot` is which secret matched: 0 current, 1 previous, 2 second previous.
 */
export type VerifyRow = [
  id: number, accessId: string, name: string, hash: string | null, prevHash: string | null, prevValidUntil: number | null,
  prev2Hash: string | null, prev2ValidUntil: number | null, scopes: string, status: 'active' | 'revoked', createdAt: number,
  expiresAt: number, revokedAt: number | null, disabledAt: number | null, mac: string, ownerId: number, ownerName: string,
  ownerDisabledAt: number | null, lastUsedAt: number | null, revoked: number | boolean, retiredAt: number | null,
]
export const V = {
  id: 0, accessId: 1, name: 2, hash: 3, prevHash: 4, prevValidUntil: 5, prev2Hash: 6, prev2ValidUntil: 7, scopes: 8, status: 9,
  createdAt: 10, expiresAt: 11, revokedAt: 12, disabledAt: 13, mac: 14, ownerId: 15, ownerName: 16, ownerDisabledAt: 17,
  lastUsedAt: 18, revoked: 19, retiredAt: 20,
} as const
/** Fields of VerifyRow that neither a MAC nor a tombstone covers (skipped by the verified-row memo). */
export const VERIFY_UNMACED = new Set<number>([V.lastUsedAt, V.revoked, V.retiredAt])

export interface AuditRecord {
  id: number
  at: number
  actor: string
  action: string
  target: string
  detail: string
  prevHash: Buffer
  hash: Buffer
  mac: Buffer
}

export interface RetiredRecord {
  hash: Buffer
  accessId: string
  at: number
  auditId: number
  mac: Buffer
}

export interface RevocationRecord {
  accessId: string
  at: number
  auditId: number
  mac: Buffer
}

/** A key filter, already validated and normalised by the service. */
export interface KeyFilter {
  now: number
  status?: KeyStatus
  ownerId?: number
  scope?: string
  expiringUntil?: number
  /** Active keys whose last use (or creation) is before this instant. */
  unusedSince?: number
  /** Access-ID prefix. */
  accessIdPrefix?: string
  /** Substring (≥ 3 characters: trigram index; shorter: LIKE over name and description). */
  text?: string
}

export type KeySort = 'created' | 'name' | 'accessId' | 'owner' | 'status' | 'expires' | 'lastUsed'

export interface StoragePort {
  readonly engine: string
  readonly location: string
  transaction<T>(fn: () => T): T
  /** Reads that must see one consistent state (a snapshot: other processes' commits in between are not seen). */
  readTransaction<T>(fn: () => T): T
  readonly inTransaction: boolean
  /** A write transaction held open across awaits (first-use keychain set-up); ended by commit() or rollback(). */
  begin(): void
  commit(): void
  rollback(): void
  getMeta(key: string): string | undefined
  setMeta(key: string, value: string): void
  schemaVersion(): number

  // owners
  ownerByName(name: string): OwnerRecord | undefined
  ownerById(id: number): OwnerRecord | undefined
  ownerNames(): string[]
  iterateOwners(): IterableIterator<OwnerRecord>
  nextOwnerId(): number
  insertOwner(o: OwnerRecord): void
  setOwnerDisabled(id: number, disabledAt: number | null, mac: Buffer): void
  setOwnerMac(id: number, mac: Buffer): void
  ownerKeyCounts(ownerId: number, now: number): { active: number; disabled: number; expired: number; revoked: number }
  keyIdsOfOwner(ownerId: number, onlyActive: boolean): number[]
  countKeysOfOwner(ownerId: number): number
  hasAnyData(): boolean

  // keys
  nextKeyId(): number
  insertKey(id: number, k: KeyFields, macVersion: number): void
  updateKey(id: number, changes: Partial<KeyFields>, macVersion?: number): void
  replaceScopes(id: number, scopes: readonly string[]): void
  keyById(id: number): KeyRecord | undefined
  keyByAccessId(accessId: string): KeyRecord | undefined
  keysByName(name: string, limit: number): KeyRecord[]
  liveNameTaken(ownerId: number, name: string, now: number, exceptId?: number): boolean
  queryKeys(f: KeyFilter, sort: KeySort, order: 'ASC' | 'DESC' | undefined, limit: number, offset: number): KeyRecord[]
  countKeys(f: KeyFilter): number
  iterateKeys(f?: KeyFilter): IterableIterator<KeyRecord>
  /** Keyset paging by id, for long walks that pause between pages. */
  keysAfter(afterId: number, limit: number): KeyRecord[]
  keyIdsMatching(f: KeyFilter): number[]
  scopesInUse(now: number): string[]
  /** Scope rows that disagree with the keys' MAC'd scopes text (integrity check). */
  scopeIndexMismatches(): number

  // verify
  verifyByCurrent(hash: Buffer): VerifyRow | undefined
  verifyByPrevious(hash: Buffer): { row: VerifyRow; slot: 1 | 2 } | undefined
  /** The raw floor: the same indexed lookup and nothing else (bench). */
  lookupFloor(hash: Buffer): boolean
  recordLastUsed(entries: readonly [id: number, slot: number, at: number][], busyMs: number): void

  // policy preview / purge
  countOverMaxAge(now: number, maxAgeMs: number): number
  sampleOverMaxAge(now: number, maxAgeMs: number, limit: number): KeyRecord[]
  ownersOverCap(cap: number, limit: number): { owner: string; keys: number }[]
  purgeable(cutoff: number): KeyRecord[]
  countPurgeable(cutoff: number): number
  deleteKeys(ids: readonly number[]): void

  // tombstones
  insertRetired(t: RetiredRecord): void
  /** Only to undo a reset whose new secret could not be delivered (the pinned counts follow). */
  deleteRetiredRow(hash: Buffer, at: number): void
  retiredByHash(hash: Buffer): RetiredRecord[]
  insertRevocation(t: RevocationRecord): void
  revocationOf(accessId: string): RevocationRecord | undefined
  tombstoneCounts(): { retired: number; revocations: number }
  iterateRetired(): IterableIterator<RetiredRecord>
  iterateRevocations(): IterableIterator<RevocationRecord>

  // audit
  auditMaxId(): number
  insertAudit(a: AuditRecord): void
  auditById(id: number): AuditRecord | undefined
  iterateAudit(): IterableIterator<AuditRecord>
  listAudit(q: { action?: string; target?: string; beforeId?: number; limit: number }): AuditRecord[]
  lastAuditIdOf(action: string): number

  // reminders
  reminderCandidates(now: number, until: number): KeyRecord[]
  remindedThresholds(keyIds: readonly number[]): Map<number, Set<number>>
  insertReminders(items: readonly { keyId: number; thresholdDays: number; at: number }[]): void

  // whole store
  integrityCheck(): string[]
  /** A consistent copy of the whole store in a new file (no restarts under concurrent writes). */
  snapshotTo(path: string): void
  close(): void
}
