/**
 * The audit log: every admin action, hash-chained (SHA-256 over the previous
 * entry) and MAC'd. The head (last id + hash, and how many tombstones exist) is
 * pinned in meta under a MAC once per transaction, so a truncated log or a deleted
 * tombstone is caught; the keychain anchor (integrity.ts) follows the head, so an
 * older copy of the whole store is caught too.
 */
import { sha256 } from '../crypto'
import { iso } from '../duration'
import { auditHeadMacData } from '../macs'
import type { AuditCheck, AuditEntry } from '../types'
import type { AuditRecord } from '../storage/port'
import type { ServiceContext } from './context'
import type { AuditAction } from '../../../shared/domain'

const MAX_PAGE = 1000
export const ZERO_HASH = Buffer.alloc(32)

export interface PinnedHead {
  id: number
  hash: Buffer
  retired: number
  revocations: number
}

export function entryHash(prev: Buffer, e: Pick<AuditRecord, 'id' | 'at' | 'actor' | 'action' | 'target' | 'detail'>): Buffer {
  return sha256(Buffer.concat([prev, Buffer.from(JSON.stringify([e.id, e.at, e.actor, e.action, e.target, e.detail]))]))
}

export class AuditService {
  /** The chain's tail within the current write transaction (undefined outside one). */
  private tail: { id: number; hash: Buffer; dirty: boolean } | undefined
  private inTx = false

  constructor(private readonly ctx: ServiceContext) {}

  beginTransaction(): void {
    this.inTx = true
    this.tail = undefined
  }
  abortTransaction(): void {
    this.inTx = false
    this.tail = undefined
  }

  /** Append an entry; only inside a write. Returns its id (tombstones refer to it). */
  append(action: AuditAction, target: string, detail: Record<string, unknown> = {}): number {
    if (!this.inTx || !this.ctx.storage.inTransaction) throw new Error('audit append outside a write transaction')
    const tail = (this.tail ??= { ...this.chainFrom(), dirty: false })
    const rec = { id: tail.id + 1, at: this.ctx.now(), actor: this.ctx.actor, action, target, detail: JSON.stringify(detail) }
    const hash = entryHash(tail.hash, rec)
    this.ctx.storage.insertAudit({ ...rec, prevHash: tail.hash, hash, mac: this.ctx.crypto.mac(hash) })
    this.tail = { id: rec.id, hash, dirty: true }
    return rec.id
  }

  /** Record the head (and the tombstone counts) if this transaction appended; returns it. */
  pinHead(): { id: number; hash: Buffer } | undefined {
    const tail = this.tail
    this.abortTransaction()
    if (!tail?.dirty) return undefined
    const counts = this.ctx.storage.tombstoneCounts()
    this.writeHead({ id: tail.id, hash: tail.hash, ...counts })
    return { id: tail.id, hash: tail.hash }
  }

  writeHead(h: PinnedHead): void {
    this.ctx.storage.setMeta('audit_head', JSON.stringify({ id: h.id, hash: h.hash.toString('hex'), retired: h.retired, revocations: h.revocations }))
    this.ctx.storage.setMeta('audit_head_mac', this.ctx.crypto.mac(auditHeadMacData(h)).toString('hex'))
  }

  /** The pinned head if its MAC holds, else undefined. */
  pinnedHead(): PinnedHead | undefined {
    const raw = this.ctx.storage.getMeta('audit_head')
    const mac = this.ctx.storage.getMeta('audit_head_mac')
    if (raw === undefined || mac === undefined) return undefined
    try {
      const o = JSON.parse(raw) as { id: number; hash: string; retired: number; revocations: number }
      const h: PinnedHead = { id: o.id, hash: Buffer.from(o.hash, 'hex'), retired: o.retired, revocations: o.revocations }
      if (!Number.isInteger(h.id) || h.hash.length !== 32) return undefined
      return this.ctx.crypto.macOk(auditHeadMacData(h), Buffer.from(mac, 'hex')) ? h : undefined
    } catch {
      return undefined
    }
  }

  /**
   * Where the next entry chains from: the MAC'd head, not the table's last row, so
   * entries deleted from the tail leave a gap that later writes cannot close.
   */
  private chainFrom(): { id: number; hash: Buffer } {
    const last = this.ctx.storage.auditMaxId()
    const head = this.pinnedHead()
    if (head) return { id: Math.max(head.id, last), hash: head.hash }
    return { id: last, hash: ZERO_HASH }
  }

  list(q: { action?: string; target?: string; beforeId?: number; limit?: number } = {}): AuditEntry[] {
    const limit = Math.min(Math.max(q.limit ?? 100, 1), MAX_PAGE)
    return this.ctx.storage.listAudit({ ...q, limit }).map((r) => ({
      id: r.id, at: iso(r.at)!, actor: r.actor, action: r.action, target: r.target, detail: JSON.parse(r.detail) as Record<string, unknown>,
    }))
  }

  /** Walk the chain from the first entry; report the first broken link, then the pinned head. */
  verify(): AuditCheck {
    return this.ctx.storage.readTransaction(() => this.verifyIn())
  }

  private verifyIn(): AuditCheck {
    let prev: Buffer = ZERO_HASH
    let expected = 1
    let checked = 0
    for (const r of this.ctx.storage.iterateAudit()) {
      if (r.id !== expected) return { ok: false, checked, brokenAt: expected, problem: `entry ${expected} is missing` }
      if (!r.prevHash.equals(prev)) return { ok: false, checked, brokenAt: r.id, problem: `entry ${r.id} does not link to entry ${r.id - 1}` }
      const hash = entryHash(prev, r)
      if (!hash.equals(r.hash) || !this.ctx.crypto.macOk(hash, r.mac)) return { ok: false, checked, brokenAt: r.id, problem: `entry ${r.id} was altered` }
      prev = r.hash
      expected++
      checked++
    }
    const head = this.pinnedHead()
    if (!head) return { ok: false, checked, brokenAt: checked + 1, problem: `the record of the log's last entry is missing or was edited (the log holds ${checked} entries)` }
    if (head.id !== checked || !head.hash.equals(prev))
      return { ok: false, checked, brokenAt: checked + 1, problem: `the log ends at entry ${checked} but its recorded head is entry ${head.id}` }
    return { ok: true, checked }
  }
}
