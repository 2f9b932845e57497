/**
 * Issuing, resetting, editing, disabling and revoking keys. A secret exists in
 * memory between generation and the return of create/reset; only its HMAC and a
 * hint reach the store, and it is returned only after its row is committed.
 *
 * Credential CSVs: the target is checked before anything else, the whole file is
 * staged (0600, every byte written, fsynced, size checked) and linked into place
 * inside the write transaction, just before its commit; if the commit then fails,
 * the placed file is withdrawn. So there is no delivery step after the commit that
 * could fail: a committed key's secret is always in its CSV, never only in a
 * temporary file, and a failed delivery leaves the store (and, for a reset, the old
 * secret) exactly as it was.
 */
import { KeydeskError, invalid } from '../errors'
import { DAY_MS, iso, parseDuration, parseInstant } from '../duration'
import { keyHint, newAccessId, newAccessKey } from '../keyformat'
import { normalizeDescription, normalizeName, normalizeScopes } from '../names'
import { retiredMacData, revocationMacData } from '../macs'
import { CREDENTIAL_FIELDS, parseImportCsv, toCsv } from '../csv'
import { checkTarget, stagePrivateFile, type PendingFile } from '../files'
import type { CreateInput, IssuedKey, KeyChanges, KeyView, Policy } from '../types'
import type { KeyFields, KeyRecord, OwnerRecord } from '../storage/port'
import type { ServiceContext } from './context'
import type { OwnerService } from './owners'
import type { PolicyService } from './policy'
import type { InventoryService } from './inventory'

const MAX_GRACE_MS = 30 * DAY_MS
const REASON_MAX = 500
/** Keys revoked per transaction in bulk revokes, so another writer never waits near the busy timeout. */
export const REVOKE_CHUNK = 2000

export type PreviousChoice = 'keep' | 'end'

export function credentialCsvText(keys: readonly IssuedKey[]): string {
  return toCsv(
    CREDENTIAL_FIELDS,
    keys.map((k) => [k.name, k.accessId, k.accessKey, k.owner, k.scopes.join(' '), k.expiresAt]),
  )
}

