/**
 * Routing and the three endpoints of keydesk serve. Each handler decides one
 * answer and fills in the request's log record; nothing here writes to the
 * store (verify only queues last-used times) or to the log sink.
 *
 *   GET|HEAD /v1/auth      forward auth (204 / 401 / 403 / 429 / 400 / 503)
 *   POST /v1/keys/verify   JSON {key} or {accessId, accessKey} → the CLI's verify shape
 *   GET|HEAD /healthz      200 {"ok":true}; 503 while stopping; a team-store gateway adds its store state
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { BlockList, Socket } from 'node:net'
import { isAccessId } from '../main/core/keyformat'
import type { KeyStore } from '../main/core/index'
import type { VerifyResult } from '../main/core/types'
import type { RequestRecord } from './access-log'
import { presentedCredential, requiredScopes, headerSafe, type Distinct } from './credentials'
import { addressFromHeader, isTrustedPeer, plainAddress, type FailureLimiter } from './limiter'
import { BODY, deniedBody, send, type Challenges } from './responses'

export const AUTH = '/v1/auth'
export const VERIFY = '/v1/keys/verify'
export const HEALTH = '/healthz'
const MAX_FIELD = 256

export interface RouteContext {
  store: Pick<KeyStore, 'verify'>
  limiter: FailureLimiter
  maxBodySize: number
  challenges: Challenges
  /** Lower-case header name, when configured. */
  clientIpHeader: string | undefined
  trusted: BlockList | undefined
  /** Should this response close its connection (stopping, or near the cap)? */
  closeConnections(): boolean
  stopping(): boolean
  /** A team-store gateway's state for /healthz: 'degraded' answers 200 (cached keys still pass), 'down' 503. */
  health?: () => { status: 'ok' | 'degraded' | 'down'; detail: object }
}

const ALLOW_GET = ['Allow', 'GET, HEAD']
const ALLOW_POST = ['Allow', 'POST']

const kPeer = Symbol('keydesk.peer')
type PeerSocket = Socket & { [kPeer]?: { address: string; trusted: boolean } }

/**
 * The client address a request counts under (as clientAddress decides), with the
 * peer's address and trust worked out once per connection, not per request.
 */
export function requestClient(ctx: RouteContext, req: IncomingMessage, headers: Distinct): string {
  const socket = req.socket as PeerSocket
  let peer = socket[kPeer]
  if (peer === undefined) {
    const address = plainAddress(socket.remoteAddress ?? 'unknown')
    peer = { address, trusted: isTrustedPeer(address, ctx.trusted) }
    socket[kPeer] = peer
  }
  if (!peer.trusted || ctx.clientIpHeader === undefined) return peer.address
  return addressFromHeader(headers[ctx.clientIpHeader], peer.address)
}

export function route(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, rec: RequestRecord, headers: Distinct, target: string): void {
  const q = target.indexOf('?')
  const path = q < 0 ? target : target.slice(0, q)
  const method = req.method
  const close = ctx.closeConnections()
  if (path === AUTH) {
    if (method !== 'GET' && method !== 'HEAD') {
      rec.outcome = 'method_not_allowed'
      return send(res, 405, ALLOW_GET, BODY.method, close)
    }
    // The body is never needed here. If one is announced (a proxy that forgot
    // `proxy_set_header Content-Length ""`), answer now and close, rather than
    // wait for bytes that may never come.
    return forwardAuth(ctx, res, rec, headers, q < 0 ? null : new URLSearchParams(target.slice(q + 1)), close || hasBody(req))
  }
  if (path === VERIFY) {
    if (method !== 'POST') {
      rec.outcome = 'method_not_allowed'
      return send(res, 405, ALLOW_POST, BODY.method, close)
    }
    return postVerify(ctx, req, res, rec)
  }
  if (path === HEALTH) {
    if (method !== 'GET' && method !== 'HEAD') {
      rec.outcome = 'method_not_allowed'
      return send(res, 405, ALLOW_GET, BODY.method, close)
    }
    if (ctx.stopping()) {
      rec.outcome = 'unavailable'
      return send(res, 503, null, BODY.stopping, close)
    }
    const h = ctx.health?.()
    if (h) {
      rec.outcome = h.status === 'down' ? 'unavailable' : 'ok'
      return send(res, h.status === 'down' ? 503 : 200, null, JSON.stringify({ ok: h.status === 'ok', status: h.status, store: h.detail }), close)
    }
    rec.outcome = 'ok'
    return send(res, 200, null, BODY.health, close)
  }
  rec.outcome = 'not_found'
  return send(res, 404, null, BODY.notFound, close || hasBody(req))
}

/** Verify by the key alone, failing closed: a store error is null (503), never a pass. */
function verifyKey(store: RouteContext['store'], accessKey: string): VerifyResult | null {
  try {
    // Never pass the access ID: the core would look it up to tell "mismatch" from
    // "unknown", and that lookup is an oracle (in the answer and in its timing).
    return store.verify({ accessKey })
  } catch {
    return null
  }
}

/**
 * The key's verdict for a request that also named an access ID: a valid key of
 * another ID is a failure the caller cannot tell from an unknown key.
 */
