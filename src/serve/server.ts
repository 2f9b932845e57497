/**
 * `keydesk serve`: a verification endpoint for forward-auth proxies (nginx
 * auth_request, Traefik ForwardAuth, Caddy forward_auth), on Node's own http.
 *
 *   GET|HEAD /v1/auth          key in Authorization (Basic / Bearer) or X-Api-Key
 *                              → 204 + X-Key-Id, X-Key-Owner, X-Key-Scopes
 *                              → 401 + WWW-Authenticate   (no/invalid key)
 *                              → 403                      (valid key, required scope missing:
 *                                                          ?scope=S or X-Required-Scope: S)
 *                              → 429 + Retry-After        (too many failures from this client)
 *   POST /v1/keys/verify       JSON {key} or {accessId, accessKey} → the CLI's verify shape
 *   GET|HEAD /healthz          200 {"ok":true}
 *
 * Every request goes to the store (no cache of verify results), so a reset,
 * revoke or expiry applies to the next request. Responses never carry a
 * presented value back: bodies are fixed JSON built from reason codes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { isIP, type BlockList, type Socket } from 'node:net'
import { isAccessId } from '../main/core/keyformat'
import type { KeyStore } from '../main/core/keystore'
import type { VerifyResult } from '../main/core/types'
import { createAccessLog, loggablePath, type AccessEntry, type AccessLog, type AccessLogSink, type Outcome } from './access-log'
import { headerSafe, presentedCredential, requiredScopes } from './credentials'
import { DEFAULT_LIMITER, FailureLimiter, type LimiterOptions } from './limiter'
import { isLoopback, listenUrl } from './listen'

export interface ServeLimits {
  /** Largest request head (request line + headers), bytes. Bigger → 431. */
  maxHeaderSize: number
  /** Largest POST body, bytes. Bigger → 413. */
  maxBodySize: number
  /** Time allowed to receive the request head, ms. Slower → 408 and close. */
  headersTimeoutMs: number
  /** Time allowed to receive the whole request, ms. */
  requestTimeoutMs: number
  /** Idle time before a keep-alive connection is closed, ms. */
  keepAliveTimeoutMs: number
  /** Most open connections. */
  maxConnections: number
  /** How often Node checks the two request timeouts, ms. */
  timeoutCheckIntervalMs: number
}

export const DEFAULT_LIMITS: ServeLimits = {
  maxHeaderSize: 8 * 1024,
  maxBodySize: 4 * 1024,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
  timeoutCheckIntervalMs: 1_000,
}

