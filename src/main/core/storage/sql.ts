/**
 * The SQL both adapters share (SQLite and PostgreSQL speak the same dialect for
 * everything the domain needs, with named @parameters; the PostgreSQL adapter
 * numbers them), and the one place where rows become records.
 */
import type { AuditRecord, KeyFields, KeyFilter, KeyRecord, KeySort, OwnerRecord } from './port'

export type Dialect = 'sqlite' | 'pg'

export const KEY_SELECT = `SELECT k.id, k.access_id, k.owner_id, k.owner_name, k.owner_disabled_at, k.name, k.description, k.scopes, k.hash, k.hint,
  k.prev_hash, k.prev_valid_until, k.prev2_hash, k.prev2_valid_until, k.status, k.created_at, k.expires_at, k.reset_at, k.revoked_at,
  k.revoked_reason, k.disabled_at, k.disabled_reason, k.last_used_at, k.prev_last_used_at, k.prev2_last_used_at, k.mac, k.mac_version,
  o.id AS o_id, o.name AS o_name, o.kind AS o_kind, o.created_at AS o_created_at, o.disabled_at AS o_disabled_at, o.mac AS o_mac,
  (SELECT at FROM revocations rv WHERE rv.access_id = k.access_id) AS revocation_at,
  (SELECT min(at) FROM retired rt WHERE rt.hash = k.hash) AS current_retired_at
  FROM keys k JOIN owners o ON o.id = k.owner_id`

/**
 * VerifyRow order (port.ts). One indexed lookup; the tombstone probes run inside the
 * same statement. BLOBs come back as lowercase hex text: better-sqlite3 turns every
 * BLOB into a new Buffer, and at this size of row those allocations (and their
 * collection) cost more than the rest of the row. A row found by its current secret
 * does not read that hash back (the caller holds it).
 */
const hexOf = (d: Dialect, col: string): string => (d === 'pg' ? `encode(${col}, 'hex')` : `CASE WHEN ${col} IS NULL THEN NULL ELSE lower(hex(${col})) END`)
function verifyColumns(d: Dialect, hash: string): string {
  return `id, access_id, name, ${hash}, ${hexOf(d, 'prev_hash')}, prev_valid_until, ${hexOf(d, 'prev2_hash')}, prev2_valid_until, scopes, status,
  created_at, expires_at, revoked_at, disabled_at, ${hexOf(d, 'mac')}, owner_id, owner_name, owner_disabled_at, last_used_at`
}
const REVOKED_PROBE = 'EXISTS (SELECT 1 FROM revocations rv WHERE rv.access_id = keys.access_id)'
// Correlated subqueries (rt.hash = keys.hash): SQLite runs a parameter-only scalar subquery
// far slower (≈ 40 µs a lookup, measured) than one keyed on the outer row.
export const verifyCurrentSql = (d: Dialect): string =>
  `SELECT ${verifyColumns(d, 'NULL')}, ${REVOKED_PROBE}, (SELECT at FROM retired rt WHERE rt.hash = keys.hash ORDER BY at LIMIT 1) FROM keys WHERE hash = ?`
export const verifyPrevSql = (d: Dialect): string =>
  `SELECT ${verifyColumns(d, hexOf(d, 'hash'))}, ${REVOKED_PROBE}, (SELECT at FROM retired rt WHERE rt.hash = keys.prev_hash ORDER BY at LIMIT 1), 1 FROM keys WHERE prev_hash = ?
  UNION ALL SELECT ${verifyColumns(d, hexOf(d, 'hash'))}, ${REVOKED_PROBE}, (SELECT at FROM retired rt WHERE rt.hash = keys.prev2_hash ORDER BY at LIMIT 1), 2 FROM keys WHERE prev2_hash = ?`
/** The bench's floor: the statement verifyCurrentSql runs, without the tombstone probes. */
export const verifyFloorSql = (d: Dialect): string => `SELECT ${verifyColumns(d, 'NULL')} FROM keys WHERE hash = ?`