export function normalizeReason(reason: string | undefined): string | null {
  if (reason === undefined) return null
  const s = reason.normalize('NFC').trim()
  if (s === '') return null
  if ([...s].length > REASON_MAX) throw invalid('reason', `Reason is too long: at most ${REASON_MAX} characters.`)
  if (/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(s)) throw invalid('reason', 'Reason must not contain control or bidirectional-override characters.')
  return s
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

const scopesOf = (k: KeyRecord): string[] => (k.scopes ? k.scopes.split(' ') : [])

/** A transaction that placed its credential CSV did not commit: take the file back (a staged one is removed). */
function withdraw(staged: PendingFile | undefined): void {
  if (!staged) return
  staged.abort()
  staged.withdraw()
}

export class KeyService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly owners: OwnerService,
    private readonly policy: PolicyService,
    private readonly inventory: InventoryService,
  ) {}

  private resolveExpiry(input: { expiresIn?: string; expiresAt?: string }, policy: Policy, now: number, createdAt = now): number {
    if (input.expiresIn !== undefined && input.expiresAt !== undefined && input.expiresIn.trim() !== '' && input.expiresAt.trim() !== '')
      throw invalid('expiresAt', 'Give either an expiry duration or an expiry date, not both.')
    let at: number
    if (input.expiresIn !== undefined && input.expiresIn.trim() !== '') at = now + parseDuration(input.expiresIn, 'expiresIn')
    else if (input.expiresAt !== undefined && input.expiresAt.trim() !== '') at = parseInstant(input.expiresAt, 'expiresAt')
    else at = now + policy.defaultExpiryDays * DAY_MS
    const field = input.expiresAt ? 'expiresAt' : 'expiresIn'
    if (at <= now) throw invalid(field, 'Expiry must be in the future.')
    const latest = createdAt + policy.maxKeyAgeDays * DAY_MS
    if (at > latest)
      throw new KeydeskError('policy', `Expiry is past the policy's maximum key age of ${policy.maxKeyAgeDays} days (latest allowed: ${iso(latest)}).`, field)
    return at
  }

  create(input: CreateInput, credentialCsv?: string): IssuedKey {
    return this.createMany([input], credentialCsv)[0]!
  }

  /** Issue every key or none (bulk import). */
  createMany(inputs: readonly CreateInput[], credentialCsv?: string, rowLabel?: (i: number) => string): IssuedKey[] {
    if (inputs.length === 0) throw invalid('keys', 'Nothing to create.')
    if (credentialCsv !== undefined) checkTarget(credentialCsv, 'csv')
    const scopesList = inputs.map((inp, i) => withRow(rowLabel, i, () => normalizeScopes(inp.scopes)))
    const descriptions = inputs.map((inp, i) => withRow(rowLabel, i, () => normalizeDescription(inp.description)))
    const explicitNames = inputs.map((inp, i) =>
      withRow(rowLabel, i, () => (inp.name === undefined || inp.name.trim() === '' ? undefined : normalizeName(inp.name))),
    )
    let staged: PendingFile | undefined
    let issued: IssuedKey[]
    try {
      issued = this.ctx.write(() => {
        const policy = this.policy.get()
        if (!policy.allowCreation) throw new KeydeskError('policy', 'Key creation is turned off by policy (allow-creation = false).')
        const now = this.ctx.now()
        const out: IssuedKey[] = []
        const namesSeen = new Set<string>()
        const ownerCache = new Map<string, OwnerRecord>()
        const keysPerOwner = new Map<number, number>()
        let nextId = this.ctx.storage.nextKeyId()
        inputs.forEach((inp, i) =>
          withRow(rowLabel, i, () => {
            const ownerKey = inp.owner?.trim() ?? ''
            let owner = ownerCache.get(ownerKey)
            if (!owner) ownerCache.set(ownerKey, (owner = this.owners.forCreate(inp.owner)))
            if (owner.disabledAt !== null) throw new KeydeskError('policy', `Owner "${owner.name}" is disabled; it cannot get new keys.`, 'owner')
            const expiresAt = this.resolveExpiry(inp, policy, now)
            // Counted once per owner per call (a count per row would make bulk issue quadratic).
            let count = keysPerOwner.get(owner.id)
            if (count === undefined) count = this.ctx.storage.countKeysOfOwner(owner.id)
            if (count >= policy.maxKeysPerOwner)
              throw new KeydeskError(
                'policy',
                `Owner "${owner.name}" has ${count} keys, the policy's maximum (${policy.maxKeysPerOwner}, counting active, expired and revoked keys). Purge old keys or raise max-keys-per-owner.`,
                'owner',
              )
            const accessId = newAccessId()
            const name = explicitNames[i] ?? `key-${accessId.slice(5, 13)}`
            const seenKey = `${owner.id}\u0000${name}`
            if (namesSeen.has(seenKey) || this.ctx.storage.liveNameTaken(owner.id, name, now))
              throw new KeydeskError('conflict', `Owner "${owner.name}" already has a live key named "${name}"; names are unique per owner until the key is revoked or expires.`, 'name')
            namesSeen.add(seenKey)
            keysPerOwner.set(owner.id, count + 1)
            const accessKey = newAccessKey()
            const fields: KeyFields = {
              accessId, ownerId: owner.id, ownerName: owner.name, ownerDisabledAt: null, name, description: descriptions[i]!,
              scopes: scopesList[i]!.join(' '), hash: this.ctx.crypto.hashKey(accessKey), hint: keyHint(accessKey), prevHash: null,
              prevValidUntil: null, prev2Hash: null, prev2ValidUntil: null, prevLastUsedAt: null, prev2LastUsedAt: null, status: 'active',
              createdAt: now, expiresAt, resetAt: null, revokedAt: null, revokedReason: null, disabledAt: null, disabledReason: null,
              mac: Buffer.alloc(0),
            }
            const id = nextId++
            fields.mac = this.ctx.newKeyMac(id, fields)
            this.ctx.storage.insertKey(id, fields, 2)
            this.ctx.storage.replaceScopes(id, scopesList[i]!)
            this.ctx.audit.append('key.create', accessId, { name, owner: owner.name, scopes: scopesList[i], expiresAt: iso(expiresAt) })
            out.push({ accessId, accessKey, name, owner: owner.name, scopes: scopesList[i]!, expiresAt: iso(expiresAt)! })
          }),
        )
        if (credentialCsv !== undefined) staged = this.deliver(credentialCsv, out)
        return out
      })
    } catch (e) {
      withdraw(staged)
      throw e
    }
    return issued
  }

  /** Only inside a write, as its last step: stage and place the credential CSV, and audit it. */
  private deliver(target: string, keys: readonly IssuedKey[]): PendingFile {
    const staged = stagePrivateFile(target, credentialCsvText(keys))
    try {
      this.ctx.audit.append('credentials.export', staged.path, { keys: keys.length })
      staged.commit() // throws DeliveryError: the transaction rolls back, nothing was issued
    } catch (e) {
      staged.abort()
      throw e
    }
    return staged
  }

  importCsv(csvText: string, credentialCsv?: string): IssuedKey[] {
    const rows = parseImportCsv(csvText)
    return this.createMany(
      rows.map((r) => ({ name: r.name, owner: r.owner, scopes: r.scopes, expiresAt: r.expiresAt, expiresIn: r.expiresIn, description: r.description })),
      credentialCsv,
      (i) => `Row ${rows[i]!.line} of the import CSV`,
    )
  }

  /**
   * A new secret. The old one retires at once or after `grace`; a previous secret
   * still in grace is kept until its own end ('keep') or retired now ('end'), and
   * never replaced silently: without a choice, a reset inside a grace period is refused.
   */
  reset(ref: string, opts: { confirm: string; grace?: string; owner?: string; previous?: PreviousChoice }, credentialCsv?: string): IssuedKey {
    const graceMs = opts.grace === undefined || opts.grace.trim() === '' ? 0 : parseDuration(opts.grace, 'grace')
    if (graceMs > MAX_GRACE_MS) throw invalid('grace', 'Grace period is too long: at most 30 days.')
    if (opts.previous !== undefined && opts.previous !== 'keep' && opts.previous !== 'end') throw invalid('previous', 'Previous secret: choose "keep" or "end".')
    if (credentialCsv !== undefined) checkTarget(credentialCsv, 'csv')
    let staged: PendingFile | undefined
    let issued: IssuedKey
    try {
      issued = this.ctx.write(() => {
        const r = this.inventory.resolve(ref, opts.owner)
        if (typeof opts.confirm !== 'string' || opts.confirm !== r.name)
          throw invalid('confirm', `The confirmation does not match the key's name exactly; type "${r.name}" to reset this key.`)
        this.ctx.requireAuthentic(r, 'reset it')
        if (r.status === 'revoked') throw new KeydeskError('conflict', `Key ${r.accessId} is revoked; a revoked key cannot be reset.`, 'key')
        const now = this.ctx.now()
        if (r.expiresAt <= now) throw new KeydeskError('conflict', `Key ${r.accessId} has expired; create a new key instead.`, 'key')
        const live1 = r.prevHash !== null && r.prevValidUntil !== null && r.prevValidUntil > now
        const live2 = r.prev2Hash !== null && r.prev2ValidUntil !== null && r.prev2ValidUntil > now
        if ((live1 || live2) && opts.previous === undefined)
          throw new KeydeskError(
            'conflict',
            `Key ${r.accessId} still has a previous secret in its grace period (until ${iso(live1 ? r.prevValidUntil : r.prev2ValidUntil)}); choose whether to keep it until then or end it now.`,
            'previous',
          )
        const accessKey = newAccessKey()
        const newHash = this.ctx.crypto.hashKey(accessKey)
        const auditId = this.ctx.audit.append('key.reset', r.accessId, {
          name: r.name, owner: r.owner.name, graceUntil: iso(graceMs > 0 ? Math.min(now + graceMs, r.expiresAt) : null), previous: opts.previous ?? null,
        })
        const retire = (hash: Buffer, at: number) =>
          this.ctx.storage.insertRetired({ hash, accessId: r.accessId, at, auditId, mac: this.ctx.crypto.mac(retiredMacData({ hash, accessId: r.accessId, at, auditId })) })
        // Previous secrets still in grace: kept (shifted down a slot) or retired now.
        let slots: { hash: Buffer; until: number; lastUsed: number | null }[] = []
        if (live1) slots.push({ hash: r.prevHash!, until: r.prevValidUntil!, lastUsed: r.prevLastUsedAt })
        if (live2) slots.push({ hash: r.prev2Hash!, until: r.prev2ValidUntil!, lastUsed: r.prev2LastUsedAt })
        if (opts.previous === 'end') {
          for (const s of slots) retire(s.hash, now)
          slots = []
        }
        if (graceMs > 0) {
          const until = Math.min(now + graceMs, r.expiresAt)
          retire(r.hash, until)
          slots.unshift({ hash: r.hash, until, lastUsed: r.lastUsedAt })
        } else retire(r.hash, now)
        if (slots.length > 2)
          throw new KeydeskError('conflict', `Key ${r.accessId} already keeps two previous secrets in grace; end them now to reset again with a grace period.`, 'previous')
        const s1 = slots[0]
        const s2 = slots[1]
        this.ctx.rewriteKey(
          r,
          {
            hash: newHash, hint: keyHint(accessKey), resetAt: now,
            prevHash: s1?.hash ?? null, prevValidUntil: s1?.until ?? null, prevLastUsedAt: s1?.lastUsed ?? null,
            prev2Hash: s2?.hash ?? null, prev2ValidUntil: s2?.until ?? null, prev2LastUsedAt: s2?.lastUsed ?? null,
          },
          'reset it',
        )
        const out: IssuedKey = { accessId: r.accessId, accessKey, name: r.name, owner: r.owner.name, scopes: scopesOf(r), expiresAt: iso(r.expiresAt)! }
        if (credentialCsv !== undefined) staged = this.deliver(credentialCsv, [out])
        return out
      })
    } catch (e) {
      withdraw(staged)
      throw e
    }
    return issued
  }

  /** Only inside a write: the row, and a tombstone for its access ID that no copied-back row can undo. */
  private markRevoked(k: KeyRecord, at: number, reason: string | null, auditId: number): void {
    // A row that cannot be believed keeps its failing MAC (it is never re-signed);
    // the tombstone alone makes sure it never verifies again.
    if (!this.ctx.keyTampered(k)) this.ctx.rewriteKey(k, { status: 'revoked', revokedAt: at, revokedReason: reason }, 'revoke it')
    if (k.revocationAt !== null) return
    this.ctx.storage.insertRevocation({ accessId: k.accessId, at, auditId, mac: this.ctx.crypto.mac(revocationMacData({ accessId: k.accessId, at, auditId })) })
  }

  private revokeOne(k: KeyRecord, at: number, why: string | null): void {
    const auditId = this.ctx.audit.append('key.revoke', k.accessId, { name: k.name, owner: k.owner.name, reason: why })
    this.markRevoked(k, at, why, auditId)
  }

  /** Revoke one or many keys; all or nothing. */
  revoke(refs: readonly string[], reason?: string, owner?: string): KeyView[] {
    if (refs.length === 0) throw invalid('keys', 'Name at least one key to revoke.')
    if (refs.length > 100_000) throw invalid('keys', 'Too many keys at once: at most 100 000.')
    const why = normalizeReason(reason)
    return this.ctx.write(() => {
      const now = this.ctx.now()
      const rows = refs.map((ref) => this.inventory.resolve(ref, owner))
      const seen = new Set<number>()
      for (const r of rows) {
        if (r.status === 'revoked') throw new KeydeskError('conflict', `Key ${r.accessId} ("${r.name}") is already revoked.`, 'key')
        if (seen.has(r.id)) throw invalid('keys', `Key ${r.accessId} is listed twice.`)
        seen.add(r.id)
      }
      for (const r of rows) this.revokeOne(r, now, why)
      const stale = this.inventory.staleDays()
      return rows.map((r) => this.inventory.view(this.ctx.storage.keyById(r.id)!, now, stale))
    })
  }

  /**
   * Revoke a set of keys in chunks (each its own transaction), so another writer
   * never waits longer than the busy timeout.
   */
  private revokeIds(ids: readonly number[], why: string | null): number {
    let done = 0
    for (let i = 0; i < ids.length; i += REVOKE_CHUNK) {
      const chunk = ids.slice(i, i + REVOKE_CHUNK)
      this.ctx.write(() => {
        const now = this.ctx.now()
        for (const id of chunk) {
          const k = this.ctx.storage.keyById(id)
          if (!k || k.status === 'revoked') continue
          this.revokeOne(k, now, why)
          done++
        }
      })
    }
    return done
  }

  revokeOwnerKeys(rawName: string, reason?: string): { owner: string; revoked: number } {
    const why = normalizeReason(reason)
    const o = this.owners.require(rawName)
    const ids = this.ctx.storage.keyIdsOfOwner(o.id, true)
    let revoked = 0
    if (ids.length === 0) this.ctx.write(() => this.ctx.audit.append('owner.revoke_all', o.name, { revoked: 0, reason: why }))
    else {
      revoked = this.revokeIds(ids, why)
      this.ctx.write(() => this.ctx.audit.append('owner.revoke_all', o.name, { revoked, reason: why }))
    }
    return { owner: o.name, revoked }
  }

  /**
   * Revoke every not-yet-revoked key a query matches ("select all" on a filtered view).
   * Refused if the count differs from what the admin was shown. Decided on MAC-verified
   * rows: a key whose MAC'd scopes do not name the filter's scope is not caught.
   */
  revokeMatching(q: Parameters<InventoryService['filterOf']>[0], expectedCount: number, reason?: string): { revoked: number } {
    const why = normalizeReason(reason)
    const f = this.inventory.filterOf(q, this.ctx.now())
    const now = this.ctx.now()
    const ids = this.ctx.storage.keyIdsMatching(f).filter((id) => {
      const k = this.ctx.storage.keyById(id)
      return k !== undefined && k.status === 'active' && !this.ctx.keyTampered(k, now)
    })
    if (ids.length !== expectedCount)
      throw new KeydeskError('conflict', `The selection changed: ${ids.length} keys now match, not ${expectedCount}. Nothing was revoked; review the list and try again.`, 'keys')
    return { revoked: this.revokeIds(ids, why) }
  }

  /** Edit what a key is (name, description, scopes, expiry within policy); its secrets are untouched. */
  update(ref: string, changes: KeyChanges, owner?: string): KeyView {
    const keys = Object.keys(changes).filter((k) => (changes as Record<string, unknown>)[k] !== undefined)
    if (keys.length === 0) throw invalid('changes', 'Nothing to change: give a new name, description, scopes or expiry.')
    const name = changes.name !== undefined ? normalizeName(changes.name) : undefined
    const description = changes.description !== undefined ? normalizeDescription(changes.description) : undefined
    const scopes = changes.scopes !== undefined ? normalizeScopes(changes.scopes) : undefined
    return this.ctx.write(() => {
      const r = this.inventory.resolve(ref, owner)
      this.ctx.requireAuthentic(r, 'edit it')
      if (r.status === 'revoked') throw new KeydeskError('conflict', `Key ${r.accessId} is revoked; a revoked key cannot be edited.`, 'key')
      const now = this.ctx.now()
      const next: Partial<KeyFields> = {}
      const diff: Record<string, { from: unknown; to: unknown }> = {}
      if (name !== undefined && name !== r.name) {
        if (this.ctx.storage.liveNameTaken(r.ownerId, name, now, r.id))
          throw new KeydeskError('conflict', `Owner "${r.owner.name}" already has a live key named "${name}".`, 'name')
        next.name = name
        diff.name = { from: r.name, to: name }
      }
      if (description !== undefined && description !== r.description) {
        next.description = description
        diff.description = { from: r.description, to: description }
      }
      if (scopes !== undefined && scopes.join(' ') !== r.scopes) {
        next.scopes = scopes.join(' ')
        diff.scopes = { from: scopesOf(r), to: scopes }
      }
      if ((changes.expiresIn ?? '').trim() !== '' || (changes.expiresAt ?? '').trim() !== '') {
        const at = this.resolveExpiry(changes, this.policy.get(), now, r.createdAt)
        if (at !== r.expiresAt) {
          next.expiresAt = at
          diff.expiresAt = { from: iso(r.expiresAt), to: iso(at) }
        }
      }
      if (Object.keys(next).length === 0) return this.inventory.view(r, now)
      this.ctx.rewriteKey(r, next, 'edit it')
      if (next.scopes !== undefined) this.ctx.storage.replaceScopes(r.id, scopes!)
      this.ctx.audit.append('key.update', r.accessId, { owner: r.owner.name, ...diff })
      return this.inventory.view(this.ctx.storage.keyById(r.id)!, now)
    })
  }

  /** Switch a key off (reversible): verify answers `disabled` until it is enabled again. */
  disable(ref: string, reason?: string, owner?: string): KeyView {
    const why = normalizeReason(reason)
    return this.ctx.write(() => {
      const r = this.inventory.resolve(ref, owner)
      if (r.status === 'revoked') throw new KeydeskError('conflict', `Key ${r.accessId} is revoked; it cannot be disabled.`, 'key')
      if (r.disabledAt !== null) throw new KeydeskError('conflict', `Key ${r.accessId} is already disabled.`, 'key')
      const now = this.ctx.now()
      this.ctx.rewriteKey(r, { disabledAt: now, disabledReason: why }, 'disable it')
      this.ctx.audit.append('key.disable', r.accessId, { name: r.name, owner: r.owner.name, reason: why })
      return this.inventory.view(this.ctx.storage.keyById(r.id)!, now)
    })
  }

  enable(ref: string, owner?: string): KeyView {
    return this.ctx.write(() => {
      const r = this.inventory.resolve(ref, owner)
      if (r.status === 'revoked') throw new KeydeskError('conflict', `Key ${r.accessId} is revoked; a revoked key cannot be enabled.`, 'key')
      if (r.disabledAt === null) throw new KeydeskError('conflict', `Key ${r.accessId} is not disabled.`, 'key')
      this.ctx.rewriteKey(r, { disabledAt: null, disabledReason: null }, 'enable it')
      this.ctx.audit.append('key.enable', r.accessId, { name: r.name, owner: r.owner.name })
      return this.inventory.view(this.ctx.storage.keyById(r.id)!)
    })
  }
}
