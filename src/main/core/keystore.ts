/**
 * The key store: opening (keychain entry, upgrade, anchor), and one facade over the
 * domain services (owners, keys, verify, policy, audit, integrity, inventory) so the
 * CLI, `keydesk serve`, the API handlers and the tests keep one entry point. Rules
 * live in the services; SQL lives in the storage adapter.
 */
import { randomUUID } from 'node:crypto'
import { closeSync, existsSync, fsyncSync, linkSync, openSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs'
import { userInfo } from 'node:os'
import { basename, dirname, join, resolve as resolvePath } from 'node:path'
import Database from 'better-sqlite3'
import { DB_FILE, openDatabase, LATEST_VERSION } from './db'
import { KeydeskError, invalid } from './errors'
import { KEYCHAIN_SERVICE, keytarKeychain, type KeychainPort } from './keychain'
import { StoreCrypto, decodeKeyMaterial, encodeKeyMaterial, newKeyMaterial } from './crypto'
import { iso } from './duration'
import { AUDIT_FIELDS, INVENTORY_FIELDS, toCsv } from './csv'
import { checkTarget, writePrivateFile } from './files'
import { SqliteStorage } from './storage/sqlite'
import { openPostgres } from './storage/postgres'
import { openGateway, type GatewayOptions } from './storage/gateway'
import type { StoragePort } from './storage/port'
import { ServiceContext } from './services/context'
import { AuditService, ZERO_HASH } from './services/audit'
import { OwnerService } from './services/owners'
import { PolicyService, validatePolicy } from './services/policy'
import { InventoryService } from './services/inventory'
import { KeyService, credentialCsvText, type PreviousChoice } from './services/keys'
import { VerifyService } from './services/verify'
import { AnchorKeeper, IntegrityService, anchorAccount, decodeAnchor, fingerprintV2, upgradeMacs } from './services/integrity'
import {
  DEFAULT_POLICY,
  type AuditCheck,
  type AuditEntry,
  type CreateInput,
  type IssuedKey,
  type KeyChanges,
  type KeyMatch,
  type KeyPage,
  type KeyQuery,
  type KeyView,
  type OwnerKind,
  type OwnerView,
  type Policy,
  type PolicyPreview,
  type ReminderDue,
  type StoreCheck,
  type StoreHealth,
  type VerifyResult,
} from './types'

export { credentialCsvText, validatePolicy }

export interface OpenOptions {
  /** The local store's directory (ignored when `store` names a team database). */
  dataDir: string
  /** A team store: postgres://… (or postgresql://…). Default: the SQLite store in dataDir. */
  store?: string
  /** Create the team store's tables in an empty database (keydesk team init only). */
  initTeam?: boolean
  /** A gateway (keydesk serve) on a team store: cached verify rows that follow the change feed, a bounded life offline. */
  gateway?: GatewayOptions
  keychain?: KeychainPort
  /** Who is acting, for the audit log; defaults to the OS user. */
  actor?: string
  /** Clock, for tests. */
  now?: () => number
  /** Memory-mapped reads: faster verify on large stores, at the cost of resident memory. For keydesk serve and services. */
  mmap?: boolean
  /**
   * The local store's page cache, KiB. A one-shot process (a CLI command) passes
   * SQLite's own 2 MiB: every page a scan reads into a fresh, larger cache costs a
   * page fault, and a count over 1 000 000 keys took 60 ms with 16 MiB against
   * 17 ms with 2 MiB. Long-lived processes keep the larger default, which they reuse.
   */
  pageCacheKiB?: number
  /** Create the store if there is none (write commands; default true). Read commands pass false: a store is never invented. */
  create?: boolean
  /** The app's user-data dir holds the app's own files too. */
  allowNonEmptyDir?: boolean
}

function safeUsername(): string {
  try {
    return userInfo().username || 'admin'
  } catch {
    return process.env.USER || 'admin'
  }
}

export const isTeamStoreUrl = (s: string | undefined): s is string => s !== undefined && /^postgres(ql)?:\/\//i.test(s)

/** The keychain entry: loaded (and checked against the store's fingerprint), or created on first use. */
async function loadOrInitKeychain(storage: StoragePort, keychain: KeychainPort, path: string, mayInit: boolean): Promise<{ crypto: StoreCrypto; storeId: string; fresh: boolean }> {
  const storeId0 = storage.getMeta('store_id')
  const fp0 = storage.getMeta('keychain_fingerprint')
  if (storeId0 && fp0) return { crypto: await loadKeychain(keychain, storeId0, fp0, storage, path), storeId: storeId0, fresh: false }
  // First use. Hold the write lock while we talk to the keychain, so concurrent first runs agree on one entry.
  storage.begin()
  try {
    const storeId1 = storage.getMeta('store_id')
    const fp1 = storage.getMeta('keychain_fingerprint')
    if (storeId1 && fp1) {
      storage.commit()
      return { crypto: await loadKeychain(keychain, storeId1, fp1, storage, path), storeId: storeId1, fresh: false }
    }
    if (storage.hasAnyData())
      throw new KeydeskError('tampered', `The key store at ${path} holds keys but no record of its keychain entry; it was edited outside KeyDesk. Restore it from a backup.`)
    // A team store gets its identity only from keydesk team init: empty tables without one are an init that did not finish.
    if (!mayInit)
      throw new KeydeskError('store_unavailable', `The team database at ${path} has KeyDesk's tables but no store identity (keydesk team init did not finish); run keydesk team init --store URL again.`)
    const storeId = storeId1 ?? randomUUID()
    storage.setMeta('store_id', storeId)
    let found = await keychain.get(storeId)
    if (found === null) {
      await keychain.set(storeId, encodeKeyMaterial(newKeyMaterial()))
      found = await keychain.get(storeId)
      if (found === null)
        throw new KeydeskError('keychain_unavailable', 'The OS keychain accepted the store entry but does not return it; check that your keychain is unlocked and persistent.')
    }
    const crypto = new StoreCrypto(decodeKeyMaterial(found))
    const ctx = new ServiceContext(storage, crypto, Date.now, 'keydesk')
    storage.setMeta('keychain_fingerprint', fingerprintV2(ctx, storeId))
    storage.setMeta('keychain_service', KEYCHAIN_SERVICE)
    storage.setMeta('keychain_backend', keychain.backend)
    storage.setMeta('created_at', String(Date.now()))
    storage.setMeta('mac_version', '2')
    ctx.audit = new AuditService(ctx)
    new PolicyService(ctx).write(DEFAULT_POLICY, 0)
    // Pin the empty audit log, so wiping a later log together with its head is detected.
    ctx.audit.writeHead({ id: 0, hash: ZERO_HASH, retired: 0, revocations: 0 })
    storage.commit()
    return { crypto, storeId, fresh: true }
  } catch (e) {
    storage.rollback()
    throw e
  }
}

async function loadKeychain(keychain: KeychainPort, storeId: string, fingerprint: string, storage: StoragePort, path: string): Promise<StoreCrypto> {
  const entry = await keychain.get(storeId)
  if (entry === null)
    throw new KeydeskError(
      'keychain_unavailable',
      `The OS keychain has no entry for the key store at ${path} (service "${KEYCHAIN_SERVICE}", account ${storeId}). ` +
        'KeyDesk will not create a new one, because every existing key would stop verifying: restore the entry (or restore the store that matches your keychain).',
    )
  const crypto = new StoreCrypto(decodeKeyMaterial(entry))
  // Version 2 covers pepper and MAC key; a store not yet upgraded still has the version-1 one (checked in upgradeMacs).
  const v2 = fingerprintV2({ crypto }, storeId)
  if (storage.getMeta('mac_version') === '2' ? fingerprint !== v2 : fingerprint !== crypto.fingerprint(storeId))
    throw new KeydeskError(
      'keychain_unavailable',
      `The OS keychain entry for the key store at ${path} (account ${storeId}) has changed and no longer matches the store; KeyDesk refuses to use it. Restore the original entry.`,
    )
  return crypto
}

/** Open the store in dataDir, with its keychain entry: checked, upgraded if old, and held to its anchor. */
export async function openKeyStore(opts: OpenOptions): Promise<KeyStore> {
  const now = opts.now ?? Date.now
  const keychain = opts.keychain ?? keytarKeychain()
  let storage: StoragePort
  let path: string
  if (isTeamStoreUrl(opts.store)) {
    storage = opts.gateway ? openGateway(opts.store, opts.gateway) : openPostgres(opts.store, { create: opts.initTeam })
    path = storage.location
  } else {
    const opened = openDatabase(opts.dataDir, { mmap: opts.mmap, pageCacheKiB: opts.pageCacheKiB, create: opts.create ?? true, allowNonEmptyDir: opts.allowNonEmptyDir })
    storage = new SqliteStorage(opened.db, opened.path)
    path = opened.path
  }
  try {
    const { crypto, storeId } = await loadOrInitKeychain(storage, keychain, path, storage.engine === 'sqlite' || opts.initTeam === true)
    const store = new KeyStore(storage, crypto, { ...opts, now, keychain, dbPath: path, storeId })
    await store.openChecks()
    return store
  } catch (e) {
    storage.close()
    throw e
  }
}

export class KeyStore {
  readonly actor: string
  readonly dataDir: string
  readonly dbPath: string
  readonly storeId: string
  private readonly ctx: ServiceContext
  private readonly keychain: KeychainPort
  private readonly anchor: AnchorKeeper
  readonly owners: OwnerService
  readonly policy: PolicyService
  readonly inventory: InventoryService
  readonly keys: KeyService
  readonly verifier: VerifyService
  readonly auditLog: AuditService
  readonly integrity: IntegrityService
  private closed = false

  constructor(
    private readonly storage: StoragePort,
    crypto: StoreCrypto,
    opts: OpenOptions & { now: () => number; keychain: KeychainPort; dbPath: string; storeId: string },
  ) {
    this.actor = opts.actor ?? safeUsername()
    this.dataDir = storage.engine === 'sqlite' ? opts.dataDir : storage.location
    this.dbPath = opts.dbPath
    this.storeId = opts.storeId
    this.keychain = opts.keychain
    const ctx = (this.ctx = new ServiceContext(storage, crypto, opts.now, this.actor))
    ctx.audit = this.auditLog = new AuditService(ctx)
    this.owners = new OwnerService(ctx)
    this.policy = new PolicyService(ctx)
    this.inventory = new InventoryService(ctx, this.owners, this.policy)
    this.policy.inventory = this.inventory
    this.keys = new KeyService(ctx, this.owners, this.policy, this.inventory)
    this.owners.keys = this.keys
    ctx.verifier = this.verifier = new VerifyService(ctx)
    this.anchor = new AnchorKeeper(opts.keychain, opts.storeId)
    this.integrity = new IntegrityService(ctx, this.auditLog, this.policy, () => this.readAnchor())
  }

  /** Upgrade old MACs, then the cheap checks every open runs: pinned head, tombstone counts, anchor. */
  async openChecks(): Promise<void> {
    // The version-1 fingerprint (MAC key only) recognises a store from before schema 3.
    upgradeMacs(this.ctx, this.policy, this.storeId, (id) => this.ctx.crypto.fingerprint(id))
    await this.anchor.check(this.ctx, () => this.integrity.openCheck())
    this.ctx.onCommit = (h) => this.anchor.advance(h)
  }

  private async readAnchor() {
    const raw = await this.keychain.get(anchorAccount(this.storeId))
    return raw === null ? null : decodeAnchor(raw)
  }

  // ── health ──
  health(): StoreHealth {
    return { dataDir: this.dataDir, dbPath: this.dbPath, storeId: this.storeId, schemaVersion: this.storage.schemaVersion(), keychain: this.keychain.backend }
  }

  // ── owners ──
  addOwner(name: string, kind: OwnerKind = 'user'): OwnerView { return this.owners.add(name, kind) }
  listOwners(): OwnerView[] { return this.owners.list() }
  disableOwner(name: string): OwnerView { return this.owners.disable(name) }
  enableOwner(name: string): OwnerView { return this.owners.enable(name) }
  revokeOwnerKeys(name: string, reason?: string): { owner: string; revoked: number } { return this.keys.revokeOwnerKeys(name, reason) }

  // ── keys ──
  create(input: CreateInput, credentialCsv?: string): IssuedKey { return this.keys.create(input, credentialCsv) }
  createMany(inputs: readonly CreateInput[], credentialCsv?: string, rowLabel?: (i: number) => string): IssuedKey[] {
    return this.keys.createMany(inputs, credentialCsv, rowLabel)
  }
  importCsv(csvText: string, credentialCsv?: string): IssuedKey[] { return this.keys.importCsv(csvText, credentialCsv) }
  reset(ref: string, opts: { confirm: string; grace?: string; owner?: string; previous?: PreviousChoice }, credentialCsv?: string): IssuedKey {
    return this.keys.reset(ref, opts, credentialCsv)
  }
  revoke(refs: readonly string[], reason?: string, owner?: string): KeyView[] { return this.keys.revoke(refs, reason, owner) }
  revokeMatching(q: Omit<KeyQuery, 'offset' | 'limit' | 'sort' | 'order'>, expectedCount: number, reason?: string): { revoked: number } {
    return this.keys.revokeMatching(q, expectedCount, reason)
  }
  updateKey(ref: string, changes: KeyChanges, owner?: string): KeyView { return this.keys.update(ref, changes, owner) }
  disableKey(ref: string, reason?: string, owner?: string): KeyView { return this.keys.disable(ref, reason, owner) }
  enableKey(ref: string, owner?: string): KeyView { return this.keys.enable(ref, owner) }

  // ── read ──
  get(ref: string, owner?: string): KeyView { return this.inventory.get(ref, owner) }
  list(q: KeyQuery = {}): KeyPage { return this.inventory.list(q) }
  iterateKeys(): IterableIterator<KeyView> { return this.inventory.iterate() }
  scopesInUse(): string[] { return this.inventory.scopesInUse() }
  findByKey(accessKey: string): KeyMatch | null { return this.inventory.findByKey(accessKey) }
  dueReminders(now?: number): ReminderDue[] { return this.inventory.dueReminders(now) }
  markReminded(items: ReminderDue[]): void { this.inventory.markReminded(items) }

  // ── verify ──
  verify(input: { accessKey: string; accessId?: string }): VerifyResult { return this.verifier.verify(input) }
  verifyFloor(accessKey: string): boolean { return this.verifier.floor(accessKey) }
  /** Write queued last-used times now, at most maxRows (oldest first); returns how many are still queued. Also done on a timer and at close. */
  flushLastUsed(maxRows?: number): number { return this.verifier.flush(maxRows) }

  // ── policy ──
  getPolicy(): Policy { return this.policy.get() }
  setPolicy(changes: Partial<Policy>): Policy { return this.policy.set(changes) }
  previewPolicy(changes: Partial<Policy>): PolicyPreview { return this.policy.preview(changes) }
  purge(): { purged: number } { return this.policy.purge() }

  // ── audit / integrity ──
  listAudit(q: { action?: string; target?: string; beforeId?: number; limit?: number } = {}): AuditEntry[] { return this.auditLog.list(q) }
  verifyAudit(): AuditCheck { return this.auditLog.verify() }
  check(opts?: { pages?: boolean; yieldEvery?: number }): Promise<StoreCheck> { return this.integrity.check(opts) }

  // ── export / backup ──
  /** Inventory CSV: every key, no secrets, no hashes. Written in pages. */
  exportInventory(target: string): { path: string; rows: number } {
    checkTarget(target, 'csv')
    const parts: string[] = [toCsv(INVENTORY_FIELDS, [])]
    let rows = 0
    let batch: unknown[][] = []
    const flush = () => {
      if (batch.length) parts.push(toCsv(INVENTORY_FIELDS, batch, false))
      batch = []
    }
    for (const v of this.inventory.iterate()) {
      batch.push([v.name, v.accessId, v.owner, v.tampered ? 'tampered' : v.status, v.scopes.join(' '), v.description, v.createdAt, v.expiresAt, v.lastUsedAt ?? '', v.revokedAt ?? ''])
      rows++
      if (batch.length === 5000) flush()
    }
    flush()
    const path = writePrivateFile(target, parts.join(''))
    this.ctx.write(() => this.auditLog.append('inventory.export', path, { rows }))
    return { path, rows }
  }

  exportAudit(target: string): { path: string; rows: number } {
    checkTarget(target, 'csv')
    const rows = [...this.storage.iterateAudit()].map((r) => [r.id, iso(r.at), r.actor, r.action, r.target, r.detail])
    const path = writePrivateFile(target, toCsv(AUDIT_FIELDS, rows))
    this.ctx.write(() => this.auditLog.append('audit.export', path, { rows: rows.length }))
    return { path, rows: rows.length }
  }

  /**
   * Online backup: a consistent snapshot (VACUUM INTO: one read transaction, so it
   * finishes however busy other writers are) into a 0600 temporary sibling, checked
   * (pages, audit chain) and only then linked to its final name, which it never
   * replaces. An interrupted backup leaves nothing at the final name.
   */
  async backup(target: string): Promise<{ path: string }> {
    if (this.storage.engine !== 'sqlite')
      throw new KeydeskError('invalid_input', 'keydesk backup copies a local store; back up a team store with pg_dump (see docs/team.md).')
    const path = resolvePath(target)
    checkTarget(path, 'file')
    this.flushLastUsed()
    const tmp = join(dirname(path), `.${basename(path)}.${randomUUID().slice(0, 8)}.tmp`)
    const old = process.umask(0o077)
    try {
      this.ctx.write(() => this.auditLog.append('store.backup', path))
      this.storage.snapshotTo(tmp)
      const copy = new Database(tmp, { readonly: true, fileMustExist: true })
      try {
        const ok = copy.pragma('integrity_check', { simple: true })
        if (ok !== 'ok') throw new KeydeskError('store_unavailable', `The backup copy failed its integrity check (${String(ok).slice(0, 100)}); nothing was written to ${path}.`)
        const storeId = (copy.prepare(`SELECT value FROM meta WHERE key = 'store_id'`).pluck().get() as string | undefined) ?? ''
        if (storeId !== this.storeId) throw new KeydeskError('store_unavailable', `The backup copy does not carry this store's id; nothing was written to ${path}.`)
      } finally {
        copy.close()
      }
      const fd = openSync(tmp, 'r')
      try { fsyncSync(fd) } finally { closeSync(fd) }
      linkSync(tmp, path)
      unlinkSync(tmp)
      const dfd = openSync(dirname(path), 'r')
      try { fsyncSync(dfd) } catch { /* best effort */ } finally { closeSync(dfd) }
    } catch (e) {
      rmSync(tmp, { force: true })
      if (e instanceof KeydeskError) throw e
      const code = (e as { code?: string }).code ?? 'error'
      throw new KeydeskError('invalid_input', `Cannot write the backup to ${path} (${code === 'ENOSPC' || code === 'SQLITE_FULL' ? 'disk full' : code}); nothing was left there.`, 'file')
    } finally {
      process.umask(old)
    }
    return { path }
  }

  /** Write a credential CSV for keys just issued (used by the app's save dialog). */
  static writeCredentialCsv(target: string, keys: readonly IssuedKey[]): string {
    return writePrivateFile(target, credentialCsvText(keys))
  }

  /** Record that a credential CSV was saved (the app writes it from its handoff). */
  noteCredentialExport(path: string, keys: number): void {
    this.ctx.write(() => this.auditLog.append('credentials.export', path, { keys }))
  }

  /** Record that the team store's secret was written to a file (`keydesk team export-secret`): sealed for an admin, or unsealed for a gateway. */
  noteTeamSecretExport(path: string, kind: 'sealed' | 'gateway'): void {
    this.ctx.write(() => this.auditLog.append('team.export_secret', path, { kind }))
  }

  /** `keydesk restore` records itself in the restored store's log. */
  recordRestore(file: string, info: { headId: number; headAt: string | null }): void {
    this.ctx.write(() => this.auditLog.append('store.restore', resolvePath(file), { restoredTo: info.headId, backupFrom: info.headAt }))
  }

  /** Wait until the keychain anchor has caught up with every committed write. */
  settled(): Promise<void> {
    return this.anchor.settled()
  }

  close(): void {
    if (this.closed) return
    this.verifier.close()
    this.closed = true
    this.storage.close()
  }

  /** Close after the anchor has caught up (CLI commands end with this). */
  async closeAsync(): Promise<void> {
    try {
      await this.settled()
    } finally {
      this.close()
    }
  }

  /** For tests and tools that need the raw handle (bench, tamper tests). */
  get database(): Database.Database {
    if (!(this.storage instanceof SqliteStorage)) throw new Error('the raw SQLite handle exists only for a local store')
    return this.storage.database
  }

  /** Which engine holds this store: 'sqlite' (local file) or 'postgres' (team database). */
  get engine(): string {
    return this.storage.engine
  }

  /** The storage port itself, for hosts that follow a team store's change feed (keydesk serve). */
  get port(): StoragePort {
    return this.storage
  }

  static readonly schemaVersion = LATEST_VERSION
}


/**
 * `keydesk restore`: the one sanctioned way back to an older state. The backup must
 * be this store's (same id, same keychain entry, intact chain); it replaces the
 * store file, the anchor is moved to the backup's head, and the restore is audited.
 * Other processes using the store must be closed first.
 */
export async function inspectBackup(file: string, keychain: KeychainPort = keytarKeychain()): Promise<{ storeId: string; headId: number; headAt: string | null; keys: number }> {
  const path = resolvePath(file)
  if (!existsSync(path) || !statSync(path).isFile()) throw invalid('file', `${path} does not exist or is not a file.`)
  let db: Database.Database
  try {
    db = new Database(path, { readonly: true, fileMustExist: true })
  } catch {
    throw invalid('file', `${path} is not a KeyDesk backup (it cannot be opened as a database).`)
  }
  try {
    const ok = db.pragma('integrity_check', { simple: true })
    if (ok !== 'ok') throw invalid('file', `${path} is damaged (${String(ok).slice(0, 100)}); it cannot be restored.`)
    const storeId = db.prepare(`SELECT value FROM meta WHERE key = 'store_id'`).pluck().get() as string | undefined
    if (!storeId) throw invalid('file', `${path} is not a KeyDesk backup (no store id).`)
    const material = await keychain.get(storeId)
    if (material === null) throw new KeydeskError('keychain_unavailable', `The OS keychain has no entry for the store this backup belongs to (account ${storeId}); it cannot be restored here.`)
    const head = db.prepare('SELECT id, at FROM audit ORDER BY id DESC LIMIT 1').get() as { id: number; at: number } | undefined
    const keys = db.prepare('SELECT count(*) FROM keys').pluck().get() as number
    return { storeId, headId: head?.id ?? 0, headAt: iso(head?.at), keys }
  } finally {
    db.close()
  }
}

export async function restoreBackup(opts: { file: string; dataDir: string; confirm: string; keychain?: KeychainPort; actor?: string; now?: () => number }): Promise<{ headId: number; headAt: string | null; keys: number; dbPath: string }> {
  const keychain = opts.keychain ?? keytarKeychain()
  const info = await inspectBackup(opts.file, keychain)
  if (opts.confirm !== info.storeId)
    throw invalid('confirm', `To restore, confirm with this store's id: --confirm ${info.storeId}`)
  const dbPath = join(opts.dataDir, DB_FILE)
  if (existsSync(dbPath)) {
    const current = new Database(dbPath, { readonly: true, fileMustExist: true })
    try {
      const id = current.prepare(`SELECT value FROM meta WHERE key = 'store_id'`).pluck().get() as string | undefined
      if (id && id !== info.storeId) throw invalid('file', `That backup belongs to another store (${info.storeId}); the store in ${opts.dataDir} is ${id}.`)
    } finally {
      current.close()
    }
  }
  // Copy next to the store, fsync, then swap it in; the old WAL and shared memory go with the old file.
  const tmp = join(opts.dataDir, `.${DB_FILE}.restore.tmp`)
  rmSync(tmp, { force: true })
  const src = new Database(resolvePath(opts.file), { readonly: true, fileMustExist: true })
  const old = process.umask(0o077)
  try {
    src.prepare('VACUUM INTO ?').run(tmp)
  } finally {
    process.umask(old)
    src.close()
  }
  const fd = openSync(tmp, 'r')
  try { fsyncSync(fd) } finally { closeSync(fd) }
  for (const f of [`${dbPath}-wal`, `${dbPath}-shm`]) rmSync(f, { force: true })
  renameSync(tmp, dbPath)
  // Point the anchor at the backup's head, then open normally and record the restore.
  const head = (() => {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true })
    try {
      return db.prepare('SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1').get() as { id: number; hash: Buffer } | undefined
    } finally {
      db.close()
    }
  })()
  await keychain.set(anchorAccount(info.storeId), JSON.stringify({ v: 1, id: head?.id ?? 0, hash: (head?.hash ?? ZERO_HASH).toString('hex') }))
  const store = await openKeyStore({ dataDir: opts.dataDir, keychain, actor: opts.actor, now: opts.now, create: false })
  try {
    store.recordRestore(opts.file, info)
    await store.settled()
  } finally {
    store.close()
  }
  return { headId: info.headId, headAt: info.headAt, keys: info.keys, dbPath }
}