export const COLUMN: Record<keyof KeyFields, string> = {
  accessId: 'access_id',
  ownerId: 'owner_id',
  ownerName: 'owner_name',
  ownerDisabledAt: 'owner_disabled_at',
  name: 'name',
  description: 'description',
  scopes: 'scopes',
  hash: 'hash',
  hint: 'hint',
  prevHash: 'prev_hash',
  prevValidUntil: 'prev_valid_until',
  prev2Hash: 'prev2_hash',
  prev2ValidUntil: 'prev2_valid_until',
  status: 'status',
  createdAt: 'created_at',
  expiresAt: 'expires_at',
  resetAt: 'reset_at',
  revokedAt: 'revoked_at',
  revokedReason: 'revoked_reason',
  disabledAt: 'disabled_at',
  disabledReason: 'disabled_reason',
  prevLastUsedAt: 'prev_last_used_at',
  prev2LastUsedAt: 'prev2_last_used_at',
  mac: 'mac',
}

export type Row = Record<string, unknown>

export function toOwner(r: Row, p = ''): OwnerRecord {
  return {
    id: r[`${p}id`] as number,
    name: r[`${p}name`] as string,
    kind: r[`${p}kind`] as OwnerRecord['kind'],
    createdAt: r[`${p}created_at`] as number,
    disabledAt: (r[`${p}disabled_at`] as number | null) ?? null,
    mac: r[`${p}mac`] as Buffer,
  }
}

export function toKey(r: Row): KeyRecord {
  return {
    id: r.id as number,
    accessId: r.access_id as string,
    ownerId: r.owner_id as number,
    ownerName: r.owner_name as string,
    ownerDisabledAt: (r.owner_disabled_at as number | null) ?? null,
    name: r.name as string,
    description: r.description as string,
    scopes: r.scopes as string,
    hash: r.hash as Buffer,
    hint: r.hint as string,
    prevHash: (r.prev_hash as Buffer | null) ?? null,
    prevValidUntil: (r.prev_valid_until as number | null) ?? null,
    prev2Hash: (r.prev2_hash as Buffer | null) ?? null,
    prev2ValidUntil: (r.prev2_valid_until as number | null) ?? null,
    status: r.status as KeyRecord['status'],
    createdAt: r.created_at as number,
    expiresAt: r.expires_at as number,
    resetAt: (r.reset_at as number | null) ?? null,
    revokedAt: (r.revoked_at as number | null) ?? null,
    revokedReason: (r.revoked_reason as string | null) ?? null,
    disabledAt: (r.disabled_at as number | null) ?? null,
    disabledReason: (r.disabled_reason as string | null) ?? null,
    lastUsedAt: (r.last_used_at as number | null) ?? null,
    prevLastUsedAt: (r.prev_last_used_at as number | null) ?? null,
    prev2LastUsedAt: (r.prev2_last_used_at as number | null) ?? null,
    mac: r.mac as Buffer,
    macVersion: r.mac_version as number,
    owner: toOwner(r, 'o_'),
    revocationAt: (r.revocation_at as number | null) ?? null,
    currentRetiredAt: (r.current_retired_at as number | null) ?? null,
  }
}

export function toAudit(r: Row): AuditRecord {
  return {
    id: r.id as number, at: r.at as number, actor: r.actor as string, action: r.action as string, target: r.target as string,
    detail: r.detail as string, prevHash: r.prev_hash as Buffer, hash: r.hash as Buffer, mac: r.mac as Buffer,
  }
}

export const likeEscape = (s: string): string => s.replace(/[\\%_]/g, (c) => '\\' + c)

