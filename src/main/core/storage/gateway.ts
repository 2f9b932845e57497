/**
 * A gateway's view of a team store (`keydesk serve --store postgres://…`): the
 * PostgreSQL adapter with a bounded cache of the rows verify reads, kept true by the
 * store's change feed, and a bounded life when the database is away.
 *
 * - Cache: rows found by a secret's HMAC (current or in grace), at most `maxEntries`,
 *   least recently used out first. Only rows the database returned are cached, so a
 *   key the gateway has never seen is never accepted from it. Verify still checks each
 *   row's MAC and tombstone fields and computes expiry and grace against the clock.
 * - Feed: LISTEN keydesk_changes (a NOTIFY per changed key, at commit) drops a key's
 *   rows as soon as a revoke, reset, disable, edit, owner change or purge commits.
 *   Where LISTEN is unavailable (a read replica), or while its connection is being
 *   re-established, the `changes` table is polled by sequence number, and every
 *   reconnect first catches up from the last sequence seen, so no change is skipped.
 *   Cached rows are also re-read after `ttlMs`, which bounds what any lost hint costs.
 * - Outage: when the database cannot be reached, cached rows keep answering until
 *   `staleForMs` after the outage began; keys not in the cache, and every key after
 *   that, get "unavailable" (keydesk serve answers 503). Recovery is automatic: a
 *   background probe reconnects, catches the feed up, and the cache resumes.
 */
import type pg from 'pg'
import { KeydeskError } from '../errors'
import { PgSyncClient } from './pg-sync'
import { PostgresStorage, connectTeamStore } from './postgres'
import { V, type KeyRecord, type RetiredRecord, type VerifyRow } from './port'

export interface GatewayOptions {
  /** How long cached rows keep answering once the database is unreachable (ms). */
  staleForMs: number
  /** Most rows cached. */
  maxEntries?: number
  /** Re-read a cached row from the database after this long (ms). */
  ttlMs?: number
  /** 'listen' (default: LISTEN/NOTIFY, polling while it reconnects), or 'poll' (read replicas). */
  feed?: 'listen' | 'poll' | 'auto'
  pollMs?: number
  /** Longest a database call may block the event loop before the database counts as away (ms). */
  callTimeoutMs?: number
  now?: () => number
}

export interface GatewayState {
  database: 'up' | 'down'
  feed: 'listen' | 'poll' | 'down'
  /** Last change sequence number applied. */
  lastChange: number
  cached: number
  hits: number
  misses: number
  /** While down: when the outage began and until when cached keys keep answering (ISO). */
  downSince: string | null
  staleUntil: string | null
}

interface Entry {
  row: VerifyRow
  slot: 0 | 1 | 2
  retired: RetiredRecord[] | null
  at: number
}

export const DEFAULT_STALE_FOR_MS = 300_000

export class GatewayStorage extends PostgresStorage {
  private readonly entries = new Map<string, Entry>()
  private readonly byAccessId = new Map<string, Set<string>>()
  private downSince: number | null = null
  private feedMode: 'listen' | 'poll' | 'down' = 'down'
  private lastSeq = 0
  private listener: pg.Client | null = null
  private timer: NodeJS.Timeout | null = null
  private stopped = false
  private readonly now: () => number
  private readonly maxEntries: number
  private readonly ttlMs: number
  private readonly pollMs: number
  /** Invalidations applied, lookups answered from the cache, and lookups that went to the database (tests and /healthz). */
  changesApplied = 0
  hits = 0
  misses = 0

  constructor(
    client: PgSyncClient,
    location: string,
    private readonly url: string,
    private readonly opts: GatewayOptions,
  ) {
    super(client, location)
    this.now = opts.now ?? Date.now
    this.maxEntries = opts.maxEntries ?? 100_000
    this.ttlMs = opts.ttlMs ?? 60_000
    this.pollMs = opts.pollMs ?? 250
    this.lastSeq = this.lastChange()
  }

  // ── the cached reads (what verify does) ──

  override verifyByCurrent(hash: Buffer): VerifyRow | undefined {
    const e = this.lookup(hash, 0)
    if (e === 'miss') return undefined
    if (e !== undefined) return e.row
    return this.fetch(hash, 0, () => {
      const row = super.verifyByCurrent(hash)
      return row && { row, slot: 0 as const, retired: null }
    })?.row
  }

