/**
 * The SQLite adapter of the storage port (better-sqlite3): every SQL statement the
 * domain needs, prepared once, with named parameters; rows become records in
 * `toKey` / `toOwner` and nowhere else.
 */
import type { Statement } from 'better-sqlite3'
import { BUSY_TIMEOUT_MS, type Db } from '../db'
import type { AuditRecord, KeyFields, KeyFilter, KeyRecord, KeySort, OwnerRecord, RetiredRecord, RevocationRecord, StoragePort, VerifyRow } from './port'
import { COLUMN, KEY_SELECT, PURGE_WHERE, auditPageSql, filterSql, sortSql, toAudit, toKey, toOwner, type AuditQuery, type Row, verifyCurrentSql, verifyFloorSql, verifyPrevSql } from './sql'

export class SqliteStorage implements StoragePort {
  readonly engine = 'sqlite'
  private readonly cache = new Map<string, Statement>()

  constructor(
    private readonly db: Db,
    readonly location: string,
  ) {}

  /** The raw handle, for tests and tools (bench, tamper tests). */
  get database(): Db {
    return this.db
  }

  private st(sql: string): Statement {
    let s = this.cache.get(sql)
    if (!s) this.cache.set(sql, (s = this.db.prepare(sql)))
    return s
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate()
  }
  readTransaction<T>(fn: () => T): T {
    return this.db.inTransaction ? fn() : this.db.transaction(fn).deferred()
  }
  get inTransaction(): boolean {
    return this.db.inTransaction
  }
  begin(): void {
    this.db.exec('BEGIN IMMEDIATE')
  }
  commit(): void {
    this.db.exec('COMMIT')
  }
  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK')
  }
  getMeta(key: string): string | undefined {
    return (this.st('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value
  }
  setMeta(key: string, value: string): void {
    this.st('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value)
  }
  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number
  }

  // ── owners ──
  ownerByName(name: string): OwnerRecord | undefined {
    const r = this.st('SELECT * FROM owners WHERE name = ?').get(name) as Row | undefined
    return r && toOwner(r)
  }
  ownerById(id: number): OwnerRecord | undefined {
    const r = this.st('SELECT * FROM owners WHERE id = ?').get(id) as Row | undefined
    return r && toOwner(r)
  }
  ownerNames(): string[] {
    return this.st('SELECT name FROM owners ORDER BY name').pluck().all() as string[]
  }
  *iterateOwners(): IterableIterator<OwnerRecord> {
    for (const r of this.db.prepare('SELECT * FROM owners ORDER BY id').iterate() as IterableIterator<Row>) yield toOwner(r)
  }
  nextOwnerId(): number {
    return ((this.st('SELECT max(id) FROM owners').pluck().get() as number | null) ?? 0) + 1
  }
  insertOwner(o: OwnerRecord): void {
    this.st('INSERT INTO owners (id, name, kind, created_at, disabled_at, mac) VALUES (?, ?, ?, ?, ?, ?)').run(o.id, o.name, o.kind, o.createdAt, o.disabledAt, o.mac)
  }
  setOwnerDisabled(id: number, disabledAt: number | null, mac: Buffer): void {
    this.st('UPDATE owners SET disabled_at = ?, mac = ? WHERE id = ?').run(disabledAt, mac, id)
  }
  setOwnerMac(id: number, mac: Buffer): void {
    this.st('UPDATE owners SET mac = ? WHERE id = ?').run(mac, id)
  }
  ownerKeyCounts(ownerId: number, now: number) {
    return this.st(
      `SELECT coalesce(sum(status = 'active' AND expires_at > @now AND disabled_at IS NULL), 0) AS active,
              coalesce(sum(status = 'active' AND expires_at > @now AND disabled_at IS NOT NULL), 0) AS disabled,
              coalesce(sum(status = 'active' AND expires_at <= @now), 0) AS expired,
              coalesce(sum(status = 'revoked'), 0) AS revoked
       FROM keys WHERE owner_id = @id`,
    ).get({ now, id: ownerId }) as { active: number; disabled: number; expired: number; revoked: number }
  }
  keyIdsOfOwner(ownerId: number, onlyActive: boolean): number[] {
    return this.st(`SELECT id FROM keys WHERE owner_id = ?${onlyActive ? ` AND status = 'active'` : ''} ORDER BY id`).pluck().all(ownerId) as number[]
  }
  countKeysOfOwner(ownerId: number): number {
    return this.st('SELECT count(*) FROM keys WHERE owner_id = ?').pluck().get(ownerId) as number
  }
  hasAnyData(): boolean {
    return (this.st('SELECT EXISTS (SELECT 1 FROM keys) OR EXISTS (SELECT 1 FROM owners) OR EXISTS (SELECT 1 FROM audit)').pluck().get() as number) === 1
  }

  // ── keys ──
  nextKeyId(): number {
    return ((this.st('SELECT max(id) FROM keys').pluck().get() as number | null) ?? 0) + 1
  }
  insertKey(id: number, k: KeyFields, macVersion: number): void {
    const cols = Object.keys(COLUMN) as (keyof KeyFields)[]
    const sql = `INSERT INTO keys (id, hash_alg, mac_version, ${cols.map((c) => COLUMN[c]).join(', ')}) VALUES (@id, 'hmac-sha256-v1', @macVersion, ${cols.map((c) => '@' + c).join(', ')})`
    this.st(sql).run({ ...k, id, macVersion })
  }
  updateKey(id: number, changes: Partial<KeyFields>, macVersion?: number): void {
    const cols = (Object.keys(changes) as (keyof KeyFields)[]).filter((c) => c in COLUMN)
    if (cols.length === 0 && macVersion === undefined) return
    const sets = cols.map((c) => `${COLUMN[c]} = @${c}`)
    if (macVersion !== undefined) sets.push('mac_version = @macVersion')
    this.st(`UPDATE keys SET ${sets.join(', ')} WHERE id = @id`).run({ ...Object.fromEntries(cols.map((c) => [c, changes[c]])), ...(macVersion !== undefined ? { macVersion } : {}), id })
  }
  replaceScopes(id: number, scopes: readonly string[]): void {
    this.st('DELETE FROM key_scopes WHERE key_id = ?').run(id)
    const ins = this.st('INSERT INTO key_scopes (scope, key_id) VALUES (?, ?)')
    for (const s of scopes) ins.run(s, id)
  }
  keyById(id: number): KeyRecord | undefined {
    const r = this.st(`${KEY_SELECT} WHERE k.id = ?`).get(id) as Row | undefined
    return r && toKey(r)
  }
  keyByAccessId(accessId: string): KeyRecord | undefined {
    const r = this.st(`${KEY_SELECT} WHERE k.access_id = ?`).get(accessId) as Row | undefined
    return r && toKey(r)
  }
  keysByName(name: string, limit: number): KeyRecord[] {
    return (this.st(`${KEY_SELECT} WHERE k.name = ? ORDER BY k.id DESC LIMIT ?`).all(name, limit) as Row[]).map(toKey)
  }
  liveNameTaken(ownerId: number, name: string, now: number, exceptId = 0): boolean {
    // INDEXED BY: without statistics the planner would scan every live key through keys_status_expires.
    return (
      this.st(`SELECT 1 FROM keys INDEXED BY keys_owner_name WHERE owner_id = ? AND name = ? AND status = 'active' AND expires_at > ? AND id <> ? LIMIT 1`).get(
        ownerId, name, now, exceptId,
      ) !== undefined
    )
  }
  queryKeys(f: KeyFilter, sort: KeySort, order: 'ASC' | 'DESC' | undefined, limit: number, offset: number): KeyRecord[] {
    const { join, where, params } = filterSql(f)
    const p: Record<string, unknown> = { ...params, limit, offset }
    if (sort === 'status') p.sortNow = f.now
    return (this.st(`${KEY_SELECT} ${join} ${where} ORDER BY ${sortSql(sort, order)} LIMIT @limit OFFSET @offset`).all(p) as Row[]).map(toKey)
  }
  countKeys(f: KeyFilter): number {
    const { join, where, params } = filterSql(f)
    return this.st(`SELECT count(*) FROM keys k ${join} ${where}`).pluck().get(params) as number
  }
  *iterateKeys(f?: KeyFilter): IterableIterator<KeyRecord> {
    const { join, where, params } = f ? filterSql(f) : { join: '', where: '', params: {} }
    // A statement of its own: an iterator holds its statement until it finishes.
    for (const r of this.db.prepare(`${KEY_SELECT} ${join} ${where} ORDER BY k.id`).iterate(params) as IterableIterator<Row>) yield toKey(r)
  }
  keysAfter(afterId: number, limit: number): KeyRecord[] {
    return (this.st(`${KEY_SELECT} WHERE k.id > ? ORDER BY k.id LIMIT ?`).all(afterId, limit) as Row[]).map(toKey)
  }
  keyIdsMatching(f: KeyFilter): number[] {
    const { join, where, params } = filterSql(f)
    return this.st(`SELECT k.id FROM keys k ${join} ${where} ORDER BY k.id`).pluck().all(params) as number[]
  }
  scopesInUse(now: number): string[] {
    return this.st(
      `SELECT DISTINCT s.scope FROM key_scopes s JOIN keys k ON k.id = s.key_id WHERE k.status = 'active' AND k.expires_at > ? ORDER BY s.scope LIMIT 1000`,
    ).pluck().all(now) as string[]
  }
  scopeIndexMismatches(): number {
    // Every (scope, key) pair the MAC'd text names must be indexed, and nothing else.
    let bad = 0
    const indexed = this.db.prepare('SELECT key_id, group_concat(scope, \' \') AS s FROM (SELECT key_id, scope FROM key_scopes ORDER BY key_id, scope) GROUP BY key_id')
    const byKey = new Map<number, string>()
    for (const r of indexed.iterate() as IterableIterator<{ key_id: number; s: string }>) byKey.set(r.key_id, r.s)
    for (const r of this.db.prepare('SELECT id, scopes FROM keys').iterate() as IterableIterator<{ id: number; scopes: string }>) {
      const want = r.scopes ? r.scopes.split(' ').sort().join(' ') : ''
      if ((byKey.get(r.id) ?? '') !== want) bad++
      byKey.delete(r.id)
    }
    return bad + byKey.size
  }

  // ── verify ──
  private vCur?: Statement
  private vPrev?: Statement
  private vFloor?: Statement
  verifyByCurrent(hash: Buffer): VerifyRow | undefined {
    this.vCur ??= this.db.prepare(verifyCurrentSql('sqlite')).raw(true)
    return this.vCur.get(hash) as VerifyRow | undefined
  }
  verifyByPrevious(hash: Buffer): { row: VerifyRow; slot: 1 | 2 } | undefined {
    this.vPrev ??= this.db.prepare(verifyPrevSql('sqlite')).raw(true)
    const r = this.vPrev.get(hash, hash) as unknown[] | undefined
    if (!r) return undefined
    const slot = r.pop() as 1 | 2
    return { row: r as VerifyRow, slot }
  }
  lookupFloor(hash: Buffer): boolean {
    this.vFloor ??= this.db.prepare(verifyFloorSql('sqlite')).raw(true)
    return this.vFloor.get(hash) !== undefined
  }
  recordLastUsed(entries: readonly [number, number, number][], busyMs: number): void {
    this.db.pragma(`busy_timeout = ${busyMs}`)
    // Last use is informational: its commits skip the fsync (WAL stays consistent; a power
    // cut can lose the latest times, never anything else). A verifying service writes
    // thousands of these a second, and each fsync held its event loop.
    this.db.pragma('synchronous = NORMAL')
    try {
      const col = ['last_used_at', 'prev_last_used_at', 'prev2_last_used_at']
      const upd = col.map((c) => this.st(`UPDATE keys SET ${c} = max(coalesce(${c}, 0), ?) WHERE id = ?`))
      this.db.transaction(() => {
        for (const [id, slot, at] of entries) upd[slot]!.run(at, id)
      }).immediate()
    } finally {
      this.db.pragma('synchronous = FULL')
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    }
  }

  // ── policy preview / purge ──
  countOverMaxAge(now: number, maxAgeMs: number): number {
    return this.st(`SELECT count(*) FROM keys k WHERE k.status = 'active' AND k.expires_at > @now AND k.expires_at - k.created_at > @maxAge`).pluck().get({ now, maxAge: maxAgeMs }) as number
  }
  sampleOverMaxAge(now: number, maxAgeMs: number, limit: number): KeyRecord[] {
    return (this.st(`${KEY_SELECT} WHERE k.status = 'active' AND k.expires_at > @now AND k.expires_at - k.created_at > @maxAge ORDER BY k.expires_at DESC LIMIT @limit`).all({
      now, maxAge: maxAgeMs, limit,
    }) as Row[]).map(toKey)
  }
  ownersOverCap(cap: number, limit: number): { owner: string; keys: number }[] {
    return this.st('SELECT o.name AS owner, count(*) AS keys FROM keys k JOIN owners o ON o.id = k.owner_id GROUP BY k.owner_id HAVING count(*) > ? ORDER BY keys DESC LIMIT ?').all(cap, limit) as {
      owner: string; keys: number
    }[]
  }
  purgeable(cutoff: number): KeyRecord[] {
    return (this.st(`${KEY_SELECT} WHERE ${PURGE_WHERE}`).all({ cutoff }) as Row[]).map(toKey)
  }
  countPurgeable(cutoff: number): number {
    return this.st(`SELECT count(*) FROM keys k WHERE ${PURGE_WHERE}`).pluck().get({ cutoff }) as number
  }
  deleteKeys(ids: readonly number[]): void {
    const del = this.st('DELETE FROM keys WHERE id = ?')
    for (const id of ids) del.run(id)
  }

  // ── tombstones ──
  insertRetired(t: RetiredRecord): void {
    this.st('INSERT INTO retired (hash, access_id, at, audit_id, mac) VALUES (?, ?, ?, ?, ?)').run(t.hash, t.accessId, t.at, t.auditId, t.mac)
  }
  retiredByHash(hash: Buffer): RetiredRecord[] {
    return (this.st('SELECT * FROM retired WHERE hash = ? ORDER BY at').all(hash) as Row[]).map((r) => ({
      hash: r.hash as Buffer, accessId: r.access_id as string, at: r.at as number, auditId: r.audit_id as number, mac: r.mac as Buffer,
    }))
  }
  deleteRetiredRow(hash: Buffer, at: number): void {
    this.st('DELETE FROM retired WHERE hash = ? AND at = ?').run(hash, at)
  }
  insertRevocation(t: RevocationRecord): void {
    this.st('INSERT INTO revocations (access_id, at, audit_id, mac) VALUES (?, ?, ?, ?)').run(t.accessId, t.at, t.auditId, t.mac)
  }
  revocationOf(accessId: string): RevocationRecord | undefined {
    const r = this.st('SELECT * FROM revocations WHERE access_id = ?').get(accessId) as Row | undefined
    return r && { accessId: r.access_id as string, at: r.at as number, auditId: r.audit_id as number, mac: r.mac as Buffer }
  }
  tombstoneCounts(): { retired: number; revocations: number } {
    return this.st('SELECT (SELECT count(*) FROM retired) AS retired, (SELECT count(*) FROM revocations) AS revocations').get() as { retired: number; revocations: number }
  }
  *iterateRetired(): IterableIterator<RetiredRecord> {
    for (const r of this.db.prepare('SELECT * FROM retired').iterate() as IterableIterator<Row>)
      yield { hash: r.hash as Buffer, accessId: r.access_id as string, at: r.at as number, auditId: r.audit_id as number, mac: r.mac as Buffer }
  }
  *iterateRevocations(): IterableIterator<RevocationRecord> {
    for (const r of this.db.prepare('SELECT * FROM revocations').iterate() as IterableIterator<Row>)
      yield { accessId: r.access_id as string, at: r.at as number, auditId: r.audit_id as number, mac: r.mac as Buffer }
  }

  // ── audit ──
  auditMaxId(): number {
    return (this.st('SELECT max(id) FROM audit').pluck().get() as number | null) ?? 0
  }
  insertAudit(a: AuditRecord): void {
    this.st('INSERT INTO audit (id, at, actor, action, target, detail, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      a.id, a.at, a.actor, a.action, a.target, a.detail, a.prevHash, a.hash, a.mac,
    )
  }
  auditById(id: number): AuditRecord | undefined {
    const r = this.st('SELECT * FROM audit WHERE id = ?').get(id) as Row | undefined
    return r && toAudit(r)
  }
  *iterateAudit(): IterableIterator<AuditRecord> {
    for (const r of this.db.prepare('SELECT * FROM audit ORDER BY id').iterate() as IterableIterator<Row>) yield toAudit(r)
  }
  listAudit(q: AuditQuery): AuditRecord[] {
    const { sql, params } = auditPageSql(q)
    return (this.st(sql).all(params) as Row[]).map(toAudit)
  }
  lastAuditIdOf(action: string): number {
    return (this.st('SELECT max(id) FROM audit WHERE action = ?').pluck().get(action) as number | null) ?? 0
  }

  // ── reminders ──
  reminderCandidates(now: number, until: number): KeyRecord[] {
    return (this.st(`${KEY_SELECT} WHERE k.status = 'active' AND k.disabled_at IS NULL AND k.expires_at > @now AND k.expires_at <= @until ORDER BY k.expires_at LIMIT 10000`).all({
      now, until,
    }) as Row[]).map(toKey)
  }
  remindedThresholds(keyIds: readonly number[]): Map<number, Set<number>> {
    const out = new Map<number, Set<number>>()
    const q = this.st('SELECT threshold_days FROM reminders WHERE key_id = ?').pluck()
    for (const id of keyIds) out.set(id, new Set(q.all(id) as number[]))
    return out
  }
  insertReminders(items: readonly { keyId: number; thresholdDays: number; at: number }[]): void {
    const ins = this.st('INSERT OR IGNORE INTO reminders (key_id, threshold_days, at) VALUES (?, ?, ?)')
    this.db.transaction(() => {
      for (const i of items) ins.run(i.keyId, i.thresholdDays, i.at)
    }).immediate()
  }

  // ── whole store ──
  integrityCheck(): string[] {
    const rows = this.db.pragma('integrity_check') as { integrity_check: string }[]
    const msgs = rows.map((r) => r.integrity_check)
    return msgs.length === 1 && msgs[0] === 'ok' ? [] : msgs.slice(0, 20)
  }
  snapshotTo(path: string): void {
    // One read transaction: a consistent copy, however many commits other connections make meanwhile.
    this.db.prepare('VACUUM INTO ?').run(path)
  }
  close(): void {
    this.cache.clear()
    this.db.close()
  }
}