export function checkPresentedId(r: VerifyResult, accessId: string | undefined): VerifyResult {
  if (!r.valid || accessId === undefined || r.accessId === accessId) return r
  return { valid: false, reason: 'mismatch' }
}

function forwardAuth(ctx: RouteContext, res: ServerResponse, rec: RequestRecord, headers: Distinct, query: URLSearchParams | null, close: boolean): void {
  const need = requiredScopes(query, headers)
  if (!need.ok) {
    rec.outcome = 'bad_request'
    rec.reason = 'bad_scope'
    return send(res, 400, null, JSON.stringify({ error: 'bad_request', message: need.message }), close)
  }
  if (need.scopes.length) rec.scopes = need.scopes
  const presented = presentedCredential(headers)
  if (presented.kind === 'missing') {
    rec.outcome = 'denied'
    rec.reason = 'missing'
    return send(res, 401, ['WWW-Authenticate', ctx.challenges.plain], BODY.missing, close)
  }
  const accessId = presented.accessId !== undefined && isAccessId(presented.accessId) ? presented.accessId : undefined
  if (accessId !== undefined) rec.accessId = accessId
  const gate = ctx.limiter.check(rec.client, accessId)
  if (gate.limited) {
    rec.outcome = 'limited'
    return send(res, 429, ['Retry-After', String(gate.retryAfterSeconds)], BODY.limited, close)
  }
  const r = presented.kind === 'malformed' ? ({ valid: false, reason: 'malformed' } as const) : verifyKey(ctx.store, presented.accessKey)
  if (r === null) {
    rec.outcome = 'unavailable'
    return send(res, 503, null, BODY.unavailable, close)
  }
  const v = presented.kind === 'key' ? checkPresentedId(r, accessId) : r
  if (!v.valid) {
    ctx.limiter.fail(rec.client, accessId)
    rec.outcome = 'denied'
    rec.reason = v.reason
    return send(res, 401, ['WWW-Authenticate', ctx.challenges.invalid], deniedBody(v.reason), close)
  }
  rec.accessId = v.accessId
  for (const s of need.scopes) {
    if (!v.scopes.includes(s)) {
      rec.outcome = 'forbidden'
      rec.reason = 'insufficient_scope'
      return send(res, 403, ['WWW-Authenticate', ctx.challenges.scope], BODY.forbidden, close)
    }
  }
  rec.outcome = 'allowed'
  return send(res, 204, ['X-Key-Id', v.accessId, 'X-Key-Owner', headerSafe(v.owner), 'X-Key-Scopes', v.scopes.join(' ')], null, close)
}

function postVerify(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, rec: RequestRecord): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') {
    rec.outcome = 'unsupported_media_type'
    return send(res, 415, null, BODY.mediaType, true)
  }
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > ctx.maxBodySize) {
    rec.outcome = 'too_large'
    return send(res, 413, null, BODY.tooLarge, true)
  }
  const chunks: Buffer[] = []
  let size = 0
  req.on('data', (c: Buffer) => {
    if (res.headersSent) return
    size += c.length
    if (size > ctx.maxBodySize) {
      chunks.length = 0
      rec.outcome = 'too_large'
      send(res, 413, null, BODY.tooLarge, true)
      return
    }
    chunks.push(c)
  })
  req.on('end', () => {
    // Answered already: too large, or a 408 because the body came too slowly.
    if (res.headersSent) return
    const body = Buffer.concat(chunks)
    chunks.length = 0
    const input = parseVerifyBody(body)
    body.fill(0)
    const close = ctx.closeConnections()
    if (!input) {
      rec.outcome = 'bad_request'
      return send(res, 400, null, BODY.badJson, close)
    }
    const accessId = input.accessId !== undefined && isAccessId(input.accessId) ? input.accessId : undefined
    if (accessId !== undefined) rec.accessId = accessId
    const gate = ctx.limiter.check(rec.client, accessId)
    if (gate.limited) {
      rec.outcome = 'limited'
      return send(res, 429, ['Retry-After', String(gate.retryAfterSeconds)], BODY.limited, close)
    }
    const r = input.accessId !== undefined && accessId === undefined ? ({ valid: false, reason: 'malformed' } as const) : verifyKey(ctx.store, input.accessKey)
    if (r === null) {
      rec.outcome = 'unavailable'
      return send(res, 503, null, BODY.unavailable, close)
    }
    const v = checkPresentedId(r, accessId)
    if (!v.valid) {
      ctx.limiter.fail(rec.client, accessId)
      rec.outcome = 'denied'
      rec.reason = v.reason
      return send(res, 200, null, deniedBody(v.reason), close)
    }
    rec.outcome = 'allowed'
    rec.accessId = v.accessId
    send(res, 200, null, JSON.stringify({ valid: true, accessId: v.accessId, owner: v.owner, scopes: v.scopes }), close)
  })
  req.on('error', () => {
    /* aborted: logged by the response's close handler */
  })
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length']
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined
}

/** {key} or {accessId, accessKey}: strings, nothing else. Null for anything other. */
export function parseVerifyBody(body: Buffer): { accessKey: string; accessId?: string } | null {
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