  override verifyByPrevious(hash: Buffer): { row: VerifyRow; slot: 1 | 2 } | undefined {
    const e = this.lookup(hash, 1)
    if (e === 'miss') return undefined
    if (e !== undefined) return { row: e.row, slot: e.slot as 1 | 2 }
    const got = this.fetch(hash, 1, () => {
      const p = super.verifyByPrevious(hash)
      return p && { row: p.row, slot: p.slot, retired: super.retiredByHash(hash) }
    })
    return got && { row: got.row, slot: got.slot as 1 | 2 }
  }

  override retiredByHash(hash: Buffer): RetiredRecord[] {
    const e = this.entries.get(`1${hash.toString('hex')}`)
    if (e?.retired && (this.downSince !== null || this.fresh(e))) return e.retired
    return this.guard(() => super.retiredByHash(hash))
  }

  /**
   * A cached entry that may answer; 'miss' when, with the database away, the cache
   * knows this secret only as a grace secret (verify goes on to the previous slots);
   * undefined means "ask the database".
   */
  private lookup(hash: Buffer, kind: 0 | 1): Entry | 'miss' | undefined {
    const hex = hash.toString('hex')
    const key = `${kind}${hex}`
    const e = this.entries.get(key)
    if (this.downSince !== null) {
      if (this.now() >= this.downSince + this.opts.staleForMs) throw this.unavailable()
      if (e) return e
      if (kind === 0 && this.entries.has(`1${hex}`)) return 'miss'
      // Not seen before the outage: the database is tried again only by the background probe.
      throw this.unavailable()
    }
    if (e && this.feedMode !== 'down' && this.fresh(e)) {
      // most recently used last
      this.entries.delete(key)
      this.entries.set(key, e)
      this.hits++
      return e
    }
    this.misses++
    return undefined
  }

  private fresh(e: Entry): boolean {
    return this.now() - e.at < this.ttlMs
  }

  private fetch(hash: Buffer, kind: 0 | 1, read: () => Omit<Entry, 'at'> | undefined): Entry | undefined {
    const key = `${kind}${hash.toString('hex')}`
    const got = this.guard(read)
    this.forget(key)
    if (!got) return undefined
    const e: Entry = { ...got, at: this.now() }
    this.entries.set(key, e)
    const aid = got.row[V.accessId]
    let set = this.byAccessId.get(aid)
    if (!set) this.byAccessId.set(aid, (set = new Set()))
    set.add(key)
    while (this.entries.size > this.maxEntries) this.forget(this.entries.keys().next().value!)
    return e
  }

  private forget(key: string): void {
    const e = this.entries.get(key)
    if (!e) return
    this.entries.delete(key)
    const aid = e.row[V.accessId]
    const set = this.byAccessId.get(aid)
    set?.delete(key)
    if (set && set.size === 0) this.byAccessId.delete(aid)
  }

  override keyByAccessId(accessId: string): KeyRecord | undefined {
    return this.guard(() => super.keyByAccessId(accessId))
  }

  override recordLastUsed(entries: readonly [number, number, number][], busyMs: number): void {
    // Kept by verify for the next flush while the database is away.
    this.guard(() => super.recordLastUsed(entries, busyMs))
  }

  /** Drop every cached row of one access ID (a change committed for it). */
  invalidate(accessId: string, seq?: number): void {
    for (const key of [...(this.byAccessId.get(accessId) ?? [])]) this.forget(key)
    if (seq !== undefined && seq > this.lastSeq) this.lastSeq = seq
    this.changesApplied++
  }

  /** Run a database call; a connection failure turns the gateway to "down" and reads unavailable. */
  private guard<T>(fn: () => T): T {
    if (this.downSince !== null) throw this.unavailable()
    try {
      return fn()
    } catch (e) {
      if (isConnectionFailure(e)) {
        this.goDown()
        throw this.unavailable()
      }
      throw e
    }
  }

  private unavailable(): KeydeskError {
    return new KeydeskError('store_unavailable', `The team database at ${this.location} cannot be reached and this key was not verified recently enough to answer without it.`)
  }

  // ── state ──

  state(): GatewayState {
    const down = this.downSince
    return {
      database: down === null ? 'up' : 'down',
      feed: down === null ? this.feedMode : 'down',
      lastChange: this.lastSeq,
      cached: this.entries.size,
      hits: this.hits,
      misses: this.misses,
      downSince: down === null ? null : new Date(down).toISOString(),
      staleUntil: down === null ? null : new Date(down + this.opts.staleForMs).toISOString(),
    }
  }

  /** For /healthz: ok (database up), degraded (down, cached keys still answer), down. */
  health(): { status: 'ok' | 'degraded' | 'down'; detail: GatewayState } {
    const detail = this.state()
    const status = this.downSince === null ? 'ok' : this.now() < this.downSince + this.opts.staleForMs ? 'degraded' : 'down'
    return { status, detail }
  }

