/**
 * The key store: the one place the domain rules live. Plain Node (never imports
 * electron); the CLI, `keydesk serve`, the API handlers and the tests all use it.
 *
 * Secrets: an access key exists in memory between generation and the return of
 * create/reset (or bulk import); only its HMAC and a hint reach the database, and
 * the value is returned only after the row is committed (synchronous=FULL).
 */
import { randomUUID } from 'node:crypto'
import { chmodSync, existsSync } from 'node:fs'
import { userInfo } from 'node:os'
import { resolve as resolvePath } from 'node:path'
import type { Statement } from 'better-sqlite3'
import { BUSY_TIMEOUT_MS, openDatabase, type Db, LATEST_VERSION } from './db'
import { KeydeskError, invalid } from './errors'
import { KEYCHAIN_SERVICE, keytarKeychain, type KeychainPort } from './keychain'
import { HASH_ALG, StoreCrypto, decodeKeyMaterial, encodeKeyMaterial, newKeyMaterial, sha256 } from './crypto'
import { isAccessId, isWellFormedAccessKey, keyHint, newAccessId, newAccessKey } from './keyformat'
import { normalizeDescription, normalizeName, normalizeScopes } from './names'
import { DAY_MS, iso, parseDuration, parseInstant } from './duration'
import { AUDIT_FIELDS, CREDENTIAL_FIELDS, INVENTORY_FIELDS, parseImportCsv, toCsv } from './csv'
import { stagePrivateFile, writePrivateFile, type PendingFile } from './files'
import {
  DEFAULT_POLICY,
  type AuditCheck,
  type AuditEntry,
  type CreateInput,
  type IssuedKey,
  type KeyPage,
  type KeyQuery,
  type KeyView,
  type OwnerKind,
  type OwnerView,
  type Policy,
  type PolicyPreview,
  type StoreHealth,
  type VerifyResult,
} from './types'

export interface OpenOptions {
  dataDir: string
  keychain?: KeychainPort
  /** Who is acting, for the audit log; defaults to the OS user. */
  actor?: string
  /** Clock, for tests. */
  now?: () => number
  /** Memory-mapped reads: faster verify on large stores, at the cost of resident memory. For keydesk serve and services. */
  mmap?: boolean
}

const LAST_USED_RESOLUTION_MS = 60_000
/** How long a last-used flush waits for another writer's lock before leaving it for later. */
const LAST_USED_BUSY_MS = 50
const MAX_GRACE_MS = 30 * DAY_MS
const MAX_PAGE = 1000
const REASON_MAX = 500

interface KeyRow {
  id: number
  access_id: string
  owner_id: number
  name: string
  description: string
  scopes: string
  hash: Buffer
  hint: string
  prev_hash: Buffer | null
  prev_valid_until: number | null
  status: 'active' | 'revoked'
  created_at: number
  expires_at: number
  reset_at: number | null
  revoked_at: number | null
  revoked_reason: string | null
  last_used_at: number | null
  mac: Buffer
  owner: string
  owner_kind: OwnerKind
  owner_disabled_at: number | null
  owner_mac: Buffer
  /** The key row's MAC'd copies of its owner's name and disabled time. */
  key_owner_name: string
  key_owner_disabled_at: number | null
}

interface OwnerRow {
  id: number
  name: string
  kind: OwnerKind
  created_at: number
  disabled_at: number | null
  mac: Buffer
}

const KEY_COLUMNS = `k.id, k.access_id, k.owner_id, k.name, k.description, k.scopes, k.hash, k.hint, k.prev_hash,
  k.prev_valid_until, k.status, k.created_at, k.expires_at, k.reset_at, k.revoked_at, k.revoked_reason,
  k.last_used_at, k.mac, o.name AS owner, o.kind AS owner_kind, o.disabled_at AS owner_disabled_at, o.mac AS owner_mac,
  k.owner_name AS key_owner_name, k.owner_disabled_at AS key_owner_disabled_at`
const KEY_FROM = `keys k JOIN owners o ON o.id = k.owner_id`

/**
 * The verify hot path: one indexed lookup by hash, as a raw array (VerifyRow order).
 * The column the lookup matched is not read back (the caller has it), and the owner
 * comes from the key row's MAC'd copies: no join, no second lookup.
 */
const VERIFY_COLS_TAIL = `prev_valid_until, scopes, status, created_at, expires_at, revoked_at, mac, last_used_at, owner_id, owner_name, owner_disabled_at`
const VERIFY_BY_HASH = `SELECT id, access_id, name, NULL, prev_hash, ${VERIFY_COLS_TAIL} FROM keys WHERE hash = ?`
const VERIFY_BY_PREV = `SELECT id, access_id, name, hash, NULL, ${VERIFY_COLS_TAIL} FROM keys WHERE prev_hash = ?`
type VerifyRow = [
  id: number, accessId: string, name: string, hash: Buffer | null, prevHash: Buffer | null, prevUntil: number | null,
  scopes: string, status: 'active' | 'revoked', createdAt: number, expiresAt: number, revokedAt: number | null, mac: Buffer | null,
  lastUsedAt: number | null, ownerId: number, ownerName: string, ownerDisabledAt: number | null,
]
/** Position of last_used_at in VerifyRow: the one field no MAC covers. */
const LAST_USED_INDEX = 12
/** Bound on the verified-row memo (≈ 300 bytes an entry). */
const MAC_MEMO_MAX = 50_000

interface KeyMacFields {
  access_id: string
  owner_id: number
  owner_name: string
  owner_disabled_at: number | null
  name: string
  hash: Buffer
  prev_hash: Buffer | null
  prev_valid_until: number | null
  scopes: string
  status: string
  created_at: number
  expires_at: number
  revoked_at: number | null
}

function keyMacData(r: KeyMacFields): string {
  return JSON.stringify([
    'key/1', r.access_id, r.owner_id, r.owner_name, r.owner_disabled_at, r.name, r.hash.toString('hex'),
    r.prev_hash ? r.prev_hash.toString('hex') : null, r.prev_valid_until, r.scopes, r.status, r.created_at, r.expires_at, r.revoked_at,
  ])
}

/** A key row as read with KEY_COLUMNS → the fields its MAC covers (the row's own owner copies). */
function macFieldsOf(r: KeyRow): KeyMacFields {
  return { ...r, owner_name: r.key_owner_name, owner_disabled_at: r.key_owner_disabled_at }
}

/** Every MAC'd field and both MACs equal (last_used_at, which is not MAC'd, is skipped). */
function sameVerifiedFields(a: VerifyRow, b: VerifyRow): boolean {
  for (let i = 0; i < a.length; i++) {
    if (i === LAST_USED_INDEX) continue
    const x = a[i]
    const y = b[i]
    if (x === y) continue
    if (x instanceof Buffer && y instanceof Buffer && x.equals(y)) continue
    return false
  }
  return true
}

function ownerMacData(r: { name: string; kind: string; disabled_at: number | null }): string {
  return JSON.stringify(['owner/1', r.name, r.kind, r.disabled_at])
}

function policyMacData(p: Policy): string {
  return JSON.stringify(['policy/1', p.maxKeyAgeDays, p.maxKeysPerOwner, p.defaultExpiryDays, p.allowCreation, p.retentionDays])
}

