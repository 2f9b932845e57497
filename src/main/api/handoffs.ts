/**
 * One-time secrets between issue and the one-time dialog closing.
 *
 * create / reset / import put the IssuedKey[] here under a random 128-bit id and
 * hand the renderer { handoffId, keys } once. The credential CSV and the
 * clipboard copy are served from here, so the renderer never sends a secret
 * back. An entry dies on discard (dialog closed), after the TTL (10 minutes),
 * or when the renderer goes away (clear()). JavaScript strings cannot be
 * zeroed; "wipe" means every reference main holds is dropped at once.
 */
import { randomBytes } from 'node:crypto'
import { HANDOFF_TTL_MS, type OneTimeSecret } from '../../shared/contract'
import type { IssuedKey } from '../../shared/domain'

export interface Clock {
  now(): number
  /** Schedule fn after ms; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms)
    t.unref?.()
    return () => clearTimeout(t)
  },
}

interface Entry {
  keys: IssuedKey[]
  expiresAt: number
  cancelTimer: () => void
}

export class HandoffRegistry {
  private readonly entries = new Map<string, Entry>()

  constructor(
    private readonly clock: Clock = systemClock,
    readonly ttlMs: number = HANDOFF_TTL_MS,
  ) {}

  /** Keep keys for the TTL; returns what the renderer gets (once). */
  put(keys: readonly IssuedKey[]): OneTimeSecret {
    const id = randomBytes(16).toString('hex')
    const expiresAt = this.clock.now() + this.ttlMs
    const copy = keys.map((k) => ({ ...k, scopes: [...k.scopes] }))
    const cancelTimer = this.clock.setTimer(() => this.discard(id), this.ttlMs)
    this.entries.set(id, { keys: copy, expiresAt, cancelTimer })
    return { handoffId: id, handoffExpiresAt: new Date(expiresAt).toISOString(), keys: keys.map((k) => ({ ...k, scopes: [...k.scopes] })) }
  }

  /** The keys of a live handoff, or null when it was discarded or has expired. */
  get(id: string): readonly IssuedKey[] | null {
    const e = this.entries.get(id)
    if (!e) return null
    if (this.clock.now() >= e.expiresAt) {
      this.discard(id)
      return null
    }
    return e.keys
  }

  /** Forget a handoff now; true if it was still held. */
  discard(id: string): boolean {
    const e = this.entries.get(id)
    if (!e) return false
    e.cancelTimer()
    this.entries.delete(id)
    e.keys.length = 0
    return true
  }

  /** Forget every handoff (renderer closed or reloaded, app quitting). */
  clear(): void {
    for (const id of [...this.entries.keys()]) this.discard(id)
  }

  get size(): number {
    return this.entries.size
  }
}