export interface VerifyServerOptions {
  limits?: Partial<ServeLimits>
  /** Failed-attempt limiting; burst 0 turns it off. */
  limiter?: Partial<LimiterOptions>
  /**
   * Header holding the original client address (e.g. X-Real-IP, X-Forwarded-For:
   * its last entry is used). Believed only when the connection comes from
   * loopback or from trustedProxies; otherwise the socket address is used.
   */
  clientIpHeader?: string
  trustedProxies?: BlockList
  /** Where access log lines go (null: nowhere). */
  accessLog?: AccessLogSink | null
  /** How often pending last-used times are written, ms. */
  flushIntervalMs?: number
  /** Realm in WWW-Authenticate. */
  realm?: string
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

const JSON_TYPE = 'application/json; charset=utf-8'
const AUTH = '/v1/auth'
const VERIFY = '/v1/keys/verify'
const HEALTH = '/healthz'
const MAX_FIELD = 256

/** The one JSON body for each non-verify outcome; nothing from the request goes in. */
const BODY = {
  notFound: '{"error":"not_found"}',
  method: '{"error":"method_not_allowed"}',
  tooLarge: '{"error":"too_large"}',
  mediaType: '{"error":"unsupported_media_type","message":"send Content-Type: application/json"}',
  badJson: '{"error":"bad_request","message":"body must be JSON {\\"key\\"} or {\\"accessId\\",\\"accessKey\\"} with string values"}',
  limited: '{"error":"rate_limited"}',
  forbidden: '{"error":"insufficient_scope"}',
  unavailable: '{"error":"unavailable"}',
  stopping: '{"ok":false,"status":"stopping"}',
  health: '{"ok":true}',
} as const

export function createVerifyServer(store: KeyStore, options: VerifyServerOptions = {}): VerifyServer {
  const limits: ServeLimits = { ...DEFAULT_LIMITS, ...options.limits }
  const limiter = new FailureLimiter({ ...DEFAULT_LIMITER, ...options.limiter })
  const log = createAccessLog(options.accessLog === undefined ? null : options.accessLog)
  const clientIpHeader = options.clientIpHeader?.toLowerCase()
  const trusted = options.trustedProxies
  const realm = (options.realm ?? 'keydesk').replace(/["\\]/g, '')
  const challenge = `Bearer realm="${realm}"`
  const challengeInvalid = `Bearer realm="${realm}", error="invalid_token"`
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
    (req, res) => handle(req, res),
  )
  server.maxConnections = limits.maxConnections
  server.keepAliveTimeout = limits.keepAliveTimeoutMs
  server.headersTimeout = limits.headersTimeoutMs
  server.requestTimeout = limits.requestTimeoutMs

  function clientOf(req: IncomingMessage): string {
    const peer = req.socket.remoteAddress ?? 'unknown'
    if (!clientIpHeader) return peer
    const believed = isLoopback(peer) || (trusted !== undefined && isIP(peer) !== 0 && trusted.check(peer, isIP(peer) === 6 ? 'ipv6' : 'ipv4'))
    if (!believed) return peer
    const raw = req.headersDistinct[clientIpHeader]
    const last = raw?.[raw.length - 1]?.split(',').pop()?.trim()
    return last && isIP(last) !== 0 ? last : peer
  }

  function send(res: ServerResponse, status: number, headers: Record<string, string>, body?: string): void {
    res.statusCode = status
    res.setHeader('Cache-Control', 'no-store')
    res.setHeader('X-Content-Type-Options', 'nosniff')
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v)
    if (closing) res.setHeader('Connection', 'close')
    if (body === undefined || status === 204 || status === 304) {
      res.end()
      return
    }
    res.setHeader('Content-Type', JSON_TYPE)
    res.setHeader('Content-Length', Buffer.byteLength(body))
    res.end(res.req.method === 'HEAD' ? undefined : body)
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint()
    const client = clientOf(req)
    const target = req.url ?? '/'
    const q = target.indexOf('?')
    const path = q < 0 ? target : target.slice(0, q)
    const entry: Omit<AccessEntry, 'ms' | 'time' | 'status'> = {
      client,
      method: req.method ?? null,
      path: loggablePath(target),
      outcome: 'ok',
    }
    let logged = false
    const done = (outcome: Outcome, extra: Partial<AccessEntry> = {}): void => {
      entry.outcome = outcome
      Object.assign(entry, extra)
    }
    res.on('finish', () => {
      if (logged) return
      logged = true
      log.log(accessLine(entry, res.statusCode, started))
    })
    res.on('close', () => {
      if (logged) return
      logged = true
      log.log(accessLine({ ...entry, outcome: 'aborted' }, res.writableFinished ? res.statusCode : 499, started))
    })

    try {
      if (path === AUTH) {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          done('method_not_allowed')
          return send(res, 405, { Allow: 'GET, HEAD' }, BODY.method)
        }
        // The body is never needed here. If one is announced (a proxy that forgot
        // `proxy_set_header Content-Length ""`), answer now and close, rather than
        // wait for bytes that may never come.
        if (hasBody(req)) res.setHeader('Connection', 'close')
        return forwardAuth(req, res, client, q < 0 ? null : new URLSearchParams(target.slice(q + 1)), done)
      }
      if (path === VERIFY) {
        if (req.method !== 'POST') {
          done('method_not_allowed')
          return send(res, 405, { Allow: 'POST' }, BODY.method)
        }
        return postVerify(req, res, client, done)
      }
      if (path === HEALTH) {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          done('method_not_allowed')
          return send(res, 405, { Allow: 'GET, HEAD' }, BODY.method)
        }
        if (closing) {
          done('unavailable')
          return send(res, 503, {}, BODY.stopping)
        }
        done('ok')
        return send(res, 200, {}, BODY.health)
      }
      done('not_found')
      if (hasBody(req)) res.setHeader('Connection', 'close')
      return send(res, 404, {}, BODY.notFound)
    } catch {
      done('unavailable')
      if (!res.headersSent) send(res, 503, {}, BODY.unavailable)
      else res.destroy()
    }
  }

  /** Verify, failing closed: a store error is a 503, never a pass. */
  function verify(input: { accessKey: string; accessId?: string }): VerifyResult | null {
    try {
      return store.verify(input)
    } catch {
      return null
    }
  }

  function forwardAuth(
    req: IncomingMessage,
    res: ServerResponse,
    client: string,
    query: URLSearchParams | null,
    done: (o: Outcome, extra?: Partial<AccessEntry>) => void,
  ): void {
    const need = requiredScopes(query, req.headersDistinct)
    if (!need.ok) {
      done('bad_request', { reason: 'bad_scope' })
      return send(res, 400, {}, JSON.stringify({ error: 'bad_request', message: need.message }))
    }
    const scopeInfo = need.scopes.length ? { scopes: need.scopes } : {}
    const presented = presentedCredential(req.headersDistinct)
    if (presented.kind === 'missing') {
      done('denied', { reason: 'missing', ...scopeInfo })
      return send(res, 401, { 'WWW-Authenticate': challenge }, '{"valid":false,"reason":"missing"}')
    }
    const idInfo = presented.accessId !== undefined && isAccessId(presented.accessId) ? { accessId: presented.accessId } : {}
    const gate = limiter.check(client)
    if (gate.limited) {
      done('limited', { ...idInfo, ...scopeInfo })
      return send(res, 429, { 'Retry-After': String(gate.retryAfterSeconds) }, BODY.limited)
    }
    if (presented.kind === 'malformed') {
      limiter.fail(client)
      done('denied', { reason: 'malformed', ...idInfo, ...scopeInfo })
      return send(res, 401, { 'WWW-Authenticate': challengeInvalid }, '{"valid":false,"reason":"malformed"}')
    }
    const r = verify({ accessKey: presented.accessKey, ...(presented.accessId !== undefined ? { accessId: presented.accessId } : {}) })
    if (r === null) {
      done('unavailable', { ...idInfo, ...scopeInfo })
      return send(res, 503, {}, BODY.unavailable)
    }
    if (!r.valid) {
      limiter.fail(client)
      done('denied', { reason: r.reason, ...idInfo, ...scopeInfo })
      return send(res, 401, { 'WWW-Authenticate': challengeInvalid }, JSON.stringify({ valid: false, reason: r.reason }))
    }
    const missing = need.scopes.find((s) => !r.scopes.includes(s))
    if (missing !== undefined) {
      done('forbidden', { reason: 'insufficient_scope', accessId: r.accessId, ...scopeInfo })
      return send(res, 403, { 'WWW-Authenticate': `${challenge}, error="insufficient_scope"` }, BODY.forbidden)
    }
    done('allowed', { accessId: r.accessId, ...scopeInfo })
    return send(res, 204, { 'X-Key-Id': r.accessId, 'X-Key-Owner': headerSafe(r.owner), 'X-Key-Scopes': r.scopes.join(' ') })
  }

  function postVerify(req: IncomingMessage, res: ServerResponse, client: string, done: (o: Outcome, extra?: Partial<AccessEntry>) => void): void {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/json') {
      done('unsupported_media_type')
      res.setHeader('Connection', 'close')
      return send(res, 415, {}, BODY.mediaType)
    }
    const declared = req.headers['content-length']
    if (declared !== undefined && Number(declared) > limits.maxBodySize) {
      done('too_large')
      res.setHeader('Connection', 'close')
      return send(res, 413, {}, BODY.tooLarge)
    }
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (c: Buffer) => {
      if (over) return
      size += c.length
      if (size > limits.maxBodySize) {
        over = true
        chunks.length = 0
        done('too_large')
        res.setHeader('Connection', 'close')
        send(res, 413, {}, BODY.tooLarge)
        return
      }
      chunks.push(c)
    })
    req.on('end', () => {
      if (over || res.headersSent) return
      const body = Buffer.concat(chunks)
      chunks.length = 0
      const input = parseVerifyBody(body)
      body.fill(0)
      if (!input) {
        done('bad_request')
        return send(res, 400, {}, BODY.badJson)
      }
      const idInfo = input.accessId !== undefined && isAccessId(input.accessId) ? { accessId: input.accessId } : {}
      const gate = limiter.check(client)
      if (gate.limited) {
        done('limited', idInfo)
        return send(res, 429, { 'Retry-After': String(gate.retryAfterSeconds) }, BODY.limited)
      }
      const r = verify(input)
      if (r === null) {
        done('unavailable', idInfo)
        return send(res, 503, {}, BODY.unavailable)
      }
      if (!r.valid) {
        limiter.fail(client)
        done('denied', { reason: r.reason, ...idInfo })
        return send(res, 200, {}, JSON.stringify({ valid: false, reason: r.reason }))
      }
      done('allowed', { accessId: r.accessId })
      send(res, 200, {}, JSON.stringify({ valid: true, accessId: r.accessId, owner: r.owner, scopes: r.scopes }))
    })
    req.on('error', () => {
      /* aborted: logged by the response's close handler */
    })
  }

  // Errors the HTTP parser meets before a request exists: oversize head (431),
  // slow head or body (408), malformed bytes (400). One fixed response, then close.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code ?? ''
    const [status, text, outcome]: [number, string, Outcome] =
      code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'header_too_large']
        : code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'timeout']
          : code === 'ECONNRESET' || code === 'EPIPE'
            ? [0, '', 'aborted']
            : [400, 'Bad Request', 'bad_request']
    if (status !== 0) {
      log.log({
        time: new Date().toISOString(),
        client: socket.remoteAddress ?? 'unknown',
        method: null,
        path: null,
        status,
        outcome,
        ms: 0,
      })
    }
    if (status !== 0 && socket.writable && !(socket as Socket & { _httpMessage?: unknown })._httpMessage) {
      const body = `{"error":"${outcome}"}`
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nCache-Control: no-store\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      )
    } else {
      socket.destroy()
    }
  })

  let flushTimer: NodeJS.Timeout | undefined
  const startFlushing = (): void => {
    flushTimer ??= setInterval(() => {
      try {
        store.flushLastUsed()
      } catch {
        /* informational; retried next time */
      }
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
          try {
            store.flushLastUsed()
          } catch {
            /* store already closed */
          }
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

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length']
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined
}

function accessLine(e: Omit<AccessEntry, 'ms' | 'time' | 'status'>, status: number, started: bigint): AccessEntry {
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  const line: AccessEntry = { time: new Date().toISOString(), client: e.client, method: e.method, path: e.path, status, outcome: e.outcome } as AccessEntry
  if (e.reason !== undefined) line.reason = e.reason
  if (e.accessId !== undefined) line.accessId = e.accessId
  if (e.scopes !== undefined) line.scopes = e.scopes
  line.ms = Math.round(ms * 1000) / 1000
  return line
}

/** {key} or {accessId, accessKey}: strings, nothing else. Null for anything other. */
function parseVerifyBody(body: Buffer): { accessKey: string; accessId?: string } | null {
  let v: unknown
  try {
    v = JSON.parse(body.toString('utf8'))
  } catch {
    return null
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null
  const o = v as Record<string, unknown>
  const keys = Object.keys(o).sort().join(',')
  const str = (x: unknown): x is string => typeof x === 'string' && x.length <= MAX_FIELD
  if (keys === 'key' && str(o.key)) return { accessKey: o.key }
  if (keys === 'accessId,accessKey' && str(o.accessId) && str(o.accessKey)) return { accessKey: o.accessKey, accessId: o.accessId }
  return null
}
