/**
 * `keydesk serve`: a verification endpoint for forward-auth proxies (nginx
 * auth_request, Traefik ForwardAuth, Caddy forward_auth), on Node's own http.
 * This file only puts the parts together:
 *
 *   routes.ts       routing and the endpoints (what each request is answered)
 *   credentials.ts  reading the presented key and the required scopes
 *   limiter.ts      failed-attempt buckets per client address and per access ID
 *   connections.ts  per-client connection cap, keep-alive near the cap, parser errors
 *   responses.ts    the fixed answers
 *   access-log.ts   one JSON line per request, written off the request path
 *
 * Every request goes to the store (no cache of verify results), so a reset,
 * revoke or expiry applies to the next request. Responses never carry a
 * presented value back. Nothing in a request writes: last-used times are queued
 * by verify and written by a timer, log lines are written from setImmediate.
 */
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { BlockList } from 'node:net'
import type { KeyStore } from '../main/core/index'
import { createAccessLog, loggablePath, logWhenDone, type AccessLog, type AccessLogSink, type RequestRecord } from './access-log'
import { guardConnections, refused } from './connections'
import { wantedHeaders } from './credentials'
import { DEFAULT_LIMITER, DEFAULT_LIMITS, type LimiterOptions, type ServeLimits } from './defaults'
import { FailureLimiter } from './limiter'
import { listenUrl } from './listen'
import { challenges } from './responses'
import { requestClient, route, type RouteContext } from './routes'

/** The check interval for these timeouts: a twentieth of the shorter one, 10–50 ms. */
export function timeoutCheckInterval(headersTimeoutMs: number, requestTimeoutMs: number): number {
  return Math.max(10, Math.min(50, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs) / 20)))
}

export interface VerifyServerOptions {
  limits?: Partial<ServeLimits>
  /** Failed-attempt limiting; burst 0 turns it off. */
  limiter?: Partial<LimiterOptions>
  /**
   * Header holding the original client address (e.g. X-Real-IP, X-Forwarded-For:
   * its last entry is used). Believed only when the connection comes from one of
   * trustedProxies (loopback is not trusted implicitly).
   */
  clientIpHeader?: string
  trustedProxies?: BlockList
  /** Where access log lines go (null: nowhere). */
  accessLog?: AccessLogSink | null
  /** How often pending last-used times are written, ms. */
  flushIntervalMs?: number
  /** Realm in WWW-Authenticate. */
  realm?: string
  /** A team-store gateway's state, reported on /healthz. */
  health?: RouteContext['health']
}

export interface VerifyServer {
  readonly server: Server
  readonly limiter: FailureLimiter
  readonly log: AccessLog
  /** Start listening; resolves with the bound address. */
  listen(host: string, port: number): Promise<{ host: string; port: number; url: string }>
  /**
   * Graceful stop: refuse new connections, let requests in flight finish, close
   * idle keep-alive connections, flush last-used times and the log. After
   * graceMs, remaining connections are cut. Does not close the store.
   */
  close(graceMs?: number): Promise<void>
  readonly closing: boolean
}

/** One-line warnings about a configuration that does not do what it seems to. */
export function configWarnings(options: Pick<VerifyServerOptions, 'clientIpHeader' | 'trustedProxies'>): string[] {
  if (options.clientIpHeader && options.trustedProxies === undefined)
    return [
      `--client-ip-header ${options.clientIpHeader} is ignored: no --trusted-proxy is given, so it is believed from no one and every client behind the proxy shares the proxy's failure budget; add --trusted-proxy with the proxy's address (e.g. 127.0.0.1).`,
    ]
  return []
}

/** Rows per last-used write slice (a few ms of the event loop each). */
const FLUSH_SLICE = 1_000
const kRecord = Symbol('keydesk.record')
type RecordedResponse = ServerResponse & { [kRecord]?: RequestRecord }

