/**
 * The bridge contract: every operation the renderer may call, with its input
 * schema (strict: unknown fields are rejected), its output type and the error
 * kinds it may return. Main (handlers, IPC registration), the preload and the
 * renderer all derive from this file; no channel or shape is written twice.
 *
 * Imports nothing from electron, node:* or the DOM.
 */
import { z } from 'zod'
import type {
  AuditCheck,
  AuditEntry,
  IssuedKey,
  KeyPage,
  KeyView,
  OwnerView,
  Policy,
  PolicyPreview,
  StoreCheck,
} from './domain'
import type { OperationName } from './operations'

// ── results ────────────────────────────────────────────────────────────────

export type ErrorKind =
  | 'invalid_input'
  | 'not_found'
  | 'conflict'
  | 'policy'
  | 'tampered'
  | 'keychain_unavailable'
  | 'store_unavailable'
  | 'handoff_expired'
  /** The IPC sender is not the app's own main frame; the payload was not read. */
  | 'forbidden'
  | 'internal'

export interface BridgeError {
  kind: ErrorKind
  /** Plain sentence for the user; shown as written. Never contains a secret. */
  message: string
  /** The input field the error concerns, when there is one. */
  field?: string
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: BridgeError }

// ── shared pieces ─────────────────────────────────────────────────────────

const text = (max: number) => z.string().max(max)
const accessId = z.string().regex(/^kdid_[0-9A-Za-z]{16}$/, 'must be an access ID (kdid_…)')
const handoffId = z.string().regex(/^[0-9a-f]{32}$/, 'must be a handoff ID')
const days = (min: number, max: number) => z.number().int().min(min).max(max)

export const keyQuerySchema = z.strictObject({
  status: z.enum(['all', 'active', 'disabled', 'expired', 'revoked']).optional(),
  owner: text(128).optional(),
  scope: text(64).optional(),
  search: text(200).optional(),
  expiringWithinDays: days(0, 3650).optional(),
  unusedForDays: days(1, 3650).optional(),
  sort: z.enum(['created', 'name', 'accessId', 'owner', 'status', 'expires', 'lastUsed']).optional(),
  order: z.enum(['asc', 'desc']).optional(),
  offset: z.number().int().min(0).max(100_000_000).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
})

const policyChanges = z.strictObject({
  maxKeyAgeDays: days(1, 3650).optional(),
  maxKeysPerOwner: z.number().int().min(1).max(1_000_000).optional(),
  defaultExpiryDays: days(1, 3650).optional(),
  allowCreation: z.boolean().optional(),
  retentionDays: days(0, 36500).optional(),
  reminderDays: z.array(days(1, 365)).min(1).max(5).optional(),
  staleAfterDays: days(0, 3650).optional(),
})

const empty = z.strictObject({})

/** The Store setting's choice: the local store, or a team database (URL; the password optional, never saved in a file). */
const storeChoice = z.strictObject({
  kind: z.enum(['local', 'team']),
  url: text(2000).optional(),
  password: text(1000).optional(),
})

// ── outputs ───────────────────────────────────────────────────────────────

export interface AppHealth {
  /** False when the store could not be opened; `problem` says why and what to do. */
  ok: boolean
  problem: BridgeError | null
  dataDir: string
  dbPath: string | null
  schemaVersion: number | null
  /** 'unknown' when the store failed before the keychain was reached (e.g. an unreadable database). */
  keychain: 'ok' | 'unavailable' | 'unknown'
  actor: string
}

/** A secret handed to the renderer once; main keeps it only in a short-lived handoff. */
export interface OneTimeSecret {
  handoffId: string
  /** When main forgets the secret (ISO-8601), even if the dialog is still open. */
  handoffExpiresAt: string
  keys: IssuedKey[]
}

export interface SaveOutcome {
  saved: boolean
  path: string | null
}

