/**
 * Failed-attempt limiting. Two kinds of token bucket that only failures drain:
 *
 *   - one per client address (IPv4 as is, IPv6 by its /64, v4-mapped IPv6 as
 *     the IPv4 address), so one guesser cannot lock out the other clients;
 *   - one per presented access ID (Basic id:key, POST {accessId, accessKey}),
 *     so one key cannot be guessed at from many addresses.
 *
 * A bucket starts with `burst` tokens; each failure takes one from the client's
 * bucket and, when an access ID was presented, from that ID's bucket; tokens come
 * back at `perMinute` a minute. While either bucket is empty, requests are
 * answered 429 without a lookup until a token has come back (Retry-After says
 * when). A bucket that has refilled is the same as no bucket and is dropped.
 *
 * Memory is bounded: at most `maxClients` buckets of each kind. When a map
 * overflows, the buckets holding the most tokens (the least active offenders)
 * go first, so flooding the limiter with fresh addresses or IDs makes room by
 * dropping those fresh entries, never the client that has been failing hard.
 */
import { isIPv4, isIPv6, type BlockList } from 'node:net'
import type { LimiterOptions } from './defaults'

export type LimitCheck = { limited: false } | { limited: true; retryAfterSeconds: number }

const OPEN: LimitCheck = { limited: false }

interface Bucket {
  tokens: number
  at: number
}

/** Buckets of one kind, bounded in number. */
class Buckets {
  readonly map = new Map<string, Bucket>()

  constructor(
    private readonly burst: number,
    private readonly perMs: number,
    private readonly max: number,
  ) {}

  /** Tokens the key holds now; a full bucket is deleted. */
  tokens(key: string, now: number): number {
    const b = this.map.get(key)
    if (b === undefined) return this.burst
    const t = b.tokens + (now - b.at) * this.perMs
    if (t >= this.burst) {
      this.map.delete(key)
      return this.burst
    }
    return t
  }

  take(key: string, now: number): void {
    const t = this.tokens(key, now)
    this.map.set(key, { tokens: Math.max(0, t - 1), at: now })
    if (this.map.size > this.max) this.evict()
  }

  /**
   * Drop the buckets that would hold the most tokens, down to 90 % of the bound
   * (so this O(n log n) pass runs at most once per max/10 new buckets). A bucket's
   * tokens at any later time are `tokens + (t - at) * rate`, so ranking by
   * `tokens - at * rate` is the same ranking at every moment.
   */
  private evict(): void {
    const keep = Math.floor(this.max * 0.9)
    const ranked = [...this.map].sort((a, b) => a[1].tokens - a[1].at * this.perMs - (b[1].tokens - b[1].at * this.perMs))
    for (let i = keep; i < ranked.length; i++) this.map.delete(ranked[i]![0])
  }
}

export class FailureLimiter {
  private readonly clients: Buckets
  private readonly ids: Buckets
  private readonly burst: number
  private readonly perMs: number
  private readonly now: () => number

  constructor(opts: LimiterOptions) {
    if (!Number.isInteger(opts.burst) || opts.burst < 0) throw new RangeError('burst must be a whole number ≥ 0')
    if (!(opts.perMinute > 0)) throw new RangeError('perMinute must be > 0')
    if (!Number.isInteger(opts.maxClients) || opts.maxClients < 1) throw new RangeError('maxClients must be a whole number ≥ 1')
    this.burst = opts.burst
    this.perMs = opts.perMinute / 60_000
    this.clients = new Buckets(this.burst, this.perMs, opts.maxClients)
    this.ids = new Buckets(this.burst, this.perMs, opts.maxClients)
    this.now = opts.now ?? (() => performance.now())
  }

  get enabled(): boolean {
    return this.burst > 0
  }

  /** Buckets currently held, both kinds (for tests and diagnostics). */
  get size(): number {
    return this.clients.map.size + this.ids.map.size
  }

  /** May this client (presenting this access ID, if any) try now? Takes no token. */
  check(client: string, accessId?: string): LimitCheck {
    if (!this.enabled) return OPEN
    const now = this.now()
    let t = this.clients.tokens(clientKey(client), now)
    if (accessId !== undefined) t = Math.min(t, this.ids.tokens(accessId, now))
    if (t >= 1) return OPEN
    return { limited: true, retryAfterSeconds: Math.max(1, Math.ceil((1 - t) / this.perMs / 1000)) }
  }

  /** Record a failed attempt: one token from the client's bucket and from the access ID's. */
  fail(client: string, accessId?: string): void {
    if (!this.enabled) return
    const now = this.now()
    this.clients.take(clientKey(client), now)
    if (accessId !== undefined) this.ids.take(accessId, now)
  }
}

/**
 * The bucket an address falls in: IPv4 as is; IPv6 by its /64 whatever the
 * notation (`2001:db8::1`, `2001:0db8:0:0::1`, `::2`, a zone suffix); a
 * v4-mapped address (`::ffff:1.2.3.4`, `::ffff:102:304`) as its IPv4 address.
 * Anything else (a Unix socket, no address) is its own bucket.
 */
export function clientKey(address: string): string {
  if (!isIPv6(address)) return address
  const g = ipv6Groups(address)
  if (isV4Mapped(g)) return `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`
  return `${g.slice(0, 4).map((n) => n.toString(16)).join(':')}::/64`
}

/** An address with v4-mapped IPv6 written as plain IPv4 (for the trusted-proxy check and the log). */
export function plainAddress(address: string): string {
  if (!isIPv6(address)) return address
  const g = ipv6Groups(address)
  return isV4Mapped(g) ? clientKey(address) : address
}

function isV4Mapped(g: number[]): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff
}

/** The eight 16-bit groups of a valid IPv6 address (net.isIPv6 already said yes). */
export function ipv6Groups(address: string): number[] {
  let a = address.split('%')[0]!
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a)
  if (dotted) {
    const [b0, b1, b2, b3] = dotted.slice(1).map(Number) as [number, number, number, number]
    a = a.slice(0, dotted.index) + ((b0 << 8) | b1).toString(16) + ':' + ((b2 << 8) | b3).toString(16)
  }
  const double = a.indexOf('::')
  const part = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)))
  if (double < 0) return part(a)
  const head = part(a.slice(0, double))
  const tail = part(a.slice(double + 2))
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail]
}

/**
 * The client address a request is counted under. The header (e.g. X-Real-IP, or
 * X-Forwarded-For, whose last entry is the one the nearest proxy added) is
 * believed only when the connection comes from a trusted proxy; loopback is not
 * trusted implicitly, since any local process could send it. A header that does
 * not hold an IP address counts under the peer's address.
 */
export function clientAddress(peer: string | undefined, header: readonly string[] | undefined, trusted: BlockList | undefined): string {
  const p = peer === undefined ? 'unknown' : plainAddress(peer)
  return isTrustedPeer(p, trusted) ? addressFromHeader(header, p) : p
}

/** Is this (plain) peer address one of the trusted proxies? */
export function isTrustedPeer(address: string, trusted: BlockList | undefined): boolean {
  if (trusted === undefined) return false
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined
  return family !== undefined && trusted.check(address, family)
}

/** The last entry of the last header line, when it is an IP address; else the fallback. */
export function addressFromHeader(header: readonly string[] | undefined, fallback: string): string {
  if (header === undefined || header.length === 0) return fallback
  const last = header[header.length - 1]!.split(',').pop()!.trim()
  return isIPv4(last) || isIPv6(last) ? plainAddress(last) : fallback
}