/** WHERE clause and parameters of a key filter (every filter has an index behind it). */
export function filterSql(f: KeyFilter, dialect: Dialect = 'sqlite'): { join: string; where: string; params: Record<string, unknown> } {
  const where: string[] = []
  const params: Record<string, unknown> = {}
  const now = () => (params.now = f.now)
  switch (f.status) {
    case 'active': now(); where.push(`k.status = 'active' AND k.expires_at > @now AND k.disabled_at IS NULL`); break
    case 'disabled': now(); where.push(`k.status = 'active' AND k.expires_at > @now AND k.disabled_at IS NOT NULL`); break
    case 'expired': now(); where.push(`k.status = 'active' AND k.expires_at <= @now`); break
    case 'revoked': where.push(`k.status = 'revoked'`); break
    case undefined: break
  }
  if (f.ownerId !== undefined) { where.push('k.owner_id = @ownerId'); params.ownerId = f.ownerId }
  if (f.scope !== undefined) {
    // The index finds candidates; the MAC'd scopes text decides (an index row added by hand adds nothing).
    where.push(`k.id IN (SELECT key_id FROM key_scopes WHERE scope = @scope) AND (' ' || k.scopes || ' ') LIKE @scopeLike ESCAPE '\\'`)
    params.scope = f.scope
    params.scopeLike = `% ${likeEscape(f.scope)} %`
  }
  if (f.expiringUntil !== undefined) {
    now()
    where.push(`k.status = 'active' AND k.expires_at > @now AND k.expires_at <= @until`)
    params.until = f.expiringUntil
  }
  if (f.unusedSince !== undefined) {
    now()
    where.push(`k.status = 'active' AND k.expires_at > @now AND coalesce(k.last_used_at, k.created_at) < @unusedSince`)
    params.unusedSince = f.unusedSince
  }
  if (f.accessIdPrefix !== undefined) {
    where.push('k.access_id >= @idLo AND k.access_id < @idHi')
    params.idLo = f.accessIdPrefix
    params.idHi = f.accessIdPrefix + '\u007f'
  }
  let join = ''
  if (f.text !== undefined) {
    if (dialect === 'pg' && [...f.text].length >= 3) {
      // pg_trgm's index (migration pg/0001) serves this expression, case-insensitively, as FTS5's trigram does.
      where.push(`(k.name || ' ' || k.access_id || ' ' || k.description) ILIKE @like ESCAPE '\\'`)
      params.like = `%${likeEscape(f.text)}%`
    } else if ([...f.text].length >= 3) {
      join = 'JOIN keys_fts f ON f.rowid = k.id'
      where.push('keys_fts MATCH @fts')
      params.fts = `"${f.text.replace(/"/g, '""')}"`
    } else {
      const like = dialect === 'pg' ? 'ILIKE' : 'LIKE' // SQLite's LIKE ignores ASCII case; PostgreSQL's does not
      where.push(`(k.name ${like} @like ESCAPE '\\' OR k.description ${like} @like ESCAPE '\\')`)
      params.like = `%${likeEscape(f.text)}%`
    }
  }
  return { join, where: where.length ? `WHERE ${where.join(' AND ')}` : '', params }
}

export const PURGE_WHERE = `(k.status = 'revoked' AND k.revoked_at < @cutoff) OR (k.status = 'active' AND k.expires_at < @cutoff)`

/** ORDER BY of a key page. Text sorts compare bytes on both engines (COLLATE "C" on PostgreSQL, SQLite's BINARY). */
export function sortSql(sort: KeySort, order: 'ASC' | 'DESC' | undefined, dialect: Dialect = 'sqlite'): string {
  const c = dialect === 'pg' ? ' COLLATE "C"' : ''
  const s: Record<KeySort, string> = {
    created: `k.id ${order ?? 'DESC'}`,
    name: `k.name${c} ${order ?? 'ASC'}, k.id DESC`,
    accessId: `k.access_id${c} ${order ?? 'ASC'}`,
    owner: `o.name${c} ${order ?? 'ASC'}, k.id DESC`,
    status: `CASE WHEN k.status = 'revoked' THEN 3 WHEN k.expires_at <= @sortNow THEN 2 WHEN k.disabled_at IS NOT NULL THEN 1 ELSE 0 END ${order ?? 'ASC'}, k.id DESC`,
    expires: `k.expires_at ${order ?? 'ASC'}, k.id DESC`,
    lastUsed: `k.last_used_at ${order ?? 'DESC'} NULLS LAST, k.id DESC`,
  }
  return s[sort]
}

export interface AuditQuery {
  action?: string
  target?: string
  beforeId?: number
  limit: number
}

/** One page of the audit log, newest first. */
export function auditPageSql(q: AuditQuery): { sql: string; params: Record<string, unknown> } {
  const where: string[] = []
  const params: Record<string, unknown> = { limit: q.limit }
  if (q.action) { where.push('action = @action'); params.action = q.action }
  if (q.target) { where.push(`target LIKE @target ESCAPE '\\'`); params.target = `%${likeEscape(q.target)}%` }
  if (q.beforeId !== undefined) { where.push('id < @beforeId'); params.beforeId = q.beforeId }
  return { sql: `SELECT * FROM audit ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT @limit`, params }
}