/** Open (and on first use initialise) the store in dataDir, with its keychain entry. */
export async function openKeyStore(opts: OpenOptions): Promise<KeyStore> {
  const now = opts.now ?? Date.now
  const keychain = opts.keychain ?? keytarKeychain()
  const { db, path } = openDatabase(opts.dataDir, { mmap: opts.mmap })
  try {
    const crypto = await loadOrInitKeychain(db, keychain, path)
    return new KeyStore(db, crypto, { ...opts, now, keychain, dbPath: path })
  } catch (e) {
    db.close()
    throw e
  }
}

function getMeta(db: Db, key: string): string | undefined {
  return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value
}
function setMeta(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value)
}

async function loadOrInitKeychain(db: Db, keychain: KeychainPort, path: string): Promise<StoreCrypto> {
  const existing = readKeychainState(db)
  if (existing.storeId && existing.fingerprint) return loadKeychain(keychain, existing.storeId, existing.fingerprint, path)

  // First use. Hold the write lock while we talk to the keychain, so concurrent
  // first runs (CLI and app together) agree on one entry.
  db.exec('BEGIN IMMEDIATE')
  try {
    const state = readKeychainState(db)
    if (state.storeId && state.fingerprint) {
      db.exec('COMMIT')
      return loadKeychain(keychain, state.storeId, state.fingerprint, path)
    }
    const hasData = db.prepare('SELECT EXISTS (SELECT 1 FROM keys) OR EXISTS (SELECT 1 FROM owners) AS x').get() as { x: number }
    if (hasData.x)
      throw new KeydeskError('tampered', `The key store at ${path} holds keys but no record of its keychain entry; it was edited outside KeyDesk. Restore it from a backup.`)
    const storeId = state.storeId ?? randomUUID()
    setMeta(db, 'store_id', storeId)
    let material
    const found = await keychain.get(storeId)
    if (found !== null) {
      material = decodeKeyMaterial(found)
    } else {
      material = newKeyMaterial()
      await keychain.set(storeId, encodeKeyMaterial(material))
      const back = await keychain.get(storeId)
      if (back === null)
        throw new KeydeskError('keychain_unavailable', 'The OS keychain accepted the store entry but does not return it; check that your keychain is unlocked and persistent.')
      material = decodeKeyMaterial(back)
    }
    const crypto = new StoreCrypto(material)
    setMeta(db, 'keychain_fingerprint', crypto.fingerprint(storeId))
    setMeta(db, 'keychain_service', KEYCHAIN_SERVICE)
    setMeta(db, 'keychain_backend', keychain.backend)
    setMeta(db, 'created_at', String(Date.now()))
    writePolicy(db, crypto, DEFAULT_POLICY)
    // Pin the empty audit log, so wiping a later log together with its head is detected.
    const emptyHead = `0:${Buffer.alloc(32).toString('hex')}`
    setMeta(db, 'audit_head', emptyHead)
    setMeta(db, 'audit_head_mac', crypto.mac(`audit-head:${emptyHead}`).toString('hex'))
    db.exec('COMMIT')
    return crypto
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK')
    throw e
  }
}

function readKeychainState(db: Db): { storeId?: string; fingerprint?: string } {
  return { storeId: getMeta(db, 'store_id'), fingerprint: getMeta(db, 'keychain_fingerprint') }
}

async function loadKeychain(keychain: KeychainPort, storeId: string, fingerprint: string, path: string): Promise<StoreCrypto> {
  const entry = await keychain.get(storeId)
  if (entry === null)
    throw new KeydeskError(
      'keychain_unavailable',
      `The OS keychain has no entry for the key store at ${path} (service "${KEYCHAIN_SERVICE}", account ${storeId}). ` +
        'KeyDesk will not create a new one, because every existing key would stop verifying: unlock the keychain or restore the entry.',
    )
  const crypto = new StoreCrypto(decodeKeyMaterial(entry))
  if (crypto.fingerprint(storeId) !== fingerprint)
    throw new KeydeskError(
      'keychain_unavailable',
      `The OS keychain entry for the key store at ${path} (account ${storeId}) has changed and no longer matches the store; KeyDesk refuses to use it. Restore the original entry.`,
    )
  return crypto
}

function writePolicy(db: Db, crypto: StoreCrypto, p: Policy): void {
  setMeta(db, 'policy', JSON.stringify(p))
  setMeta(db, 'policy_mac', crypto.mac(policyMacData(p)).toString('hex'))
}

export class KeyStore {
  private readonly now: () => number
  readonly actor: string
  readonly dataDir: string
  readonly dbPath: string
  private readonly keychainBackend: string
  private readonly lastUsedPending = new Map<number, number>()
  private closed = false

  constructor(
    private readonly db: Db,
    private readonly crypto: StoreCrypto,
    opts: OpenOptions & { now: () => number; keychain: KeychainPort; dbPath: string },
  ) {
    this.now = opts.now
    this.actor = opts.actor ?? safeUsername()
    this.dataDir = opts.dataDir
    this.dbPath = opts.dbPath
    this.keychainBackend = opts.keychain.backend
  }

  // ───────────────────────────── helpers ─────────────────────────────

  /** Run fn in a BEGIN IMMEDIATE transaction (serialises writers across processes). */
  private write<T>(fn: () => T): T {
    try {
      return this.db
        .transaction(() => {
          this.auditTail = undefined
          const result = fn()
          this.pinAuditHead()
          return result
        })
        .immediate()
    } catch (e) {
      this.auditTail = undefined
      if (e instanceof KeydeskError) throw e
      const code = (e as { code?: string }).code ?? ''
      if (code.startsWith('SQLITE_'))
        throw new KeydeskError('store_unavailable', `The key store could not be written (${code}); nothing was changed.`)
      throw e
    }
  }

  /** The chain's tail within the current write transaction (undefined outside one). */
  private auditTail: { id: number; hash: Buffer; dirty: boolean } | undefined

