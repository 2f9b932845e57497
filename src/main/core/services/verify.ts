/**
 * Is this key valid, and what may it do? Malformed and wrong-checksum keys are
 * rejected before any lookup. A key is found by its HMAC through a unique index, in
 * one statement that also probes the tombstones, so the work done does not depend
 * on how close a guess is. Verify never writes: last-used times are queued and
 * written later, off the caller's path (flushLastUsed, on a timer and at close).
 */
import { isAccessId, isWellFormedAccessKey } from '../keyformat'
import { keyMacData } from '../macs'
import { retiredMacData } from '../macs'
import { V, VERIFY_UNMACED, type VerifyRow } from '../storage/port'
import type { VerifyResult } from '../types'
import type { ServiceContext } from './context'

const LAST_USED_RESOLUTION_MS = 60_000
/** How long a last-used flush waits for another writer's lock before leaving it for later. */
const LAST_USED_BUSY_MS = 50
export const LAST_USED_FLUSH_MS = 5_000
/** Bound on the verified-row memo (≈ 300 bytes an entry). */
const MAC_MEMO_MAX = 50_000
/** Bound on queued last-used times (beyond it, further uses wait for the next flush). */
const PENDING_MAX = 100_000
/** Rows a timer flush writes at a time. */
const TIMER_SLICE = 2_000

/** Positions of the MAC-covered fields (and the MAC) in a VerifyRow. */
const MACED_FIELDS: readonly number[] = Array.from({ length: V.retiredAt + 1 }, (_, i) => i).filter((i) => !VERIFY_UNMACED.has(i))

/** Every MAC'd field and the MAC equal (hashes and MAC are hex text; fields no MAC covers are skipped; tombstones are read fresh each time). */
function sameVerifiedFields(a: VerifyRow, b: VerifyRow): boolean {
  for (const i of MACED_FIELDS) if (a[i] !== b[i]) return false
  return true
}

/** A row proven authentic, and the current-secret hash it was proven with when the row did not carry it. */
type Verified = { row: VerifyRow; hash: Buffer | null }

export class VerifyService {
  private readonly memo = new Map<number, Verified>()
  /** (id, slot) → time of use, waiting for the next flush. */
  private readonly pending = new Map<number, [id: number, slot: number, at: number]>()
  private timer: NodeJS.Timeout | undefined
  private closed = false

  constructor(private readonly ctx: ServiceContext) {}

  verify(input: { accessKey: string; accessId?: string }, noteUse = true): VerifyResult {
    const key = typeof input.accessKey === 'string' ? input.accessKey.trim() : ''
    if (!isWellFormedAccessKey(key)) return { valid: false, reason: 'malformed' }
    if (input.accessId !== undefined && !isAccessId(input.accessId)) return { valid: false, reason: 'malformed' }
    const hash = this.ctx.crypto.hashKey(key)
    const now = this.ctx.now()
    let slot = 0
    let r = this.ctx.storage.verifyByCurrent(hash)
    if (!r) {
      const p = this.ctx.storage.verifyByPrevious(hash)
      if (!p) return this.miss(input.accessId)
      r = p.row
      slot = p.slot
    }
    const accessId = r[V.accessId]
    if (input.accessId !== undefined && input.accessId !== accessId) return { valid: false, reason: 'mismatch' }
    if (!this.authentic(r, slot === 0 ? hash : undefined)) return { valid: false, reason: 'tampered' }
    const status = r[V.status]
    // Tombstones outlive rows: an active row whose access ID was revoked, or whose current
    // secret was retired, was copied back from an older state.
    if (r[V.revoked]) return { valid: false, reason: status === 'revoked' ? 'revoked' : 'tampered' }
    const retiredAt = r[V.retiredAt]
    if (slot === 0) {
      if (retiredAt !== null) return { valid: false, reason: 'tampered' }
    } else {
      const until = slot === 1 ? r[V.prevValidUntil] : r[V.prev2ValidUntil]
      if (until === null || until <= now || retiredAt === null || retiredAt <= now) return this.miss(input.accessId)
      // A grace secret: its retirement rows must be genuine (an edited one could push the end out).
      for (const t of this.ctx.storage.retiredByHash(hash))
        if (!this.ctx.crypto.macOk(retiredMacData(t), t.mac)) return { valid: false, reason: 'tampered' }
    }
    if (status === 'revoked') return { valid: false, reason: 'revoked' }
    if (r[V.expiresAt] <= now) return { valid: false, reason: 'expired' }
    if (r[V.disabledAt] !== null) return { valid: false, reason: 'disabled' }
    if (r[V.ownerDisabledAt] !== null) return { valid: false, reason: 'owner_disabled' }
    if (noteUse) this.noteUsed(r[V.id], slot, slot === 0 ? r[V.lastUsedAt] : null, now)
    const scopes = r[V.scopes]
    return { valid: true, accessId, owner: r[V.ownerName], scopes: scopes ? scopes.split(' ') : [] }
  }

