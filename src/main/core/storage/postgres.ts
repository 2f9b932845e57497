/**
 * The PostgreSQL adapter of the storage port (the team store): the same statements
 * as the SQLite adapter (storage/sql.ts) with numbered parameters, over a
 * synchronous connection (pg-sync.ts), so every domain rule runs unchanged.
 *
 * Writers are serialised like SQLite's BEGIN IMMEDIATE: every write transaction
 * first takes one transaction-scoped advisory lock, so the rules that read before
 * they write (live-name uniqueness, the per-owner cap, the audit chain's next id)
 * hold across any number of admins. Reads that must agree with each other run in
 * one REPEATABLE READ snapshot.
 */
import { KeydeskError } from '../errors'
import { PG_MIGRATIONS, type PgMigration } from '../migrations/pg/index'
import { PgSyncClient } from './pg-sync'
import type { AuditRecord, KeyFields, KeyFilter, KeyRecord, KeySort, OwnerRecord, RetiredRecord, RevocationRecord, StoragePort, VerifyRow } from './port'
import { COLUMN, KEY_SELECT, PURGE_WHERE, auditPageSql, filterSql, sortSql, toAudit, toKey, toOwner, type AuditQuery, type Row, verifyCurrentSql, verifyFloorSql, verifyPrevSql } from './sql'

/** The advisory lock every writer takes first (one store per database). */
const WRITE_LOCK = 0x6b64_7772 // "kdwr"
const PAGE = 2000

/** `@name` → `$n` (one number per name) and `?` → `$n` in order; cached per statement. */
const converted = new Map<string, { text: string; names: string[] }>()
const PG_VERIFY_CURRENT = verifyCurrentSql('pg')
const PG_VERIFY_PREV = verifyPrevSql('pg')
const PG_VERIFY_FLOOR = verifyFloorSql('pg')

function numbered(sql: string): { text: string; names: string[] } {
  let c = converted.get(sql)
  if (c) return c
  const names: string[] = []
  let n = 0
  const text = sql.replace(/@([A-Za-z_][A-Za-z0-9_]*)|\?/g, (m, name: string | undefined) => {
    if (name === undefined) return `$${++n}`
    const i = names.indexOf(name)
    if (i >= 0) return `$${i + 1}`
    names.push(name)
    return `$${names.length}`
  })
  c = { text, names: n > 0 ? [] : names }
  converted.set(sql, c)
  return c
}

