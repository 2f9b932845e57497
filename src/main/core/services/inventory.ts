/**
 * Reading keys: find one by access ID or name, list and filter, stream every key,
 * scopes in use, reminders due, and find a key by a presented secret (leak scan).
 * Every view says whether its row can be believed (`tampered`).
 */
import { KeydeskError, invalid } from '../errors'
import { DAY_MS, iso } from '../duration'
import { isAccessId, isWellFormedAccessKey } from '../keyformat'
import { normalizeName, normalizeScopes } from '../names'
import type { KeyMatch, KeyPage, KeyQuery, KeyView, ReminderDue } from '../types'
import type { KeyFilter, KeyRecord, KeySort } from '../storage/port'
import type { ServiceContext } from './context'
import type { OwnerService } from './owners'
import type { PolicyService } from './policy'

const MAX_PAGE = 1000
const SORTS: readonly KeySort[] = ['created', 'name', 'accessId', 'owner', 'status', 'expires', 'lastUsed']

export class InventoryService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly owners: OwnerService,
    private readonly policy: PolicyService,
  ) {}

  view(r: KeyRecord, now = this.ctx.now(), staleAfterDays = this.staleDays()): KeyView {
    const previousSecrets = [
      { hash: r.prevHash, until: r.prevValidUntil, lastUsed: r.prevLastUsedAt },
      { hash: r.prev2Hash, until: r.prev2ValidUntil, lastUsed: r.prev2LastUsedAt },
    ]
      .filter((p) => r.status === 'active' && p.hash !== null && p.until !== null && p.until > now)
      .map((p) => ({ hint: 'previous', graceUntil: iso(p.until)!, lastUsedAt: iso(p.lastUsed) }))
    const live = r.status === 'active' && r.expiresAt > now
    return {
      accessId: r.accessId,
      name: r.name,
      owner: r.owner.name,
      ownerKind: r.owner.kind,
      ownerDisabled: r.owner.disabledAt !== null,
      description: r.description,
      scopes: r.scopes ? r.scopes.split(' ') : [],
      status: r.status === 'revoked' ? 'revoked' : r.expiresAt <= now ? 'expired' : r.disabledAt !== null ? 'disabled' : 'active',
      hint: r.hint,
      createdAt: iso(r.createdAt)!,
      expiresAt: iso(r.expiresAt)!,
      resetAt: iso(r.resetAt),
      revokedAt: iso(r.revokedAt),
      revokedReason: r.revokedReason,
      lastUsedAt: iso(r.lastUsedAt),
      graceUntil: previousSecrets.length ? previousSecrets.map((p) => p.graceUntil).sort().at(-1)! : null,
      previousSecrets,
      disabledAt: iso(r.disabledAt),
      stale: live && staleAfterDays > 0 && (r.lastUsedAt ?? r.createdAt) < now - staleAfterDays * DAY_MS,
      tampered: this.ctx.keyTampered(r, now),
    }
  }

  /** The policy's stale-after-days, read once per listing (0 when the policy cannot be read). */
  staleDays(): number {
    try {
      return this.policy.get().staleAfterDays
    } catch {
      return 0 // a tampered policy is reported where it is used; views still render
    }
  }

  /** Find one key by access ID or by name (optionally within an owner). */
  resolve(ref: string, ownerRaw?: string): KeyRecord {
    if (typeof ref !== 'string' || ref.trim() === '') throw invalid('key', 'Give a key by its access ID or name.')
    const now = this.ctx.now()
    const t = ref.trim()
    if (isAccessId(t)) {
      const r = this.ctx.storage.keyByAccessId(t)
      if (!r) throw new KeydeskError('not_found', `No key has access ID ${t}.`, 'key')
      return r
    }
    // A pasted secret is not a name: refuse it without echoing it into an error (and so into logs).
    if (/^kdsk_[0-9A-Za-z]{30,}$/.test(t))
      throw invalid('key', 'That is an access key (the secret), not an access ID or a name; give the key by its access ID (kdid_…) or name.')
    const name = normalizeName(ref, 'key', 'Key name')
    let rows = this.ctx.storage.keysByName(name, 200)
    if (ownerRaw !== undefined) {
      const owner = this.owners.require(ownerRaw)
      rows = rows.filter((r) => r.ownerId === owner.id)
    }
    if (rows.length === 0) throw new KeydeskError('not_found', `No key is named "${name}"${ownerRaw ? ` for owner "${ownerRaw.trim()}"` : ''}.`, 'key')
    const owners = [...new Set(rows.map((r) => r.owner.name))]
    if (owners.length > 1)
      throw new KeydeskError(
        'conflict',
        `The name "${name}" matches keys of several owners: ${rows.slice(0, 10).map((r) => `${r.owner.name} (${r.accessId})`).join(', ')}. Give the access ID or --owner.`,
        'key',
      )
    const live = rows.filter((r) => r.status === 'active' && r.expiresAt > now)
    return live[0] ?? rows[0]!
  }

  get(ref: string, owner?: string): KeyView {
    return this.view(this.resolve(ref, owner))
  }

  /** A query, validated, as a storage filter. */
  filterOf(q: Omit<KeyQuery, 'offset' | 'limit' | 'sort' | 'order'>, now: number): KeyFilter {
    const f: KeyFilter = { now }
    const status = q.status ?? 'all'
    if (status === 'active' || status === 'disabled' || status === 'expired' || status === 'revoked') f.status = status
    else if (status !== 'all') throw invalid('status', 'Status must be one of all, active, disabled, expired, revoked.')
    if (q.owner !== undefined && q.owner.trim() !== '') {
      const o = this.owners.byName(normalizeName(q.owner, 'owner', 'Owner'))
      if (!o) throw new KeydeskError('not_found', `Owner "${q.owner.trim()}" does not exist.`, 'owner')
      f.ownerId = o.id
    }
    if (q.scope !== undefined && q.scope.trim() !== '') f.scope = normalizeScopes([q.scope])[0]
    if (q.expiringWithinDays !== undefined) {
      const d = q.expiringWithinDays
      if (!Number.isInteger(d) || d < 0 || d > 3650) throw invalid('expiringWithin', 'Expiring-within must be a whole number of days between 0 and 3650.')
      f.expiringUntil = now + d * DAY_MS
    }
    if (q.unusedForDays !== undefined) {
      const d = q.unusedForDays
      if (!Number.isInteger(d) || d < 1 || d > 3650) throw invalid('unusedFor', 'Unused-for must be a whole number of days between 1 and 3650.')
      f.unusedSince = now - d * DAY_MS
    }
    const search = q.search?.normalize('NFC').trim() ?? ''
    if (search.length > 200) throw invalid('search', 'Search text is too long: at most 200 characters.')
    if (search !== '') {
      if (/^kdid_[0-9A-Za-z]*$/.test(search)) f.accessIdPrefix = search
      else f.text = search
    }
    return f
  }

  list(q: KeyQuery = {}): KeyPage {
    const now = this.ctx.now()
    const f = this.filterOf(q, now)
    const sort = q.sort ?? 'created'
    if (!SORTS.includes(sort)) throw invalid('sort', `Sort must be one of ${SORTS.join(', ')}.`)
    const limit = q.limit ?? 50
    const offset = q.offset ?? 0
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalid('limit', `Limit must be a whole number from 1 to ${MAX_PAGE}.`)
    if (!Number.isInteger(offset) || offset < 0) throw invalid('offset', 'Offset must be a whole number, 0 or more.')
    const order = q.order === 'asc' ? 'ASC' : q.order === 'desc' ? 'DESC' : undefined
    const stale = this.staleDays()
    const items = this.ctx.storage.queryKeys(f, sort, order, limit, offset).map((r) => this.view(r, now, stale))
    return { items, total: this.ctx.storage.countKeys(f) }
  }

  *iterate(): IterableIterator<KeyView> {
    const now = this.ctx.now()
    const stale = this.staleDays()
    for (const r of this.ctx.storage.iterateKeys()) yield this.view(r, now, stale)
  }

  scopesInUse(): string[] {
    return this.ctx.storage.scopesInUse(this.ctx.now())
  }

  /** Which key a presented secret belongs to (current or previous secret). Never returns the secret. */
  findByKey(accessKey: string): KeyMatch | null {
    const key = typeof accessKey === 'string' ? accessKey.trim() : ''
    if (!isWellFormedAccessKey(key)) return null
    const hash = this.ctx.crypto.hashKey(key)
    let accessId: string | undefined
    let previous = false
    const cur = this.ctx.storage.verifyByCurrent(hash)
    if (cur) accessId = cur[1]
    else {
      const prev = this.ctx.storage.verifyByPrevious(hash)
      if (prev) { accessId = prev.row[1]; previous = true }
      else {
        const t = this.ctx.storage.retiredByHash(hash)[0]
        if (t) { accessId = t.accessId; previous = true }
      }
    }
    if (!accessId) return null
    const r = this.ctx.storage.keyByAccessId(accessId)
    if (!r) return null
    const v = this.view(r)
    const verdict = this.ctx.verifier.verify({ accessKey: key }, false)
    return { accessId, name: v.name, owner: v.owner, status: v.status, hint: v.hint, previous, live: verdict.valid }
  }

  /** Active keys that crossed a reminder threshold not yet reminded of (the smallest crossed one per key). */
  dueReminders(now = this.ctx.now()): ReminderDue[] {
    const thresholds = this.policy.get().reminderDays
    if (thresholds.length === 0) return []
    const maxDays = Math.max(...thresholds)
    const rows = this.ctx.storage.reminderCandidates(now, now + maxDays * DAY_MS).filter((r) => !this.ctx.keyTampered(r, now))
    const done = this.ctx.storage.remindedThresholds(rows.map((r) => r.id))
    const out: ReminderDue[] = []
    for (const r of rows) {
      const left = r.expiresAt - now
      const crossed = thresholds.filter((d) => left <= d * DAY_MS)
      const smallest = Math.min(...crossed)
      if (!crossed.length || done.get(r.id)?.has(smallest)) continue
      out.push({ accessId: r.accessId, name: r.name, owner: r.owner.name, expiresAt: iso(r.expiresAt)!, thresholdDays: smallest })
    }
    return out
  }

  /** Remember reminders shown (every threshold at or above the one shown), so a restart does not repeat them. */
  markReminded(items: readonly ReminderDue[]): void {
    if (items.length === 0) return
    const thresholds = this.policy.get().reminderDays
    const at = this.ctx.now()
    const rows: { keyId: number; thresholdDays: number; at: number }[] = []
    for (const i of items) {
      const r = this.ctx.storage.keyByAccessId(i.accessId)
      if (!r) continue
      for (const d of thresholds) if (d >= i.thresholdDays) rows.push({ keyId: r.id, thresholdDays: d, at })
    }
    this.ctx.storage.insertReminders(rows)
  }
}