  /** No live secret matched: remotely indistinguishable; locally, say whether the access ID given exists. */
  private miss(accessId: string | undefined): VerifyResult {
    return { valid: false, reason: accessId !== undefined && this.ctx.storage.keyByAccessId(accessId) ? 'mismatch' : 'unknown' }
  }

  /**
   * The row's MAC, with a bounded memo of rows already proven authentic: a row whose
   * MAC'd fields and MAC equal, field for field, one verified before (and, for a row
   * found by its current secret, with the same hash) needs no new HMAC.
   */
  private authentic(r: VerifyRow, currentHash: Buffer | undefined): boolean {
    const id = r[V.id]
    const seen = this.memo.get(id)
    if (
      seen !== undefined &&
      (currentHash === undefined ? seen.hash === null : seen.hash !== null && seen.hash.equals(currentHash)) &&
      sameVerifiedFields(seen.row, r)
    ) {
      this.memoHits++
      return true
    }
    const hash = currentHash ?? r[V.hash]
    const mac = r[V.mac]
    if (typeof hash !== 'string' && !(hash instanceof Buffer)) return false
    if (typeof mac !== 'string') return false
    const data = keyMacData({
      id, accessId: r[V.accessId], ownerId: r[V.ownerId], ownerName: r[V.ownerName], ownerDisabledAt: r[V.ownerDisabledAt], name: r[V.name],
      hash, prevHash: r[V.prevHash], prevValidUntil: r[V.prevValidUntil], prev2Hash: r[V.prev2Hash],
      prev2ValidUntil: r[V.prev2ValidUntil], scopes: r[V.scopes], status: r[V.status], createdAt: r[V.createdAt], expiresAt: r[V.expiresAt],
      revokedAt: r[V.revokedAt], disabledAt: r[V.disabledAt],
    })
    if (!this.ctx.crypto.macOk(data, Buffer.from(mac, 'hex'))) return false
    if (this.memo.size >= MAC_MEMO_MAX) this.memo.delete(this.memo.keys().next().value!)
    this.memo.set(id, { row: r, hash: currentHash ?? null })
    return true
  }

  /** The floor `npm run bench` compares verify to: the same HMAC and the same indexed lookup, nothing else. */
  floor(accessKey: string): boolean {
    return this.ctx.storage.lookupFloor(this.ctx.crypto.hashKey(accessKey))
  }

  /** Last use is recorded at most once a minute per key and secret, in a batched write on a timer. */
  private noteUsed(id: number, slot: number, lastUsedAt: number | null, now: number): void {
    if (lastUsedAt !== null && now - lastUsedAt < LAST_USED_RESOLUTION_MS) return
    const k = id * 4 + slot
    if (this.pending.has(k) || this.pending.size >= PENDING_MAX) return
    this.pending.set(k, [id, slot, now])
    this.schedule()
  }

  /** Verifications answered from the memo (no MAC computed): for tests of the memo itself. */
  memoHits = 0

  private schedule(): void {
    if (this.timer || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      // In slices, so a timer callback never holds an event loop (keydesk serve's) for long.
      if (this.flush(TIMER_SLICE) > 0) this.schedule()
    }, LAST_USED_FLUSH_MS)
    this.timer.unref()
  }

  /**
   * Write pending last-used times, at most maxRows of them (oldest first), and return
   * how many are still pending. Failures (e.g. a busy store) keep them for the next try.
   */
  flush(maxRows = Number.POSITIVE_INFINITY): number {
    if (this.pending.size === 0) return 0
    const entries: [number, number, number][] = []
    for (const e of this.pending.values()) {
      if (entries.length >= maxRows) break
      entries.push(e)
    }
    try {
      this.ctx.storage.recordLastUsed(entries, LAST_USED_BUSY_MS)
      for (const [id, slot] of entries) this.pending.delete(id * 4 + slot)
    } catch {
      // Informational only; retried on the next flush.
      this.schedule()
    }
    return this.pending.size
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.flush()
  }
}