  private goDown(): void {
    if (this.downSince !== null) return
    this.downSince = this.now()
    this.feedMode = 'down'
    void this.listener?.end().catch(() => {})
    this.listener = null
    this.schedule(1000)
  }

  // ── the feed ──

  /** Start following the change feed (keydesk serve calls this once it listens). */
  async start(): Promise<void> {
    await this.connectFeed()
  }

  private schedule(ms: number): void {
    if (this.stopped) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = null
      void this.tick()
    }, ms)
    this.timer.unref()
  }

  private async tick(): Promise<void> {
    if (this.stopped) return
    if (this.downSince !== null || this.feedMode === 'down') {
      await this.connectFeed()
      return
    }
    if (this.feedMode === 'poll') {
      this.catchUp()
      this.schedule(this.pollMs)
    }
  }

  /** Apply every change after the last one seen (on the blocking connection, in pages). */
  private catchUp(): void {
    try {
      for (;;) {
        const page = this.changesSince(this.lastSeq, 5000)
        for (const c of page) this.invalidate(c.accessId, c.seq)
        if (page.length < 5000) break
      }
    } catch (e) {
      if (isConnectionFailure(e)) this.goDown()
      else throw e
    }
  }

  private async connectFeed(): Promise<void> {
    if (this.stopped) return
    // 1. Is the database back? An async probe, so a dead network never blocks the event loop.
    // Loaded when a gateway first connects: other commands never pay for node-postgres in this thread.
    const { default: pgm } = await import('pg')
    const probe = new pgm.Client({ connectionString: this.url, connectionTimeoutMillis: 2000, application_name: 'keydesk-gateway' })
    probe.on('error', () => {})
    try {
      await probe.connect()
    } catch {
      void probe.end().catch(() => {})
      this.schedule(1000)
      return
    }
    // 2. The blocking connection again (its old one may be broken), then catch up.
    if (this.downSince !== null) {
      try {
        this.replaceClient(new PgSyncClient(this.url, { callTimeoutMs: this.opts.callTimeoutMs ?? 2000, connectTimeoutMs: 2000 }))
      } catch {
        void probe.end().catch(() => {})
        this.schedule(1000)
        return
      }
    }
    const mode = this.opts.feed ?? 'auto'
    if (mode !== 'poll') {
      try {
        await probe.query('LISTEN keydesk_changes')
        probe.on('notification', (n) => {
          const [seq, accessId] = (n.payload ?? '').split(' ')
          if (accessId) this.invalidate(accessId, Number(seq))
        })
        probe.removeAllListeners('error')
        probe.on('error', () => this.goDown())
        probe.on('end', () => {
          if (!this.stopped && this.listener === probe) this.goDown()
        })
        this.listener = probe
        this.feedMode = 'listen'
      } catch (e) {
        // A hot standby refuses LISTEN: poll instead.
        void probe.end().catch(() => {})
        if (mode === 'listen') {
          this.schedule(1000)
          return
        }
        this.feedMode = 'poll'
        void e
      }
    } else {
      void probe.end().catch(() => {})
      this.feedMode = 'poll'
    }
    // Changes committed while nobody listened: applied before the cache is trusted again.
    this.downSince = null
    this.catchUp()
    if (this.downSince !== null) return
    if (this.feedMode === 'poll') this.schedule(this.pollMs)
  }

  override close(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    void this.listener?.end().catch(() => {})
    this.listener = null
    super.close()
  }
}

/** Errors that mean "the database is away", not "this statement is wrong". */
function isConnectionFailure(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? ''
  if (code.startsWith('KD_')) return true // the sync connection: timeout, closed, no answer
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true // connection exceptions, admin shutdown
  if (/^E(CONNREFUSED|CONNRESET|PIPE|HOSTUNREACH|NETUNREACH|TIMEDOUT|AI_AGAIN)$/.test(code)) return true
  const msg = e instanceof Error ? e.message : ''
  return /Connection terminated|connection.*(closed|ended)|not queryable|terminating connection/i.test(msg)
}

/** Open a team store for a gateway (keydesk serve): the cached, feed-following adapter. */
export function openGateway(url: string, opts: GatewayOptions): GatewayStorage {
  const { client, location } = connectTeamStore(url, { callTimeoutMs: opts.callTimeoutMs ?? 2000 })
  return new GatewayStorage(client, location, url, opts)
}