export function createVerifyServer(store: KeyStore, options: VerifyServerOptions = {}): VerifyServer {
  const limits: ServeLimits = {
    ...DEFAULT_LIMITS,
    timeoutCheckIntervalMs: timeoutCheckInterval(options.limits?.headersTimeoutMs ?? DEFAULT_LIMITS.headersTimeoutMs, options.limits?.requestTimeoutMs ?? DEFAULT_LIMITS.requestTimeoutMs),
    ...options.limits,
  }
  const limiter = new FailureLimiter({ ...DEFAULT_LIMITER, ...options.limiter })
  const log = createAccessLog(options.accessLog === undefined ? null : options.accessLog)
  const logging = options.accessLog !== undefined && options.accessLog !== null
  let closing = false

  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
      requireHostHeader: false,
      joinDuplicateHeaders: false,
      noDelay: true,
    },
    (req, res) => {
      if (refused(req.socket)) {
        req.socket.destroy()
        return
      }
      const headers = wantedHeaders(req.rawHeaders, ctx.clientIpHeader)
      const target = req.url ?? '/'
      const rec: RequestRecord = { client: requestClient(ctx, req, headers), method: req.method ?? null, path: loggablePath(target), outcome: 'ok', started: performance.now() }
      if (logging) logWhenDone(res, rec, log)
      ;(res as RecordedResponse)[kRecord] = rec
      try {
        route(ctx, req, res, rec, headers, target)
      } catch {
        rec.outcome = 'unavailable'
        if (!res.headersSent) res.writeHead(503, ['Cache-Control', 'no-store', 'Content-Type', 'application/json; charset=utf-8', 'Connection', 'close']).end('{"error":"unavailable"}')
        else res.destroy()
      }
    },
  )
  server.maxConnections = limits.maxConnections
  server.keepAliveTimeout = limits.keepAliveTimeoutMs
  server.headersTimeout = limits.headersTimeoutMs
  server.requestTimeout = limits.requestTimeoutMs

  const guard = guardConnections(
    server,
    { maxConnections: limits.maxConnections, maxClientConnections: limits.maxClientConnections, keepAliveTimeoutMs: limits.keepAliveTimeoutMs },
    options.trustedProxies,
    log,
    (res) => {
      const rec = (res as RecordedResponse)[kRecord]
      if (rec === undefined) return false
      rec.outcome = 'timeout'
      return true
    },
  )

  const ctx: RouteContext = {
    store,
    limiter,
    maxBodySize: limits.maxBodySize,
    challenges: challenges(options.realm ?? 'keydesk'),
    clientIpHeader: options.clientIpHeader?.toLowerCase(),
    trusted: options.trustedProxies,
    closeConnections: () => closing || guard.nearCap,
    stopping: () => closing,
    health: options.health,
  }

  // Last-used times: verify only queues them. This timer writes them, in slices of
  // FLUSH_SLICE rows with the event loop free between slices (requests that came in
  // meanwhile are answered first); close writes whatever is left.
  let flushTimer: NodeJS.Timeout | undefined
  let flushing = false
  const flushLastUsed = (maxRows?: number): number => {
    try {
      const left: unknown = store.flushLastUsed(maxRows)
      return typeof left === 'number' ? left : 0
    } catch {
      return 0 // informational; retried next time (or the store is already closed)
    }
  }
  const flushSlices = (before = Number.POSITIVE_INFINITY): void => {
    const left = closing ? 0 : flushLastUsed(FLUSH_SLICE)
    // Stop when done, or when a slice made no progress (a writer holds the lock): next tick.
    if (left > 0 && left < before) setImmediate(flushSlices, left)
    else flushing = false
  }
  const startFlushing = (): void => {
    flushTimer ??= setInterval(() => {
      if (flushing) return
      flushing = true
      flushSlices()
    }, options.flushIntervalMs ?? 5_000)
    flushTimer.unref()
  }

  let closed: Promise<void> | undefined

  return {
    server,
    limiter,
    log,
    get closing() {
      return closing
    },
    listen(host, port) {
      return new Promise((resolve, reject) => {
        const onError = (e: Error): void => reject(e)
        server.once('error', onError)
        server.listen({ host, port, exclusive: true }, () => {
          server.off('error', onError)
          const a = server.address()
          if (a === null || typeof a === 'string') return reject(new Error('no address'))
          startFlushing()
          resolve({ host: a.address, port: a.port, url: listenUrl(a.address, a.port) })
        })
      })
    },
    close(graceMs = 10_000) {
      closed ??= new Promise<void>((resolve) => {
        closing = true
        if (flushTimer) clearInterval(flushTimer)
        const finish = (): void => {
          clearTimeout(deadline)
          flushLastUsed()
          log.flush()
          resolve()
        }
        const deadline = setTimeout(() => server.closeAllConnections(), graceMs)
        deadline.unref()
        if (!server.listening) return finish()
        server.close(() => finish())
        server.closeIdleConnections()
      })
      return closed
    },
  }
}