/** The "Needs attention" view: keys expiring within the widest reminder threshold, stale keys, tampered keys. */
export interface AttentionView {
  /** When this was computed (ISO-8601), so the screen shows days left consistently. */
  at: string
  reminderDays: number[]
  /** 0 when the policy does not flag stale keys. */
  staleAfterDays: number
  /** Soonest first; at most ATTENTION_LIST_MAX of expiringTotal. */
  expiring: KeyView[]
  expiringTotal: number
  /** Longest unused first; at most ATTENTION_LIST_MAX of staleTotal. */
  stale: KeyView[]
  staleTotal: number
  tampered: KeyView[]
  tamperedTotal: number
}

/** A key of this store found by a leak scan: never the secret, only its hint. */
export interface ScanFinding {
  accessId: string
  name: string
  owner: string
  status: KeyView['status']
  hint: string
  /** The leaked secret is a previous one (in grace, or retired). */
  previous: boolean
  /** The leaked secret verifies right now. */
  live: boolean
  /** "file:line" or "commit:path:line", relative to the scanned folder. */
  locations: string[]
}

export interface ScanOutcome {
  /** False when the folder picker was cancelled (nothing else is set then). */
  scanned: boolean
  folder: string | null
  found: ScanFinding[]
  /** Checksum-valid keys no key of this store has. */
  unknown: { hint: string; locations: string[] }[]
  stats: { files: number; blobs: number; skippedBinary: number; skippedLarge: number; skippedUnreadable: number }
  live: boolean
}

export const ATTENTION_LIST_MAX = 500

/** The Store setting: what the settings file names, and which store is open now. */
export interface StoreSettingsView {
  /** 'local': the SQLite file in dataDir (the default); 'team': a team database. */
  kind: 'local' | 'team'
  /** The team database URL as saved: never a password. Null for the local store. */
  url: string | null
  /** The OS keychain holds a password for that URL. */
  passwordSaved: boolean
  /** The local store's folder (the setting is saved there too). */
  dataDir: string
  /** The store open now; null while none is (the health banner says why). */
  storeId: string | null
  engine: 'sqlite' | 'postgres' | null
}

/** A connection test: nothing is switched or saved. */
export interface StoreTestOutcome {
  ok: boolean
  storeId?: string
  /** Keys in that store, of every status. */
  keys?: number
  /** Plain sentence: what was found, or why it failed. */
  message: string
}

// ── the table ─────────────────────────────────────────────────────────────

