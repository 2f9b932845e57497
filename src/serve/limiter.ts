/**
 * Failed-attempt limiting per client: a token bucket per client address that
 * only failures drain. A client starts with `burst` tokens; each failed
 * verification takes one; tokens come back at `perMinute` a minute. With no
 * token left, requests from that client are answered 429 without a lookup until
 * one has come back (Retry-After says when).
 *
 * Memory is bounded: at most `maxClients` buckets, least recently failed evicted
 * first. A bucket that has refilled is the same as no bucket and is dropped.
 * IPv6 clients are grouped by /64, since one host usually holds the whole prefix.
 */
import { isIPv4, isIPv6 } from 'node:net'

export interface LimiterOptions {
  /** Failed attempts allowed at once; 0 turns limiting off. */
  burst: number
  /** Tokens returned per minute (> 0). */
  perMinute: number
  /** Most buckets kept in memory. */
  maxClients: number
  /** Monotonic milliseconds; for tests. */
  now?: () => number
}

export const DEFAULT_LIMITER: Omit<LimiterOptions, 'now'> = { burst: 20, perMinute: 20, maxClients: 10_000 }

interface Bucket {
  tokens: number
  at: number
}

export type LimitCheck = { limited: false } | { limited: true; retryAfterSeconds: number }

export class FailureLimiter {
  private readonly buckets = new Map<string, Bucket>()
  private readonly burst: number
  private readonly perMs: number
  private readonly maxClients: number
  private readonly now: () => number

  constructor(opts: LimiterOptions) {
    if (!Number.isInteger(opts.burst) || opts.burst < 0) throw new RangeError('burst must be a whole number ≥ 0')
    if (!(opts.perMinute > 0)) throw new RangeError('perMinute must be > 0')
    if (!Number.isInteger(opts.maxClients) || opts.maxClients < 1) throw new RangeError('maxClients must be a whole number ≥ 1')
    this.burst = opts.burst
    this.perMs = opts.perMinute / 60_000
    this.maxClients = opts.maxClients
    this.now = opts.now ?? (() => performance.now())
  }

  get enabled(): boolean {
    return this.burst > 0
  }

  /** Buckets currently held (for tests and diagnostics). */
  get size(): number {
    return this.buckets.size
  }

  private tokens(key: string, now: number): number {
    const b = this.buckets.get(key)
    if (!b) return this.burst
    const t = Math.min(this.burst, b.tokens + (now - b.at) * this.perMs)
    if (t >= this.burst) {
      this.buckets.delete(key)
      return this.burst
    }
    return t
  }

  /** May this client try now? Does not take a token. */
  check(client: string): LimitCheck {
    if (!this.enabled) return { limited: false }
    const key = clientKey(client)
    const now = this.now()
    const t = this.tokens(key, now)
    if (t >= 1) return { limited: false }
    return { limited: true, retryAfterSeconds: Math.max(1, Math.ceil((1 - t) / this.perMs / 1000)) }
  }

  /** Record a failed attempt: take one token. */
  fail(client: string): void {
    if (!this.enabled) return
    const key = clientKey(client)
    const now = this.now()
    const t = this.tokens(key, now)
    this.buckets.delete(key) // re-insert at the end: the Map's order is recency
    this.buckets.set(key, { tokens: Math.max(0, t - 1), at: now })
    while (this.buckets.size > this.maxClients) {
      const oldest = this.buckets.keys().next().value as string
      this.buckets.delete(oldest)
    }
  }
}

/** The bucket a client address falls in: IPv4 as is, IPv6 by its /64. */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1]!
  if (isIPv4(address)) return address
  if (isIPv6(address)) return expandIPv6(address).slice(0, 4).join(':') + '::/64'
  return address
}

function expandIPv6(address: string): string[] {
  const a = address.split('%')[0]!.toLowerCase()
  const [head, tail] = a.includes('::') ? (a.split('::') as [string, string]) : [a, undefined]
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0')
  return [...h, ...fill, ...t].map((g) => g.padStart(4, '0'))
}
