/**
 * Policy: max key age, key cap per owner, default expiry, the creation switch,
 * retention, reminder thresholds, the stale-key flag. Stored MAC'd and bound to
 * the audit entry that set it, so an older policy copied back is refused.
 */
import { KeydeskError, invalid } from '../errors'
import { DAY_MS } from '../duration'
import { policyMacData, revocationMacData } from '../macs'
import { DEFAULT_POLICY, type Policy, type PolicyPreview } from '../types'
import type { ServiceContext } from './context'
import type { InventoryService } from './inventory'

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
    reminderDays: p.reminderDays,
    staleAfterDays: int(p.staleAfterDays, 'stale-after-days', 0, 3650),
  }
  if (typeof out.allowCreation !== 'boolean') throw invalid('allow-creation', 'allow-creation must be true or false.')
  const r = out.reminderDays
  if (!Array.isArray(r) || r.length < 1 || r.length > 5 || r.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > 365) || new Set(r).size !== r.length)
    throw invalid('reminder-days', 'reminder-days must be 1 to 5 different whole numbers of days from 1 to 365, e.g. 30,7,1.')
  out.reminderDays = [...r].sort((a, b) => b - a)
  if (out.defaultExpiryDays > out.maxKeyAgeDays)
    throw invalid('default-expiry-days', `default-expiry-days (${out.defaultExpiryDays}) cannot exceed max-key-age-days (${out.maxKeyAgeDays}).`)
  return out
}

export class PolicyService {
  inventory!: InventoryService
  constructor(private readonly ctx: ServiceContext) {}

  /** Only inside a write; setBy is the audit entry that set it (0 for the initial policy). */
  write(p: Policy, setBy: number): void {
    this.ctx.storage.setMeta('policy', JSON.stringify({ ...p, setBy }))
    this.ctx.storage.setMeta('policy_mac', this.ctx.crypto.mac(policyMacData(p, setBy)).toString('hex'))
  }

  get(): Policy {
    const raw = this.ctx.storage.getMeta('policy')
    const mac = this.ctx.storage.getMeta('policy_mac')
    if (raw === undefined || mac === undefined) throw new KeydeskError('tampered', 'The policy is missing from the key store; it was edited outside KeyDesk.')
    let p: (Policy & { setBy: number }) | undefined
    try {
      p = JSON.parse(raw) as Policy & { setBy: number }
    } catch {
      p = undefined // unreadable JSON is an edit like any other
    }
    if (p === null || typeof p !== 'object' || !this.ctx.crypto.macOk(policyMacData({ ...DEFAULT_POLICY, ...p }, p.setBy), Buffer.from(mac, 'hex')))
      throw new KeydeskError('tampered', 'The policy in the key store was edited outside KeyDesk (its MAC does not match); refusing to use it.')
    // Bound to the last policy change: an older policy (with its own valid MAC) copied back is refused.
    if (p.setBy !== this.ctx.storage.lastAuditIdOf('policy.set'))
      throw new KeydeskError('tampered', 'The policy in the key store is older than its last recorded change (it was copied back from an older state); refusing to use it.')
    const { setBy: _setBy, ...policy } = p
    return { ...DEFAULT_POLICY, ...policy }
  }

  set(changes: Partial<Policy>): Policy {
    return this.ctx.write(() => {
      const before = this.get()
      const next = validatePolicy({ ...before, ...changes })
      const changed = Object.fromEntries(
        (Object.keys(next) as (keyof Policy)[])
          .filter((k) => JSON.stringify(next[k]) !== JSON.stringify(before[k]))
          .map((k) => [k, { from: before[k], to: next[k] }]),
      )
      const id = this.ctx.audit.append('policy.set', 'policy', changed)
      this.write(next, id)
      return next
    })
  }

  /** What-if: which existing keys and owners a proposed policy would catch. */
  preview(changes: Partial<Policy>): PolicyPreview {
    const p = validatePolicy({ ...this.get(), ...changes })
    const now = this.ctx.now()
    const maxAge = p.maxKeyAgeDays * DAY_MS
    const stale = this.inventory.staleDays()
    return {
      keysOverMaxAge: this.ctx.storage.countOverMaxAge(now, maxAge),
      ownersOverCap: this.ctx.storage.ownersOverCap(p.maxKeysPerOwner, 100),
      keysPurgeable: this.ctx.storage.countPurgeable(now - p.retentionDays * DAY_MS),
      sample: this.ctx.storage.sampleOverMaxAge(now, maxAge, 100).map((k) => this.inventory.view(k, now, stale)),
    }
  }

  /** Delete revoked and expired keys older than the retention period (their revocations stay as tombstones). */
  purge(): { purged: number } {
    return this.ctx.write(() => {
      const p = this.get()
      const now = this.ctx.now()
      const rows = this.ctx.storage.purgeable(now - p.retentionDays * DAY_MS)
      const auditId = this.ctx.audit.append('keys.purge', 'keys', { purged: rows.length, retentionDays: p.retentionDays })
      // A purged row copied back must not verify: every purged access ID keeps a tombstone.
      for (const r of rows)
        if (r.revocationAt === null)
          this.ctx.storage.insertRevocation({ accessId: r.accessId, at: now, auditId, mac: this.ctx.crypto.mac(revocationMacData({ accessId: r.accessId, at: now, auditId })) })
      this.ctx.storage.deleteKeys(rows.map((r) => r.id))
      return { purged: rows.length }
    })
  }
}