export const contract = {
  health: { input: empty, output: {} as AppHealth },
  keysList: { input: keyQuerySchema, output: {} as KeyPage },
  keysGet: { input: z.strictObject({ accessId }), output: {} as KeyView },
  keysCreate: {
    input: z.strictObject({
      name: text(1000).optional(),
      owner: text(1000).optional(),
      scopes: z.array(text(64)).max(64).optional(),
      description: text(5000).optional(),
      expiresIn: text(20).optional(),
      expiresAt: text(40).optional(),
    }),
    output: {} as OneTimeSecret,
  },
  /** Bulk issue from a CSV of names, chosen in an open-file dialog; all or none. */
  keysImport: { input: empty, output: {} as OneTimeSecret | null },
  keysReset: {
    input: z.strictObject({ accessId, confirm: text(1000), grace: text(20).optional(), previous: z.enum(['keep', 'end']).optional() }),
    output: {} as OneTimeSecret,
  },
  /** Edit name, description, scopes or expiry (within policy); secrets are untouched. */
  keysUpdate: {
    input: z.strictObject({
      accessId,
      name: text(1000).optional(),
      description: text(5000).optional(),
      scopes: z.array(text(64)).max(64).optional(),
      expiresIn: text(20).optional(),
      expiresAt: text(40).optional(),
    }),
    output: {} as KeyView,
  },
  /** Switch one key off (reversible); verify answers `disabled`. */
  keysDisable: { input: z.strictObject({ accessId, reason: text(1000).optional() }), output: {} as KeyView },
  keysEnable: { input: z.strictObject({ accessId }), output: {} as KeyView },
  /** Distinct scopes of live keys, for the scopes picker. */
  scopesInUse: { input: empty, output: {} as string[] },
  keysRevoke: {
    input: z.strictObject({ accessIds: z.array(accessId).min(1).max(100_000), reason: text(1000).optional() }),
    output: {} as { revoked: number },
  },
  /** "Select all" on a filtered view: revoke every active key the query matches, if the count is still as shown. */
  keysRevokeMatching: {
    input: z.strictObject({
      query: keyQuerySchema.omit({ offset: true, limit: true, sort: true, order: true }),
      expectedCount: z.number().int().min(1).max(10_000_000),
      reason: text(1000).optional(),
    }),
    output: {} as { revoked: number },
  },
  keysPurge: { input: empty, output: {} as { purged: number } },
  /** Expiring, stale and tampered keys for the "Needs attention" screen. */
  attentionList: { input: empty, output: {} as AttentionView },
  /** Pick a folder (folder-picker port) and scan it for this store's keys; `git` also scans its repository's history. */
  scanFolder: { input: z.strictObject({ git: z.boolean().optional() }), output: {} as ScanOutcome },
  /** Save the credential report CSV through a save dialog (owner-only; an existing file is refused). */
  reportSave: { input: empty, output: {} as SaveOutcome },
  ownersList: { input: empty, output: {} as OwnerView[] },
  ownersAdd: {
    input: z.strictObject({ name: text(1000), kind: z.enum(['user', 'service']) }),
    output: {} as OwnerView,
  },
  ownersDisable: { input: z.strictObject({ name: text(1000) }), output: {} as OwnerView },
  ownersEnable: { input: z.strictObject({ name: text(1000) }), output: {} as OwnerView },
  ownersRevokeAll: {
    input: z.strictObject({ name: text(1000), confirm: text(1000), reason: text(1000).optional() }),
    output: {} as { owner: string; revoked: number },
  },
  policyGet: { input: empty, output: {} as Policy },
  policySet: { input: policyChanges, output: {} as Policy },
  policyPreview: { input: policyChanges, output: {} as PolicyPreview },
  auditList: {
    input: z.strictObject({
      action: text(64).optional(),
      target: text(200).optional(),
      beforeId: z.number().int().min(1).optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    }),
    output: {} as AuditEntry[],
  },
  auditVerify: { input: empty, output: {} as AuditCheck },
  /** The full integrity check (`keydesk check`): pages, every row MAC, tombstones, the audit chain, the anchor. Also run in the background at start. */
  storeCheck: { input: empty, output: {} as StoreCheck },
  auditExport: { input: empty, output: {} as SaveOutcome },
  inventoryExport: { input: empty, output: {} as SaveOutcome },
  /** Write the credential CSV of a handoff through a save dialog (owner-only file). */
  credentialsSave: { input: z.strictObject({ handoffId }), output: {} as SaveOutcome },
  /** Forget a handoff's secret now (the one-time dialog closed). */
  credentialsDiscard: { input: z.strictObject({ handoffId }), output: {} as { discarded: boolean } },
  /** Copy a handoff's access key to the clipboard; cleared after 30 s if still there. */
  secretCopy: {
    input: z.strictObject({ handoffId, accessId }),
    output: {} as { clearsAfterMs: number },
  },
  /** The Store setting (works while the store is down, so another one can be chosen). */
  storeSettingsGet: { input: empty, output: {} as StoreSettingsView },
  /** Open the chosen store, count its keys, close it: nothing switched, nothing saved. Bad input is a field error. */
  storeSettingsTest: { input: storeChoice, output: {} as StoreTestOutcome },
  /** Test again, save the setting (URL in the settings file, password in the OS keychain) and switch the app to that store. */
  storeSettingsSave: { input: storeChoice, output: {} as StoreSettingsView },
} satisfies Record<OperationName, { input: z.ZodType; output: unknown }>

export type Contract = typeof contract
export type Input<K extends OperationName> = z.input<Contract[K]['input']>
export type ParsedInput<K extends OperationName> = z.output<Contract[K]['input']>
export type Output<K extends OperationName> = Contract[K]['output']

/** What the preload exposes as window.keydesk: one function per operation. */
export type KeydeskApi = {
  [K in OperationName]: (input: Input<K>) => Promise<Result<Output<K>>>
}

export const SECRET_CLIPBOARD_CLEAR_MS = 30_000
export const HANDOFF_TTL_MS = 10 * 60_000