/** The URL as shown in messages and the audit log: never a password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    // libpq also takes a password (and key passphrases) as query parameters.
    for (const k of [...u.searchParams.keys()]) if (/pass/i.test(k)) u.searchParams.set(k, '***')
    return u.toString()
  } catch {
    return 'postgres://(unparseable URL)'
  }
}

function pgError(location: string, e: unknown): KeydeskError {
  if (e instanceof KeydeskError) return e
  const code = (e as { code?: string }).code ?? ''
  const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200)
  if (code === '28P01' || code === '28000') return new KeydeskError('store_unavailable', `The team database at ${location} refused the login (${msg}); check the user and password.`)
  if (code === '3D000') return new KeydeskError('store_unavailable', `The team database at ${location} does not exist (${msg}).`)
  return new KeydeskError('store_unavailable', `The team database at ${location} cannot be reached (${code || msg}); nothing was changed.`)
}

export class PostgresStorage implements StoragePort {
  readonly engine = 'postgres'
  private depth = 0

  constructor(
    protected c: PgSyncClient,
    readonly location: string,
  ) {}

  /** A new connection in place of a broken one (a gateway, after the database comes back). */
  protected replaceClient(c: PgSyncClient): void {
    const old = this.c
    this.c = c
    this.depth = 0
    try {
      old.close()
    } catch {
      // already gone
    }
  }

  /** The raw connection, for tests and tools (bench, tamper tests), like SqliteStorage.database. */
  get client(): PgSyncClient {
    return this.c
  }

  private rows(sql: string, params: Record<string, unknown> | readonly unknown[] = []): Row[] {
    const { text, names } = numbered(sql)
    const values = Array.isArray(params) ? params : names.map((n) => (params as Record<string, unknown>)[n] ?? null)
    return this.c.query<Row>(text, values).rows
  }
  private one(sql: string, params: Record<string, unknown> | readonly unknown[] = []): Row | undefined {
    return this.rows(sql, params)[0]
  }
  private value<T>(sql: string, params: Record<string, unknown> | readonly unknown[] = []): T {
    const r = this.one(sql, params)
    return (r ? Object.values(r)[0] : undefined) as T
  }
  private run(sql: string, params: Record<string, unknown> | readonly unknown[] = []): void {
    this.rows(sql, params)
  }

  // ── transactions ──
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) {
      const sp = `kd_sp${this.depth}`
      this.c.exec(`SAVEPOINT ${sp}`)
      this.depth++
      try {
        const r = fn()
        this.c.exec(`RELEASE SAVEPOINT ${sp}`)
        return r
      } catch (e) {
        this.c.exec(`ROLLBACK TO SAVEPOINT ${sp}`)
        throw e
      } finally {
        this.depth--
      }
    }
    this.begin()
    try {
      const r = fn()
      this.commit()
      return r
    } catch (e) {
      this.rollback()
      throw e
    }
  }
  readTransaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn()
    this.c.exec('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    this.depth++
    try {
      return fn()
    } finally {
      this.depth = 0
      this.c.exec('COMMIT')
    }
  }
  begin(): void {
    this.c.exec('BEGIN')
    this.depth = 1
    try {
      this.c.exec(`SELECT pg_advisory_xact_lock(${WRITE_LOCK})`)
    } catch (e) {
      this.rollback()
      throw e
    }
  }
  commit(): void {
    this.depth = 0
    this.c.exec('COMMIT')
  }
  rollback(): void {
    this.depth = 0
    try {
      this.c.exec('ROLLBACK')
    } catch {
      // the connection is gone: the server rolls back on its own
    }
  }
  get inTransaction(): boolean {
    return this.depth > 0
  }
  getMeta(key: string): string | undefined {
    return this.value<string | undefined>('SELECT value FROM meta WHERE key = ?', [key])
  }
  setMeta(key: string, value: string): void {
    this.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value])
  }
  schemaVersion(): number {
    return this.value<number>('SELECT version FROM keydesk_schema')
  }

  // ── owners ──
  ownerByName(name: string): OwnerRecord | undefined {
    const r = this.one('SELECT * FROM owners WHERE name = ?', [name])
    return r && toOwner(r)
  }
  ownerById(id: number): OwnerRecord | undefined {
    const r = this.one('SELECT * FROM owners WHERE id = ?', [id])
    return r && toOwner(r)
  }
  ownerNames(): string[] {
    return this.rows('SELECT name FROM owners ORDER BY name COLLATE "C"').map((r) => r.name as string)
  }
  *iterateOwners(): IterableIterator<OwnerRecord> {
    for (let after = 0; ; ) {
      const page = this.rows('SELECT * FROM owners WHERE id > ? ORDER BY id LIMIT ?', [after, PAGE])
      for (const r of page) yield toOwner(r)
      if (page.length < PAGE) return
      after = page[page.length - 1]!.id as number
    }
  }
  nextOwnerId(): number {
    return (this.value<number | null>('SELECT max(id) FROM owners') ?? 0) + 1
  }
  insertOwner(o: OwnerRecord): void {
    this.run('INSERT INTO owners (id, name, kind, created_at, disabled_at, mac) VALUES (?, ?, ?, ?, ?, ?)', [o.id, o.name, o.kind, o.createdAt, o.disabledAt, o.mac])
  }
  setOwnerDisabled(id: number, disabledAt: number | null, mac: Buffer): void {
    this.run('UPDATE owners SET disabled_at = ?, mac = ? WHERE id = ?', [disabledAt, mac, id])
  }
  setOwnerMac(id: number, mac: Buffer): void {
    this.run('UPDATE owners SET mac = ? WHERE id = ?', [mac, id])
  }
  ownerKeyCounts(ownerId: number, now: number) {
    return this.one(
      `SELECT count(*) FILTER (WHERE status = 'active' AND expires_at > @now AND disabled_at IS NULL) AS active,
              count(*) FILTER (WHERE status = 'active' AND expires_at > @now AND disabled_at IS NOT NULL) AS disabled,
              count(*) FILTER (WHERE status = 'active' AND expires_at <= @now) AS expired,
              count(*) FILTER (WHERE status = 'revoked') AS revoked
       FROM keys WHERE owner_id = @id`,
      { now, id: ownerId },
    ) as { active: number; disabled: number; expired: number; revoked: number }
  }
  keyIdsOfOwner(ownerId: number, onlyActive: boolean): number[] {
    return this.rows(`SELECT id FROM keys WHERE owner_id = ?${onlyActive ? ` AND status = 'active'` : ''} ORDER BY id`, [ownerId]).map((r) => r.id as number)
  }
  countKeysOfOwner(ownerId: number): number {
    return this.value<number>('SELECT count(*) FROM keys WHERE owner_id = ?', [ownerId])
  }
  hasAnyData(): boolean {
    return this.value<boolean>('SELECT EXISTS (SELECT 1 FROM keys) OR EXISTS (SELECT 1 FROM owners) OR EXISTS (SELECT 1 FROM audit)')
  }

  // ── keys ──
  nextKeyId(): number {
    return (this.value<number | null>('SELECT max(id) FROM keys') ?? 0) + 1
  }
  insertKey(id: number, k: KeyFields, macVersion: number): void {
    const cols = Object.keys(COLUMN) as (keyof KeyFields)[]
    const sql = `INSERT INTO keys (id, hash_alg, mac_version, ${cols.map((c) => COLUMN[c]).join(', ')}) VALUES (@id, 'hmac-sha256-v1', @macVersion, ${cols.map((c) => '@' + c).join(', ')})`
    this.run(sql, { ...k, id, macVersion })
  }
  updateKey(id: number, changes: Partial<KeyFields>, macVersion?: number): void {
    const cols = (Object.keys(changes) as (keyof KeyFields)[]).filter((c) => c in COLUMN)
    if (cols.length === 0 && macVersion === undefined) return
    const sets = cols.map((c) => `${COLUMN[c]} = @${c}`)
    if (macVersion !== undefined) sets.push('mac_version = @macVersion')
    this.run(`UPDATE keys SET ${sets.join(', ')} WHERE id = @id`, { ...Object.fromEntries(cols.map((c) => [c, changes[c]])), ...(macVersion !== undefined ? { macVersion } : {}), id })
  }
  replaceScopes(id: number, scopes: readonly string[]): void {
    this.run('DELETE FROM key_scopes WHERE key_id = ?', [id])
    if (scopes.length) this.run('INSERT INTO key_scopes (scope, key_id) SELECT s, ? FROM unnest(?::text[]) AS s', [id, scopes])
  }
  keyById(id: number): KeyRecord | undefined {
    const r = this.one(`${KEY_SELECT} WHERE k.id = ?`, [id])
    return r && toKey(r)
  }
  keyByAccessId(accessId: string): KeyRecord | undefined {
    const r = this.one(`${KEY_SELECT} WHERE k.access_id = ?`, [accessId])
    return r && toKey(r)
  }
  keysByName(name: string, limit: number): KeyRecord[] {
    return this.rows(`${KEY_SELECT} WHERE k.name = ? ORDER BY k.id DESC LIMIT ?`, [name, limit]).map(toKey)
  }
  liveNameTaken(ownerId: number, name: string, now: number, exceptId = 0): boolean {
    return this.one(`SELECT 1 FROM keys WHERE owner_id = ? AND name = ? AND status = 'active' AND expires_at > ? AND id <> ? LIMIT 1`, [ownerId, name, now, exceptId]) !== undefined
  }
  queryKeys(f: KeyFilter, sort: KeySort, order: 'ASC' | 'DESC' | undefined, limit: number, offset: number): KeyRecord[] {
    const { join, where, params } = filterSql(f, 'pg')
    const p: Record<string, unknown> = { ...params, limit, offset }
    if (sort === 'status') p.sortNow = f.now
    return this.rows(`${KEY_SELECT} ${join} ${where} ORDER BY ${sortSql(sort, order, 'pg')} LIMIT @limit OFFSET @offset`, p).map(toKey)
  }
  countKeys(f: KeyFilter): number {
    const { join, where, params } = filterSql(f, 'pg')
    return this.value<number>(`SELECT count(*) FROM keys k ${join} ${where}`, params)
  }
  *iterateKeys(f?: KeyFilter): IterableIterator<KeyRecord> {
    const { join, where, params } = f ? filterSql(f, 'pg') : { join: '', where: '', params: {} }
    const cond = where ? `${where} AND k.id > @afterId` : 'WHERE k.id > @afterId'
    for (let afterId = 0; ; ) {
      const page = this.rows(`${KEY_SELECT} ${join} ${cond} ORDER BY k.id LIMIT ${PAGE}`, { ...params, afterId })
      for (const r of page) yield toKey(r)
      if (page.length < PAGE) return
      afterId = page[page.length - 1]!.id as number
    }
  }
  keysAfter(afterId: number, limit: number): KeyRecord[] {
    return this.rows(`${KEY_SELECT} WHERE k.id > ? ORDER BY k.id LIMIT ?`, [afterId, limit]).map(toKey)
  }
  keyIdsMatching(f: KeyFilter): number[] {
    const { join, where, params } = filterSql(f, 'pg')
    return this.rows(`SELECT k.id FROM keys k ${join} ${where} ORDER BY k.id`, params).map((r) => r.id as number)
  }
  scopesInUse(now: number): string[] {
    return this.rows(
      `SELECT DISTINCT s.scope COLLATE "C" AS scope FROM key_scopes s JOIN keys k ON k.id = s.key_id WHERE k.status = 'active' AND k.expires_at > ? ORDER BY 1 LIMIT 1000`,
      [now],
    ).map((r) => r.scope as string)
  }
  scopeIndexMismatches(): number {
    // Every (scope, key) pair the MAC'd text names must be indexed, and nothing else.
    return this.value<number>(
      `SELECT (SELECT count(*) FROM keys k
                WHERE coalesce((SELECT string_agg(s.scope, ' ' ORDER BY s.scope COLLATE "C") FROM key_scopes s WHERE s.key_id = k.id), '')
                   <> coalesce((SELECT string_agg(x, ' ' ORDER BY x COLLATE "C") FROM unnest(string_to_array(nullif(k.scopes, ''), ' ')) AS x), ''))
            + (SELECT count(DISTINCT s.key_id) FROM key_scopes s WHERE NOT EXISTS (SELECT 1 FROM keys k WHERE k.id = s.key_id))`,
    )
  }

  // ── verify ──
  verifyByCurrent(hash: Buffer): VerifyRow | undefined {
    return this.c.queryArray(numbered(PG_VERIFY_CURRENT).text, [hash])[0] as VerifyRow | undefined
  }
  verifyByPrevious(hash: Buffer): { row: VerifyRow; slot: 1 | 2 } | undefined {
    const r = this.c.queryArray(numbered(PG_VERIFY_PREV).text, [hash, hash])[0]
    if (!r) return undefined
    const slot = r.pop() as 1 | 2
    return { row: r as VerifyRow, slot }
  }
  lookupFloor(hash: Buffer): boolean {
    return this.c.queryArray(numbered(PG_VERIFY_FLOOR).text, [hash]).length > 0
  }
  recordLastUsed(entries: readonly [number, number, number][], busyMs: number): void {
    if (entries.length === 0) return
    // One statement; a row an admin is writing right now waits at most busyMs (then the batch is retried later).
    this.c.exec('BEGIN')
    try {
      this.c.exec(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(busyMs))}`)
      this.run(
        `UPDATE keys k SET last_used_at = GREATEST(k.last_used_at, v.a0), prev_last_used_at = GREATEST(k.prev_last_used_at, v.a1),
                prev2_last_used_at = GREATEST(k.prev2_last_used_at, v.a2)
           FROM (SELECT id, max(at) FILTER (WHERE slot = 0) AS a0, max(at) FILTER (WHERE slot = 1) AS a1, max(at) FILTER (WHERE slot = 2) AS a2
                   FROM unnest(?::bigint[], ?::int[], ?::bigint[]) AS t(id, slot, at) GROUP BY id) v
          WHERE k.id = v.id`,
        [entries.map((e) => e[0]), entries.map((e) => e[1]), entries.map((e) => e[2])],
      )
      this.c.exec('COMMIT')
    } catch (e) {
      try { this.c.exec('ROLLBACK') } catch { /* gone */ }
      throw e
    }
  }

  // ── policy preview / purge ──
  countOverMaxAge(now: number, maxAgeMs: number): number {
    return this.value<number>(`SELECT count(*) FROM keys k WHERE k.status = 'active' AND k.expires_at > @now AND k.expires_at - k.created_at > @maxAge`, { now, maxAge: maxAgeMs })
  }
  sampleOverMaxAge(now: number, maxAgeMs: number, limit: number): KeyRecord[] {
    return this.rows(`${KEY_SELECT} WHERE k.status = 'active' AND k.expires_at > @now AND k.expires_at - k.created_at > @maxAge ORDER BY k.expires_at DESC LIMIT @limit`, {
      now, maxAge: maxAgeMs, limit,
    }).map(toKey)
  }
  ownersOverCap(cap: number, limit: number): { owner: string; keys: number }[] {
    return this.rows('SELECT o.name AS owner, count(*) AS keys FROM keys k JOIN owners o ON o.id = k.owner_id GROUP BY k.owner_id, o.name HAVING count(*) > ? ORDER BY keys DESC LIMIT ?', [
      cap, limit,
    ]) as { owner: string; keys: number }[]
  }
  purgeable(cutoff: number): KeyRecord[] {
    return this.rows(`${KEY_SELECT} WHERE ${PURGE_WHERE}`, { cutoff }).map(toKey)
  }
  countPurgeable(cutoff: number): number {
    return this.value<number>(`SELECT count(*) FROM keys k WHERE ${PURGE_WHERE}`, { cutoff })
  }
  deleteKeys(ids: readonly number[]): void {
    if (ids.length) this.run('DELETE FROM keys WHERE id = ANY(?::bigint[])', [ids])
  }

  // ── tombstones ──
  insertRetired(t: RetiredRecord): void {
    this.run('INSERT INTO retired (hash, access_id, at, audit_id, mac) VALUES (?, ?, ?, ?, ?)', [t.hash, t.accessId, t.at, t.auditId, t.mac])
  }
  retiredByHash(hash: Buffer): RetiredRecord[] {
    return this.rows('SELECT * FROM retired WHERE hash = ? ORDER BY at', [hash]).map(toRetired)
  }
  deleteRetiredRow(hash: Buffer, at: number): void {
    this.run('DELETE FROM retired WHERE hash = ? AND at = ?', [hash, at])
  }
  insertRevocation(t: RevocationRecord): void {
    this.run('INSERT INTO revocations (access_id, at, audit_id, mac) VALUES (?, ?, ?, ?)', [t.accessId, t.at, t.auditId, t.mac])
  }
  revocationOf(accessId: string): RevocationRecord | undefined {
    const r = this.one('SELECT * FROM revocations WHERE access_id = ?', [accessId])
    return r && toRevocation(r)
  }
  tombstoneCounts(): { retired: number; revocations: number } {
    return this.one('SELECT (SELECT count(*) FROM retired) AS retired, (SELECT count(*) FROM revocations) AS revocations') as { retired: number; revocations: number }
  }
  *iterateRetired(): IterableIterator<RetiredRecord> {
    for (const r of this.rows('SELECT * FROM retired')) yield toRetired(r)
  }
  *iterateRevocations(): IterableIterator<RevocationRecord> {
    for (const r of this.rows('SELECT * FROM revocations')) yield toRevocation(r)
  }

  // ── audit ──
  auditMaxId(): number {
    return this.value<number | null>('SELECT max(id) FROM audit') ?? 0
  }
  insertAudit(a: AuditRecord): void {
    this.run('INSERT INTO audit (id, at, actor, action, target, detail, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      a.id, a.at, a.actor, a.action, a.target, a.detail, a.prevHash, a.hash, a.mac,
    ])
  }
  auditById(id: number): AuditRecord | undefined {
    const r = this.one('SELECT * FROM audit WHERE id = ?', [id])
    return r && toAudit(r)
  }
  *iterateAudit(): IterableIterator<AuditRecord> {
    for (let after = 0; ; ) {
      const page = this.rows('SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT ?', [after, PAGE])
      for (const r of page) yield toAudit(r)
      if (page.length < PAGE) return
      after = page[page.length - 1]!.id as number
    }
  }
  listAudit(q: AuditQuery): AuditRecord[] {
    const { sql, params } = auditPageSql(q)
    return this.rows(sql, params).map(toAudit)
  }
  lastAuditIdOf(action: string): number {
    return this.value<number | null>('SELECT max(id) FROM audit WHERE action = ?', [action]) ?? 0
  }

  // ── reminders ──
  reminderCandidates(now: number, until: number): KeyRecord[] {
    return this.rows(`${KEY_SELECT} WHERE k.status = 'active' AND k.disabled_at IS NULL AND k.expires_at > @now AND k.expires_at <= @until ORDER BY k.expires_at LIMIT 10000`, {
      now, until,
    }).map(toKey)
  }
  remindedThresholds(keyIds: readonly number[]): Map<number, Set<number>> {
    const out = new Map<number, Set<number>>(keyIds.map((id) => [id, new Set<number>()]))
    if (keyIds.length === 0) return out
    for (const r of this.rows('SELECT key_id, threshold_days FROM reminders WHERE key_id = ANY(?::bigint[])', [keyIds]))
      out.get(r.key_id as number)?.add(r.threshold_days as number)
    return out
  }
  insertReminders(items: readonly { keyId: number; thresholdDays: number; at: number }[]): void {
    if (items.length === 0) return
    this.transaction(() =>
      this.run('INSERT INTO reminders (key_id, threshold_days, at) SELECT * FROM unnest(?::bigint[], ?::int[], ?::bigint[]) ON CONFLICT DO NOTHING', [
        items.map((i) => i.keyId), items.map((i) => i.thresholdDays), items.map((i) => i.at),
      ]),
    )
  }

  // ── whole store ──
  integrityCheck(): string[] {
    // The server keeps its own pages consistent (and checksums them where initdb enabled it); the rows are what we check.
    return []
  }
  snapshotTo(): void {
    throw new KeydeskError('invalid_input', 'keydesk backup copies a local store; back up a team store with pg_dump (see docs/team.md).')
  }
  /** The change feed's newest sequence number (gateways poll it where LISTEN is unavailable). */
  changesSince(seq: number, limit = 10_000): { seq: number; accessId: string }[] {
    return this.rows('SELECT seq, access_id FROM changes WHERE seq > ? ORDER BY seq LIMIT ?', [seq, limit]).map((r) => ({ seq: r.seq as number, accessId: r.access_id as string }))
  }
  lastChange(): number {
    return this.value<number | null>('SELECT max(seq) FROM changes') ?? 0
  }
  close(): void {
    this.c.close()
  }
}

function toRetired(r: Row): RetiredRecord {
  return { hash: r.hash as Buffer, accessId: r.access_id as string, at: r.at as number, auditId: r.audit_id as number, mac: r.mac as Buffer }
}
function toRevocation(r: Row): RevocationRecord {
  return { accessId: r.access_id as string, at: r.at as number, auditId: r.audit_id as number, mac: r.mac as Buffer }
}

/** Run the migrations this database lacks, each in one transaction under the write lock. */
export function migratePg(c: PgSyncClient, migrations: readonly PgMigration[] = PG_MIGRATIONS, upTo = Infinity): void {
  // Nothing is written to a store that is up to date: a gateway's read-only role, or a
  // read replica, opens it without any DDL.
  const version = (): number =>
    c.query<{ ok: boolean }>(`SELECT to_regclass('keydesk_schema') IS NOT NULL AS ok`).rows[0]!.ok
      ? (c.query<{ version: number }>('SELECT version FROM keydesk_schema').rows[0]?.version ?? 0)
      : -1
  const wanted = Math.min(upTo, migrations[migrations.length - 1]?.version ?? 0)
  const v0 = version()
  if (v0 >= wanted) return
  if (v0 < 0) c.exec('CREATE TABLE IF NOT EXISTS keydesk_schema (version INTEGER NOT NULL)')
  for (const m of migrations) {
    if (m.version > upTo) break
    c.exec('BEGIN')
    try {
      c.exec(`SELECT pg_advisory_xact_lock(${WRITE_LOCK})`)
      const v = (c.query<{ version: number }>('SELECT version FROM keydesk_schema').rows[0]?.version ?? 0)
      if (v < m.version) {
        c.exec(m.up)
        if (v === 0) c.query('INSERT INTO keydesk_schema (version) VALUES ($1)', [m.version])
        else c.query('UPDATE keydesk_schema SET version = $1', [m.version])
      }
      c.exec('COMMIT')
    } catch (e) {
      try { c.exec('ROLLBACK') } catch { /* gone */ }
      throw e
    }
  }
}

/**
 * Connect to a team store. A database without a KeyDesk store is refused unless
 * `create` (only `keydesk team init`), and even then only when it holds no other
 * tables: a store is never invented, never mixed into someone else's schema.
 */
/**
 * Connect to a team store and bring its schema up to date. A database without a
 * KeyDesk store is refused unless `create` (only `keydesk team init`), and even then
 * only when it holds no other tables: a store is never invented, never mixed into
 * someone else's schema.
 */
export function connectTeamStore(url: string, opts: { create?: boolean; callTimeoutMs?: number } = {}): { client: PgSyncClient; location: string } {
  const location = redactUrl(url)
  let c: PgSyncClient | undefined
  try {
    c = new PgSyncClient(url, opts.callTimeoutMs ? { callTimeoutMs: opts.callTimeoutMs } : {})
    const has = c.query<{ ok: boolean }>(`SELECT to_regclass('keydesk_schema') IS NOT NULL AS ok`).rows[0]!.ok
    if (!has) {
      if (!opts.create)
        throw new KeydeskError('store_unavailable', `There is no KeyDesk store in the team database at ${location}. Check --store (or KEYDESK_STORE); keydesk team init --store URL creates one.`)
      const others = c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = current_schema()`).rows[0]!.n
      if (others > 0)
        throw new KeydeskError('store_unavailable', `The database at ${location} already holds ${others} other table(s); KeyDesk creates a team store only in an empty database (or schema).`)
    }
    const v = has ? (c.query<{ version: number }>('SELECT version FROM keydesk_schema').rows[0]?.version ?? 0) : 0
    const latest = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version
    if (v > latest) throw new KeydeskError('store_unavailable', `The team store at ${location} has schema version ${v}, newer than this KeyDesk understands (${latest}); upgrade KeyDesk.`)
    migratePg(c)
    return { client: c, location }
  } catch (e) {
    c?.close()
    throw pgError(location, e)
  }
}

export function openPostgres(url: string, opts: { create?: boolean } = {}): PostgresStorage {
  const { client, location } = connectTeamStore(url, opts)
  return new PostgresStorage(client, location)
}

export { pgError }