  /** Append an audit entry; only inside write(). The head is pinned once per transaction. */
  private audit(action: string, target: string, detail: Record<string, unknown> = {}): void {
    if (!this.db.inTransaction) throw new Error('audit() outside a write transaction')
    const tail = (this.auditTail ??= { ...this.auditHead(), dirty: false })
    const at = this.now()
    const id = tail.id + 1
    const prev = tail.hash
    const detailJson = JSON.stringify(detail)
    const hash = sha256(Buffer.concat([prev, Buffer.from(JSON.stringify([id, at, this.actor, action, target, detailJson]))]))
    const mac = this.crypto.mac(hash)
    this.auditInsert ??= this.db.prepare('INSERT INTO audit (id, at, actor, action, target, detail, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    this.auditInsert.run(id, at, this.actor, action, target, detailJson, prev, hash, mac)
    this.auditTail = { id, hash, dirty: true }
  }

  private auditInsert?: Statement

  /** Record the chain's head (id + hash, MAC'd) so a truncated log is detected. */
  private pinAuditHead(): void {
    const tail = this.auditTail
    this.auditTail = undefined
    if (!tail?.dirty) return
    const headValue = `${tail.id}:${tail.hash.toString('hex')}`
    setMeta(this.db, 'audit_head', headValue)
    setMeta(this.db, 'audit_head_mac', this.crypto.mac(`audit-head:${headValue}`).toString('hex'))
  }

  /**
   * Where the next entry chains from: the MAC'd head in meta, not the table's last
   * row, so entries deleted from the tail leave a gap that later writes cannot
   * close. If the head is missing or forged, the numbering continues but the chain
   * does not, so verifyAudit keeps reporting the break.
   */
  private auditHead(): { id: number; hash: Buffer } {
    const last = (this.db.prepare('SELECT max(id) FROM audit').pluck().get() as number | null) ?? 0
    const head = getMeta(this.db, 'audit_head')
    const headMac = getMeta(this.db, 'audit_head_mac')
    if (head !== undefined && headMac !== undefined && this.crypto.macOk(`audit-head:${head}`, Buffer.from(headMac, 'hex'))) {
      const [id, hex] = head.split(':')
      return { id: Math.max(Number(id), last), hash: Buffer.from(hex ?? '', 'hex') }
    }
    return { id: last, hash: Buffer.alloc(32) }
  }

  private keyTampered(r: KeyRow): boolean {
    return (
      !this.crypto.macOk(keyMacData(macFieldsOf(r)), r.mac) ||
      !this.crypto.macOk(ownerMacData({ name: r.owner, kind: r.owner_kind, disabled_at: r.owner_disabled_at }), r.owner_mac) ||
      r.key_owner_name !== r.owner ||
      r.key_owner_disabled_at !== r.owner_disabled_at
    )
  }

  private toView(r: KeyRow, now = this.now()): KeyView {
    return {
      accessId: r.access_id,
      name: r.name,
      owner: r.owner,
      ownerKind: r.owner_kind,
      ownerDisabled: r.owner_disabled_at !== null,
      description: r.description,
      scopes: r.scopes ? r.scopes.split(' ') : [],
      status: r.status === 'revoked' ? 'revoked' : r.expires_at <= now ? 'expired' : 'active',
      hint: r.hint,
      createdAt: iso(r.created_at)!,
      expiresAt: iso(r.expires_at)!,
      resetAt: iso(r.reset_at),
      revokedAt: iso(r.revoked_at),
      revokedReason: r.revoked_reason,
      lastUsedAt: iso(r.last_used_at),
      graceUntil: r.status === 'active' && r.prev_hash && r.prev_valid_until && r.prev_valid_until > now ? iso(r.prev_valid_until) : null,
      tampered: this.keyTampered(r),
    }
  }

  private ownerRow(name: string): OwnerRow | undefined {
    return this.db.prepare('SELECT * FROM owners WHERE name = ?').get(name) as OwnerRow | undefined
  }

  private requireOwner(raw: string): OwnerRow {
    const name = normalizeName(raw, 'owner', 'Owner')
    const o = this.ownerRow(name)
    if (!o) throw new KeydeskError('not_found', `Owner "${name}" does not exist; add it first (keydesk owner add).`, 'owner')
    if (!this.crypto.macOk(ownerMacData(o), o.mac))
      throw new KeydeskError('tampered', `Owner "${name}" was edited outside KeyDesk (its MAC does not match); refusing to use it.`, 'owner')
    return o
  }

  private insertOwner(name: string, kind: OwnerKind): OwnerRow {
    const created = this.now()
    const mac = this.crypto.mac(ownerMacData({ name, kind, disabled_at: null }))
    const info = this.db.prepare('INSERT INTO owners (name, kind, created_at, disabled_at, mac) VALUES (?, ?, ?, NULL, ?)').run(name, kind, created, mac)
    this.audit('owner.add', name, { kind })
    return { id: Number(info.lastInsertRowid), name, kind, created_at: created, disabled_at: null, mac }
  }

  /** The owner for a new key: the named one, or the OS user (created on first use). */
  private ownerForCreate(raw: string | undefined): OwnerRow {
    if (raw !== undefined && raw.trim() !== '') return this.requireOwner(raw)
    const name = normalizeName(this.actor, 'owner', 'Owner')
    const o = this.ownerRow(name)
    if (o) return this.requireOwner(name)
    return this.insertOwner(name, 'user')
  }

  private keyRowById(id: number): KeyRow {
    return this.db.prepare(`SELECT ${KEY_COLUMNS} FROM ${KEY_FROM} WHERE k.id = ?`).get(id) as KeyRow
  }

  private writeKeyMac(id: number): void {
    const r = this.keyRowById(id)
    this.db.prepare('UPDATE keys SET mac = ? WHERE id = ?').run(this.crypto.mac(keyMacData(macFieldsOf(r))), id)
  }

  /** Find one key by access ID or by name (optionally within an owner). */
  private resolve(ref: string, ownerRaw?: string): KeyRow {
    if (typeof ref !== 'string' || ref.trim() === '') throw invalid('key', 'Give a key by its access ID or name.')
    const now = this.now()
    if (isAccessId(ref.trim())) {
      const r = this.db.prepare(`SELECT ${KEY_COLUMNS} FROM ${KEY_FROM} WHERE k.access_id = ?`).get(ref.trim()) as KeyRow | undefined
      if (!r) throw new KeydeskError('not_found', `No key has access ID ${ref.trim()}.`, 'key')
      return r
    }
    // A pasted secret is not a name: refuse it without echoing it into an error (and so into logs).
    if (/^kdsk_[0-9A-Za-z]{30,}$/.test(ref.trim()))
      throw invalid('key', 'That is an access key (the secret), not an access ID or a name; give the key by its access ID (kdid_…) or name.')
    const name = normalizeName(ref, 'key', 'Key name')
    let rows = this.db.prepare(`SELECT ${KEY_COLUMNS} FROM ${KEY_FROM} WHERE k.name = ? ORDER BY k.id DESC LIMIT 200`).all(name) as KeyRow[]
    if (ownerRaw !== undefined) {
      const owner = this.requireOwner(ownerRaw)
      rows = rows.filter((r) => r.owner_id === owner.id)
    }
    if (rows.length === 0) throw new KeydeskError('not_found', `No key is named "${name}"${ownerRaw ? ` for owner "${ownerRaw.trim()}"` : ''}.`, 'key')
    const owners = [...new Set(rows.map((r) => r.owner))]
    if (owners.length > 1)
      throw new KeydeskError(
        'conflict',
        `The name "${name}" matches keys of several owners: ${rows.slice(0, 10).map((r) => `${r.owner} (${r.access_id})`).join(', ')}. Give the access ID or --owner.`,
        'key',
      )
    const live = rows.filter((r) => r.status === 'active' && r.expires_at > now)
    return live[0] ?? rows[0]!
  }

  private resolveExpiry(input: { expiresIn?: string; expiresAt?: string }, policy: Policy, now: number): number {
    if (input.expiresIn !== undefined && input.expiresAt !== undefined)
      throw invalid('expiresAt', 'Give either an expiry duration or an expiry date, not both.')
    let at: number
    if (input.expiresIn !== undefined && input.expiresIn.trim() !== '') at = now + parseDuration(input.expiresIn, 'expiresIn')
    else if (input.expiresAt !== undefined && input.expiresAt.trim() !== '') at = parseInstant(input.expiresAt, 'expiresAt')
    else at = now + policy.defaultExpiryDays * DAY_MS
    const field = input.expiresAt ? 'expiresAt' : 'expiresIn'
    if (at <= now) throw invalid(field, 'Expiry must be in the future.')
    if (at > now + policy.maxKeyAgeDays * DAY_MS)
      throw new KeydeskError('policy', `Expiry is past the policy's maximum key age of ${policy.maxKeyAgeDays} days (latest allowed: ${iso(now + policy.maxKeyAgeDays * DAY_MS)}).`, field)
    return at
  }

  // ───────────────────────────── health ─────────────────────────────

  health(): StoreHealth {
    return {
      dataDir: this.dataDir,
      dbPath: this.dbPath,
      storeId: getMeta(this.db, 'store_id') ?? '',
      schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
      keychain: this.keychainBackend,
    }
  }

  // ───────────────────────────── owners ─────────────────────────────

  addOwner(rawName: string, kind: OwnerKind = 'user'): OwnerView {
    const name = normalizeName(rawName, 'owner', 'Owner name')
    if (kind !== 'user' && kind !== 'service') throw invalid('kind', 'Owner kind must be "user" or "service".')
    return this.write(() => {
      if (this.ownerRow(name)) throw new KeydeskError('conflict', `Owner "${name}" already exists.`, 'owner')
      this.insertOwner(name, kind)
      return this.ownerView(name)
    })
  }

  listOwners(): OwnerView[] {
    const names = this.db.prepare('SELECT name FROM owners ORDER BY name').pluck().all() as string[]
    return names.map((n) => this.ownerView(n))
  }

  private ownerView(name: string): OwnerView {
    const o = this.ownerRow(name)!
    const now = this.now()
    const c = this.db
      .prepare(
        `SELECT coalesce(sum(status = 'active' AND expires_at > @now), 0) AS active,
                coalesce(sum(status = 'active' AND expires_at <= @now), 0) AS expired,
                coalesce(sum(status = 'revoked'), 0) AS revoked
         FROM keys WHERE owner_id = @id`,
      )
      .get({ now, id: o.id }) as { active: number; expired: number; revoked: number }
    return {
      name: o.name,
      kind: o.kind,
      createdAt: iso(o.created_at)!,
      disabledAt: iso(o.disabled_at),
      tampered: !this.crypto.macOk(ownerMacData(o), o.mac),
      keys: c,
    }
  }

  disableOwner(rawName: string): OwnerView {
    return this.write(() => {
      const o = this.requireOwner(rawName)
      if (o.disabled_at !== null) throw new KeydeskError('conflict', `Owner "${o.name}" is already disabled.`, 'owner')
      const keys = this.setOwnerDisabledAt(o, this.now())
      this.audit('owner.disable', o.name, { keys })
      return this.ownerView(o.name)
    })
  }

  /** Undo a disable: the owner's unrevoked, unexpired keys verify again. */
  enableOwner(rawName: string): OwnerView {
    return this.write(() => {
      const o = this.requireOwner(rawName)
      if (o.disabled_at === null) throw new KeydeskError('conflict', `Owner "${o.name}" is not disabled.`, 'owner')
      const keys = this.setOwnerDisabledAt(o, null)
      this.audit('owner.enable', o.name, { keys })
      return this.ownerView(o.name)
    })
  }

  /** The owner row and every key's MAC'd copy of it (which verify reads). Returns the keys touched. */
  private setOwnerDisabledAt(o: OwnerRow, at: number | null): number {
    this.db.prepare('UPDATE owners SET disabled_at = ?, mac = ? WHERE id = ?').run(at, this.crypto.mac(ownerMacData({ ...o, disabled_at: at })), o.id)
    const ids = this.db.prepare('SELECT id FROM keys WHERE owner_id = ?').pluck().all(o.id) as number[]
    const copy = this.db.prepare('UPDATE keys SET owner_disabled_at = ? WHERE id = ?')
    for (const id of ids) {
      copy.run(at, id)
      this.writeKeyMac(id)
    }
    return ids.length
  }

  revokeOwnerKeys(rawName: string, reason?: string): { owner: string; revoked: number } {
    const why = normalizeReason(reason)
    return this.write(() => {
      const o = this.requireOwner(rawName)
      const ids = this.db.prepare(`SELECT id FROM keys WHERE owner_id = ? AND status = 'active'`).pluck().all(o.id) as number[]
      const at = this.now()
      for (const id of ids) this.markRevoked(id, at, why)
      this.audit('owner.revoke_all', o.name, { revoked: ids.length, reason: why })
      return { owner: o.name, revoked: ids.length }
    })
  }

  // ───────────────────────────── create ─────────────────────────────

  /**
   * Issue one key. With credentialCsv, the credential CSV is staged (0600) before
   * the commit and renamed into place after it; on any failure nothing remains.
   */
  create(input: CreateInput, credentialCsv?: string): IssuedKey {
    const [issued] = this.createMany([input], credentialCsv)
    return issued!
  }

  /** Issue every key or none (bulk import). */
  createMany(inputs: readonly CreateInput[], credentialCsv?: string, rowLabel?: (i: number) => string): IssuedKey[] {
    if (inputs.length === 0) throw invalid('keys', 'Nothing to create.')
    const scopesList = inputs.map((inp, i) => withRow(rowLabel, i, () => normalizeScopes(inp.scopes)))
    const descriptions = inputs.map((inp, i) => withRow(rowLabel, i, () => normalizeDescription(inp.description)))
    const explicitNames = inputs.map((inp, i) =>
      withRow(rowLabel, i, () => (inp.name === undefined || inp.name.trim() === '' ? undefined : normalizeName(inp.name))),
    )
    let staged: PendingFile | undefined
    try {
      const issued = this.write(() => {
        const policy = this.getPolicy()
        if (!policy.allowCreation)
          throw new KeydeskError('policy', 'Key creation is turned off by policy (allow-creation = false).')
        const now = this.now()
        const out: IssuedKey[] = []
        const namesSeen = new Set<string>()
        const ownerCache = new Map<string, OwnerRow>()
        const keysPerOwner = new Map<number, number>()
        const insert = this.db.prepare(
          `INSERT INTO keys (access_id, owner_id, owner_name, owner_disabled_at, name, description, scopes, hash, hash_alg, hint, status, created_at, expires_at, mac)
           VALUES (@access_id, @owner_id, @owner_name, @owner_disabled_at, @name, @description, @scopes, @hash, '${HASH_ALG}', @hint, 'active', @created_at, @expires_at, @mac)`,
        )
        const insertScope = this.db.prepare('INSERT INTO key_scopes (scope, key_id) VALUES (?, ?)')
        const liveName = this.db.prepare(
          // INDEXED BY: without statistics the planner would scan every live key through keys_status_expires.
          `SELECT 1 FROM keys INDEXED BY keys_owner_name WHERE owner_id = ? AND name = ? AND status = 'active' AND expires_at > ? LIMIT 1`,
        )
        const ownerCount = this.db.prepare('SELECT count(*) FROM keys WHERE owner_id = ?').pluck()
        inputs.forEach((inp, i) =>
          withRow(rowLabel, i, () => {
            const ownerKey = inp.owner?.trim() ?? ''
            let owner = ownerCache.get(ownerKey)
            if (!owner) ownerCache.set(ownerKey, (owner = this.ownerForCreate(inp.owner)))
            if (owner.disabled_at !== null) throw new KeydeskError('policy', `Owner "${owner.name}" is disabled; it cannot get new keys.`, 'owner')
            const expiresAt = this.resolveExpiry(inp, policy, now)
            // Counted once per owner per call (a count per row would make bulk issue quadratic),
            // then kept up to date as this batch adds rows.
            let count = keysPerOwner.get(owner.id)
            if (count === undefined) count = ownerCount.get(owner.id) as number
            if (count >= policy.maxKeysPerOwner)
              throw new KeydeskError(
                'policy',
                `Owner "${owner.name}" has ${count} keys, the policy's maximum (${policy.maxKeysPerOwner}, counting active, expired and revoked keys). Purge old keys or raise max-keys-per-owner.`,
                'owner',
              )
            const accessId = newAccessId()
            const name = explicitNames[i] ?? `key-${accessId.slice(5, 13)}`
            const seenKey = `${owner.id}\u0000${name}`
            if (liveName.get(owner.id, name, now) || namesSeen.has(seenKey))
              throw new KeydeskError('conflict', `Owner "${owner.name}" already has a live key named "${name}"; names are unique per owner until the key is revoked or expires.`, 'name')
            namesSeen.add(seenKey)
            keysPerOwner.set(owner.id, count + 1)
            const accessKey = newAccessKey()
            const scopes = scopesList[i]!.join(' ')
            const row = {
              access_id: accessId,
              owner_id: owner.id,
              owner_name: owner.name,
              owner_disabled_at: null,
              name,
              description: descriptions[i]!,
              scopes,
              hash: this.crypto.hashKey(accessKey),
              hint: keyHint(accessKey),
              prev_hash: null,
              prev_valid_until: null,
              status: 'active',
              created_at: now,
              expires_at: expiresAt,
              revoked_at: null,
            }
            const info = insert.run({ ...row, mac: this.crypto.mac(keyMacData(row)) })
            for (const s of scopesList[i]!) insertScope.run(s, info.lastInsertRowid)
            this.audit('key.create', accessId, { name, owner: owner.name, scopes: scopesList[i], expiresAt: iso(expiresAt) })
            out.push({ accessId, accessKey, name, owner: owner.name, scopes: scopesList[i]!, expiresAt: iso(expiresAt)! })
          }),
        )
        if (credentialCsv !== undefined) {
          staged = stagePrivateFile(credentialCsv, credentialCsvText(out))
          this.audit('credentials.export', staged.path, { keys: out.length })
        }
        return out
      })
      staged?.commit()
      return issued
    } catch (e) {
      staged?.abort()
      throw e
    }
  }

  /**
   * Bulk issue from a CSV of names; all or nothing. With credentialCsv, one
   * credential CSV is written (the CLI); without it the caller holds the issued
   * keys (the app's one-time handoff) and writes the CSV itself.
   */
  importCsv(csvText: string, credentialCsv?: string): IssuedKey[] {
    const rows = parseImportCsv(csvText)
    return this.createMany(
      rows.map((r) => ({ name: r.name, owner: r.owner, scopes: r.scopes, expiresAt: r.expiresAt, expiresIn: r.expiresIn, description: r.description })),
      credentialCsv,
      (i) => `Row ${rows[i]!.line} of the import CSV`,
    )
  }

  // ───────────────────────────── read ─────────────────────────────

  get(ref: string, owner?: string): KeyView {
    return this.toView(this.resolve(ref, owner))
  }

  /** WHERE clause (and FTS join) for a key query; shared by list and revokeMatching. */
  private queryWhere(q: KeyQuery, now: number): { whereSql: string; ftsJoin: string; params: Record<string, unknown> } {
    const where: string[] = []
    const params: Record<string, unknown> = { now }
    const status = q.status ?? 'all'
    if (status === 'active') where.push(`k.status = 'active' AND k.expires_at > @now`)
    else if (status === 'expired') where.push(`k.status = 'active' AND k.expires_at <= @now`)
    else if (status === 'revoked') where.push(`k.status = 'revoked'`)
    else if (status !== 'all') throw invalid('status', 'Status must be one of all, active, expired, revoked.')
    if (q.owner !== undefined && q.owner.trim() !== '') {
      const o = this.ownerRow(normalizeName(q.owner, 'owner', 'Owner'))
      if (!o) throw new KeydeskError('not_found', `Owner "${q.owner.trim()}" does not exist.`, 'owner')
      where.push('k.owner_id = @ownerId')
      params.ownerId = o.id
    }
    if (q.scope !== undefined && q.scope.trim() !== '') {
      const [scope] = normalizeScopes([q.scope])
      where.push('k.id IN (SELECT key_id FROM key_scopes WHERE scope = @scope)')
      params.scope = scope
    }
    if (q.expiringWithinDays !== undefined) {
      const d = q.expiringWithinDays
      if (!Number.isInteger(d) || d < 0 || d > 3650) throw invalid('expiringWithin', 'Expiring-within must be a whole number of days between 0 and 3650.')
      where.push(`k.status = 'active' AND k.expires_at > @now AND k.expires_at <= @until`)
      params.until = now + d * DAY_MS
    }
    let ftsJoin = ''
    const search = q.search?.normalize('NFC').trim() ?? ''
    if (search.length > 200) throw invalid('search', 'Search text is too long: at most 200 characters.')
    if (search !== '') {
      if (/^kdid_[0-9A-Za-z]*$/.test(search)) {
        // Access-ID prefix: a range scan on the unique index.
        where.push('k.access_id >= @idLo AND k.access_id < @idHi')
        params.idLo = search
        params.idHi = search + '\u007f'
      } else if ([...search].length >= 3) {
        ftsJoin = 'JOIN keys_fts f ON f.rowid = k.id'
        where.push('keys_fts MATCH @fts')
        params.fts = `"${search.replace(/"/g, '""')}"`
      } else {
        where.push(`(k.name LIKE @like ESCAPE '\\' OR k.description LIKE @like ESCAPE '\\')`)
        params.like = `%${search.replace(/[\\%_]/g, (c) => '\\' + c)}%`
      }
    }
    return { whereSql: where.length ? `WHERE ${where.join(' AND ')}` : '', ftsJoin, params }
  }

  list(q: KeyQuery = {}): KeyPage {
    const now = this.now()
    const { whereSql, ftsJoin, params } = this.queryWhere(q, now)
    const order = q.order === 'asc' ? 'ASC' : q.order === 'desc' ? 'DESC' : undefined
    const sortSql: Record<string, string> = {
      created: `k.id ${order ?? 'DESC'}`,
      name: `k.name ${order ?? 'ASC'}, k.id DESC`,
      accessId: `k.access_id ${order ?? 'ASC'}`,
      owner: `o.name ${order ?? 'ASC'}, k.id DESC`,
      status: `CASE WHEN k.status = 'revoked' THEN 2 WHEN k.expires_at <= @now THEN 1 ELSE 0 END ${order ?? 'ASC'}, k.id DESC`,
      expires: `k.expires_at ${order ?? 'ASC'}, k.id DESC`,
      lastUsed: `k.last_used_at ${order ?? 'DESC'} NULLS LAST, k.id DESC`,
    }
    const sort = sortSql[q.sort ?? 'created']
    if (!sort) throw invalid('sort', `Sort must be one of ${Object.keys(sortSql).join(', ')}.`)
    const limit = q.limit ?? 50
    const offset = q.offset ?? 0
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalid('limit', `Limit must be a whole number from 1 to ${MAX_PAGE}.`)
    if (!Number.isInteger(offset) || offset < 0) throw invalid('offset', 'Offset must be a whole number, 0 or more.')
    const rows = this.db
      .prepare(`SELECT ${KEY_COLUMNS} FROM ${KEY_FROM} ${ftsJoin} ${whereSql} ORDER BY ${sort} LIMIT @limit OFFSET @offset`)
      .all({ ...stripUnused(params, whereSql + sort), limit, offset }) as KeyRow[]
    const total = this.db.prepare(`SELECT count(*) FROM keys k ${ftsJoin} ${whereSql}`).pluck().get(stripUnused(params, whereSql)) as number
    return { items: rows.map((r) => this.toView(r, now)), total }
  }

  // ───────────────────────────── reset / revoke ─────────────────────────────

  reset(ref: string, opts: { confirm: string; grace?: string; owner?: string }, credentialCsv?: string): IssuedKey {
    const graceMs = opts.grace === undefined || opts.grace.trim() === '' ? 0 : parseDuration(opts.grace, 'grace')
    if (graceMs > MAX_GRACE_MS) throw invalid('grace', 'Grace period is too long: at most 30 days.')
    let staged: PendingFile | undefined
    try {
      const issued = this.write(() => {
        const r = this.resolve(ref, opts.owner)
        if (typeof opts.confirm !== 'string' || opts.confirm !== r.name)
          throw invalid('confirm', `The confirmation does not match the key's name exactly; type "${r.name}" to reset this key.`)
        if (this.keyTampered(r)) throw new KeydeskError('tampered', `Key ${r.access_id} was edited outside KeyDesk; it cannot be reset. Revoke it and issue a new key.`, 'key')
        if (r.status === 'revoked') throw new KeydeskError('conflict', `Key ${r.access_id} is revoked; a revoked key cannot be reset.`, 'key')
        const now = this.now()
        if (r.expires_at <= now) throw new KeydeskError('conflict', `Key ${r.access_id} has expired; create a new key instead.`, 'key')
        const accessKey = newAccessKey()
        const prevHash = graceMs > 0 ? r.hash : null
        const prevUntil = graceMs > 0 ? Math.min(now + graceMs, r.expires_at) : null
        this.db
          .prepare('UPDATE keys SET hash = ?, hint = ?, prev_hash = ?, prev_valid_until = ?, reset_at = ? WHERE id = ?')
          .run(this.crypto.hashKey(accessKey), keyHint(accessKey), prevHash, prevUntil, now, r.id)
        this.writeKeyMac(r.id)
        this.audit('key.reset', r.access_id, { name: r.name, owner: r.owner, graceUntil: iso(prevUntil) })
        const out: IssuedKey = { accessId: r.access_id, accessKey, name: r.name, owner: r.owner, scopes: r.scopes ? r.scopes.split(' ') : [], expiresAt: iso(r.expires_at)! }
        if (credentialCsv !== undefined) {
          staged = stagePrivateFile(credentialCsv, credentialCsvText([out]))
          this.audit('credentials.export', staged.path, { keys: 1 })
        }
        return out
      })
      staged?.commit()
      return issued
    } catch (e) {
      staged?.abort()
      throw e
    }
  }

  private markRevoked(id: number, at: number, reason: string | null): void {
    this.db.prepare(`UPDATE keys SET status = 'revoked', revoked_at = ?, revoked_reason = ? WHERE id = ?`).run(at, reason, id)
    this.writeKeyMac(id)
  }

  /** Revoke one or many keys; all or nothing. */
  revoke(refs: readonly string[], reason?: string, owner?: string): KeyView[] {
    if (refs.length === 0) throw invalid('keys', 'Name at least one key to revoke.')
    if (refs.length > 100_000) throw invalid('keys', 'Too many keys at once: at most 100 000.')
    const why = normalizeReason(reason)
    return this.write(() => {
      const now = this.now()
      const rows = refs.map((ref) => this.resolve(ref, owner))
      const seen = new Set<number>()
      for (const r of rows) {
        if (r.status === 'revoked') throw new KeydeskError('conflict', `Key ${r.access_id} ("${r.name}") is already revoked.`, 'key')
        if (seen.has(r.id)) throw invalid('keys', `Key ${r.access_id} is listed twice.`)
        seen.add(r.id)
      }
      for (const r of rows) {
        this.markRevoked(r.id, now, why)
        this.audit('key.revoke', r.access_id, { name: r.name, owner: r.owner, reason: why })
      }
      return rows.map((r) => this.toView(this.keyRowById(r.id), now))
    })
  }

  /**
   * Revoke every not-yet-revoked key a query matches ("select all" on a filtered
   * view). Refused if the count differs from what the admin was shown.
   */
  revokeMatching(q: Omit<KeyQuery, 'offset' | 'limit' | 'sort' | 'order'>, expectedCount: number, reason?: string): { revoked: number } {
    const why = normalizeReason(reason)
    return this.write(() => {
      const now = this.now()
      const { whereSql, ftsJoin, params } = this.queryWhere(q, now)
      const cond = `${whereSql ? whereSql + ' AND' : 'WHERE'} k.status = 'active'`
      const sql = `SELECT k.id, k.access_id AS accessId, k.name, o.name AS owner FROM ${KEY_FROM} ${ftsJoin} ${cond}`
      const rows = this.db.prepare(sql).all(stripUnused(params, sql)) as { id: number; accessId: string; name: string; owner: string }[]
      if (rows.length !== expectedCount)
        throw new KeydeskError('conflict', `The selection changed: ${rows.length} keys now match, not ${expectedCount}. Nothing was revoked; review the list and try again.`, 'keys')
      for (const r of rows) {
        this.markRevoked(r.id, now, why)
        this.audit('key.revoke', r.accessId, { name: r.name, owner: r.owner, reason: why })
      }
      return { revoked: rows.length }
    })
  }

  // ───────────────────────────── verify ─────────────────────────────

  private verifyByHash?: Statement
  private verifyByPrev?: Statement

  /**
   * Is this key valid? Malformed and wrong-checksum keys are rejected before any
   * lookup. The key is found by its HMAC through a unique index, so the work done
   * does not depend on how close a guess is. Failures differ only in reason.
   */
  verify(input: { accessKey: string; accessId?: string }): VerifyResult {
    const key = typeof input.accessKey === 'string' ? input.accessKey.trim() : ''
    if (!isWellFormedAccessKey(key)) return { valid: false, reason: 'malformed' }
    if (input.accessId !== undefined && !isAccessId(input.accessId)) return { valid: false, reason: 'malformed' }
    const hash = this.crypto.hashKey(key)
    const now = this.now()
    this.verifyByHash ??= this.db.prepare(VERIFY_BY_HASH).raw(true)
    let r = this.verifyByHash.get(hash) as VerifyRow | undefined
    let viaGrace = false
    if (r) r[3] = hash
    else {
      this.verifyByPrev ??= this.db.prepare(VERIFY_BY_PREV).raw(true)
      r = this.verifyByPrev.get(hash) as VerifyRow | undefined
      if (r) r[4] = hash
      viaGrace = true
    }
    if (!r) return { valid: false, reason: input.accessId !== undefined && this.accessIdExists(input.accessId) ? 'mismatch' : 'unknown' }
    const [id, accessId, , , , prevUntil, scopes, status, , expiresAt, , , lastUsedAt, , owner, ownerDisabledAt] = r
    if (input.accessId !== undefined && input.accessId !== accessId) return { valid: false, reason: 'mismatch' }
    if (!this.keyRowAuthentic(r)) return { valid: false, reason: 'tampered' }
    if (viaGrace && !(prevUntil !== null && prevUntil > now)) return { valid: false, reason: input.accessId !== undefined ? 'mismatch' : 'unknown' }
    if (status === 'revoked') return { valid: false, reason: 'revoked' }
    if (expiresAt <= now) return { valid: false, reason: 'expired' }
    if (ownerDisabledAt !== null) return { valid: false, reason: 'owner_disabled' }
    this.noteUsed(id, lastUsedAt, now)
    return { valid: true, accessId, owner, scopes: scopes ? scopes.split(' ') : [] }
  }

  /**
   * The key row's MAC, with a bounded memo of rows already proven authentic: a row
   * whose MAC'd fields and MAC equal, field for field, one verified before needs no
   * new HMAC. Any edit changes a field or the MAC and takes the full path.
   */
  private keyRowAuthentic(r: VerifyRow): boolean {
    const seen = this.macMemo.get(r[0])
    if (seen !== undefined && sameVerifiedFields(seen, r)) return true
    const [, accessId, name, hash, prevHash, prevUntil, scopes, status, createdAt, expiresAt, revokedAt, mac, , ownerId, ownerName, ownerDisabledAt] = r
    const data = keyMacData({
      access_id: accessId, owner_id: ownerId, owner_name: ownerName, owner_disabled_at: ownerDisabledAt, name, hash: hash!,
      prev_hash: prevHash, prev_valid_until: prevUntil, scopes, status, created_at: createdAt, expires_at: expiresAt, revoked_at: revokedAt,
    })
    if (!this.crypto.macOk(data, mac)) return false
    if (this.macMemo.size >= MAC_MEMO_MAX) this.macMemo.delete(this.macMemo.keys().next().value!)
    this.macMemo.set(r[0], r)
    return true
  }

  private readonly macMemo = new Map<number, VerifyRow>()

  /**
   * The floor `npm run bench` compares verify to: the same HMAC and the same
   * indexed lookup, and nothing else (no checksum, owner, MAC or status checks).
   */
  verifyFloor(accessKey: string): boolean {
    this.verifyByHash ??= this.db.prepare(VERIFY_BY_HASH).raw(true)
    return this.verifyByHash.get(this.crypto.hashKey(accessKey)) !== undefined
  }

  private accessIdExists(accessId: string): boolean {
    return this.db.prepare('SELECT 1 FROM keys WHERE access_id = ?').get(accessId) !== undefined
  }

  /**
   * Last-used is recorded at most once a minute per key. verify never writes: this
   * only queues; flushLastUsed() (a timer in the caller, and close) writes the batch.
   */
  private noteUsed(id: number, lastUsedAt: number | null, now: number): void {
    if (lastUsedAt !== null && now - lastUsedAt < LAST_USED_RESOLUTION_MS) return
    if (this.lastUsedPending.has(id)) return
    this.lastUsedPending.set(id, now)
  }

  /**
   * Write pending last-used times, at most maxRows of them (oldest first), and
   * return how many are still pending. Failures (e.g. a busy store) keep them for
   * the next try. A caller on an event loop (keydesk serve) writes in slices so no
   * single write holds the loop for long.
   */
  flushLastUsed(maxRows = Number.POSITIVE_INFINITY): number {
    if (this.lastUsedPending.size === 0) return 0
    const pending: [number, number][] = []
    for (const e of this.lastUsedPending) {
      if (pending.length >= maxRows) break
      pending.push(e)
    }
    // Runs on verify's path (and keydesk serve's event loop): wait briefly for a
    // writer that holds the lock, not the full busy timeout; try again next time.
    this.db.pragma(`busy_timeout = ${LAST_USED_BUSY_MS}`)
    try {
      const upd = this.db.prepare('UPDATE keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?')
      this.db.transaction(() => {
        for (const [id, at] of pending) upd.run(at, id)
      }).immediate()
      for (const [id] of pending) this.lastUsedPending.delete(id)
    } catch {
      // Informational only; retried on the next flush.
    } finally {
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    }
    return this.lastUsedPending.size
  }

  // ───────────────────────────── policy ─────────────────────────────

  getPolicy(): Policy {
    const raw = getMeta(this.db, 'policy')
    const mac = getMeta(this.db, 'policy_mac')
    if (raw === undefined || mac === undefined) throw new KeydeskError('tampered', 'The policy is missing from the key store; it was edited outside KeyDesk.')
    let p: Policy | undefined
    try {
      p = JSON.parse(raw) as Policy
    } catch {
      p = undefined // unreadable JSON is an edit like any other
    }
    if (p === null || typeof p !== 'object' || !this.crypto.macOk(policyMacData(p), Buffer.from(mac, 'hex')))
      throw new KeydeskError('tampered', 'The policy in the key store was edited outside KeyDesk (its MAC does not match); refusing to use it.')
    return p
  }

  setPolicy(changes: Partial<Policy>): Policy {
    return this.write(() => {
      const before = this.getPolicy()
      const next = validatePolicy({ ...before, ...changes })
      writePolicy(this.db, this.crypto, next)
      const changed = Object.fromEntries(
        (Object.keys(next) as (keyof Policy)[]).filter((k) => next[k] !== before[k]).map((k) => [k, { from: before[k], to: next[k] }]),
      )
      this.audit('policy.set', 'policy', changed)
      return next
    })
  }

  /** What-if: which existing keys and owners a proposed policy would catch. */
  previewPolicy(changes: Partial<Policy>): PolicyPreview {
    const p = validatePolicy({ ...this.getPolicy(), ...changes })
    const now = this.now()
    const ageWhere = `k.status = 'active' AND k.expires_at > @now AND k.expires_at - k.created_at > @maxAge`
    const params = { now, maxAge: p.maxKeyAgeDays * DAY_MS }
    const keysOverMaxAge = this.db.prepare(`SELECT count(*) FROM keys k WHERE ${ageWhere}`).pluck().get(params) as number
    const sample = (this.db.prepare(`SELECT ${KEY_COLUMNS} FROM ${KEY_FROM} WHERE ${ageWhere} ORDER BY k.expires_at DESC LIMIT 100`).all(params) as KeyRow[]).map((r) =>
      this.toView(r, now),
    )
    const ownersOverCap = this.db
      .prepare('SELECT o.name AS owner, count(*) AS keys FROM keys k JOIN owners o ON o.id = k.owner_id GROUP BY k.owner_id HAVING count(*) > ? ORDER BY keys DESC LIMIT 100')
      .all(p.maxKeysPerOwner) as { owner: string; keys: number }[]
    const keysPurgeable = this.db.prepare(`SELECT count(*) FROM keys WHERE ${PURGE_WHERE}`).pluck().get({ cutoff: now - p.retentionDays * DAY_MS }) as number
    return { keysOverMaxAge, ownersOverCap, keysPurgeable, sample }
  }

  /** Delete revoked and expired keys older than the retention period. */
  purge(): { purged: number } {
    return this.write(() => {
      const p = this.getPolicy()
      const cutoff = this.now() - p.retentionDays * DAY_MS
      const info = this.db.prepare(`DELETE FROM keys WHERE ${PURGE_WHERE}`).run({ cutoff })
      this.audit('keys.purge', 'keys', { purged: info.changes, retentionDays: p.retentionDays })
      return { purged: info.changes }
    })
  }

  // ───────────────────────────── audit ─────────────────────────────

  listAudit(q: { action?: string; target?: string; beforeId?: number; limit?: number } = {}): AuditEntry[] {
    const where: string[] = []
    const params: Record<string, unknown> = { limit: Math.min(Math.max(q.limit ?? 100, 1), MAX_PAGE) }
    if (q.action) { where.push('action = @action'); params.action = q.action }
    if (q.target) { where.push('target LIKE @target'); params.target = `%${q.target.replace(/[\\%_]/g, (c) => '\\' + c)}%`; where[where.length - 1] += ` ESCAPE '\\'` }
    if (q.beforeId !== undefined) { where.push('id < @beforeId'); params.beforeId = q.beforeId }
    const rows = this.db
      .prepare(`SELECT id, at, actor, action, target, detail FROM audit ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT @limit`)
      .all(params) as { id: number; at: number; actor: string; action: string; target: string; detail: string }[]
    return rows.map((r) => ({ id: r.id, at: iso(r.at)!, actor: r.actor, action: r.action, target: r.target, detail: JSON.parse(r.detail) as Record<string, unknown> }))
  }

  /** Walk the chain from the first entry; report the first broken link. */
  verifyAudit(): AuditCheck {
    let prev: Buffer = Buffer.alloc(32)
    let expected = 1
    let checked = 0
    const it = this.db.prepare('SELECT id, at, actor, action, target, detail, prev_hash, hash, mac FROM audit ORDER BY id').iterate() as IterableIterator<{
      id: number; at: number; actor: string; action: string; target: string; detail: string; prev_hash: Buffer; hash: Buffer; mac: Buffer
    }>
    for (const r of it) {
      if (r.id !== expected) return { ok: false, checked, brokenAt: expected, problem: `entry ${expected} is missing` }
      if (!r.prev_hash.equals(prev)) return { ok: false, checked, brokenAt: r.id, problem: `entry ${r.id} does not link to entry ${r.id - 1}` }
      const hash = sha256(Buffer.concat([prev, Buffer.from(JSON.stringify([r.id, r.at, r.actor, r.action, r.target, r.detail]))]))
      if (!hash.equals(r.hash) || !this.crypto.macOk(hash, r.mac)) return { ok: false, checked, brokenAt: r.id, problem: `entry ${r.id} was altered` }
      prev = r.hash
      expected++
      checked++
    }
    const head = getMeta(this.db, 'audit_head')
    const headMac = getMeta(this.db, 'audit_head_mac')
    if (head === undefined || headMac === undefined || !this.crypto.macOk(`audit-head:${head}`, Buffer.from(headMac, 'hex')))
      return { ok: false, checked, brokenAt: checked + 1, problem: `the record of the log's last entry is missing or was edited (the log holds ${checked} entries)` }
    if (head !== `${checked}:${prev.toString('hex')}`)
      return { ok: false, checked, brokenAt: checked + 1, problem: `the log ends at entry ${checked} but its recorded head is entry ${head.split(':')[0]}` }
    return { ok: true, checked }
  }

  // ───────────────────────────── export / backup ─────────────────────────────

  /** Inventory CSV: every key, no secrets, no hashes. Written in pages. */
  exportInventory(target: string): { path: string; rows: number } {
    const it = this.db.prepare(`SELECT ${KEY_COLUMNS} FROM ${KEY_FROM} ORDER BY k.id`).iterate() as IterableIterator<KeyRow>
    const now = this.now()
    const parts: string[] = [toCsv(INVENTORY_FIELDS, [])]
    let rows = 0
    let batch: unknown[][] = []
    const flush = () => {
      if (batch.length) parts.push(toCsv(INVENTORY_FIELDS, batch, false))
      batch = []
    }
    for (const r of it) {
      const v = this.toView(r, now)
      batch.push([v.name, v.accessId, v.owner, v.tampered ? 'tampered' : v.status, v.scopes.join(' '), v.description, v.createdAt, v.expiresAt, v.lastUsedAt ?? '', v.revokedAt ?? ''])
      rows++
      if (batch.length === 5000) flush()
    }
    flush()
    const path = writePrivateFile(target, parts.join(''))
    this.write(() => this.audit('inventory.export', path, { rows }))
    return { path, rows }
  }

  exportAudit(target: string): { path: string; rows: number } {
    const rows = (this.db.prepare('SELECT id, at, actor, action, target, detail FROM audit ORDER BY id').all() as {
      id: number; at: number; actor: string; action: string; target: string; detail: string
    }[]).map((r) => [r.id, iso(r.at), r.actor, r.action, r.target, r.detail])
    const path = writePrivateFile(target, toCsv(AUDIT_FIELDS, rows))
    this.write(() => this.audit('audit.export', path, { rows: rows.length }))
    return { path, rows: rows.length }
  }

  /** Online backup to a new file (owner-only). */
  async backup(target: string): Promise<{ path: string }> {
    const path = resolvePath(target)
    if (existsSync(path)) throw invalid('file', `${path} already exists; choose a new file for the backup.`)
    this.flushLastUsed()
    try {
      await this.db.backup(path)
      chmodSync(path, 0o600)
    } catch (e) {
      throw new KeydeskError('invalid_input', `Cannot write the backup to ${path} (${(e as { code?: string }).code ?? 'error'}).`, 'file')
    }
    this.write(() => this.audit('store.backup', path))
    return { path }
  }

  /** Write a credential CSV for keys just issued (used by the app's save dialog). */
  static writeCredentialCsv(target: string, keys: readonly IssuedKey[]): string {
    return writePrivateFile(target, credentialCsvText(keys))
  }

  /** Record that a credential CSV was saved (the app writes it from its handoff). */
  noteCredentialExport(path: string, keys: number): void {
    this.write(() => this.audit('credentials.export', path, { keys }))
  }

  close(): void {
    if (this.closed) return
    this.flushLastUsed()
    this.closed = true
    this.db.close()
  }

  /** For tests and tools that need the raw handle (bench, tamper tests). */
  get database(): Db {
    return this.db
  }

  static readonly schemaVersion = LATEST_VERSION
}

const PURGE_WHERE = `(status = 'revoked' AND revoked_at < @cutoff) OR (status = 'active' AND expires_at < @cutoff)`

export function credentialCsvText(keys: readonly IssuedKey[]): string {
  return toCsv(
    CREDENTIAL_FIELDS,
    keys.map((k) => [k.name, k.accessId, k.accessKey, k.owner, k.scopes.join(' '), k.expiresAt]),
  )
}

function normalizeReason(reason: string | undefined): string | null {
  if (reason === undefined) return null
  const s = reason.normalize('NFC').trim()
  if (s === '') return null
  if ([...s].length > REASON_MAX) throw invalid('reason', `Reason is too long: at most ${REASON_MAX} characters.`)
  if (/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(s)) throw invalid('reason', 'Reason must not contain control or bidirectional-override characters.')
  return s
}

export function validatePolicy(p: Policy): Policy {
  const int = (v: unknown, field: string, min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(field, `${field} must be a whole number from ${min} to ${max}.`)
    return v
  }
  const out: Policy = {
    maxKeyAgeDays: int(p.maxKeyAgeDays, 'max-key-age-days', 1, 3650),
    maxKeysPerOwner: int(p.maxKeysPerOwner, 'max-keys-per-owner', 1, 1_000_000),
    defaultExpiryDays: int(p.defaultExpiryDays, 'default-expiry-days', 1, 3650),
    allowCreation: p.allowCreation,
    retentionDays: int(p.retentionDays, 'retention-days', 0, 36500),
  }
  if (typeof out.allowCreation !== 'boolean') throw invalid('allow-creation', 'allow-creation must be true or false.')
  if (out.defaultExpiryDays > out.maxKeyAgeDays)
    throw invalid('default-expiry-days', `default-expiry-days (${out.defaultExpiryDays}) cannot exceed max-key-age-days (${out.maxKeyAgeDays}).`)
  return out
}

function withRow<T>(label: ((i: number) => string) | undefined, i: number, fn: () => T): T {
  if (!label) return fn()
  try {
    return fn()
  } catch (e) {
    if (e instanceof KeydeskError) throw new KeydeskError(e.kind, `${label(i)}: ${e.message}`, e.field)
    throw e
  }
}

function stripUnused(params: Record<string, unknown>, sql: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([k]) => sql.includes('@' + k)))
}

function safeUsername(): string {
  try {
    return userInfo().username || 'admin'
  } catch {
    return process.env.USER || 'admin'
  }
}
