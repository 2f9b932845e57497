/**
 * Structured access log: one JSON object per line, per request.
 *
 *   {"time":"2025-01-01T00:00:00.000Z","client":"127.0.0.1","method":"GET","path":"/v1/auth",
 *    "status":204,"outcome":"allowed","accessId":"kdid_…","scopes":["read"],"ms":0.412}
 *
 * What a line may hold is fixed by the AccessEntry type: never a key, never an
 * Authorization or X-Api-Key value, never a query string or a body. Unknown paths
 * are logged with anything key-like redacted. Lines are buffered and written
 * from setImmediate, after the current event-loop turn, never inside a request's
 * handler: a busy server makes one write per batch rather than one per request.
 */
import type { ServerResponse } from 'node:http'

export type Outcome =
  | 'allowed' // 204 on /v1/auth, or a valid key on POST /v1/keys/verify
  | 'denied' // 401, or valid:false on POST /v1/keys/verify
  | 'forbidden' // 403: a valid key without a required scope
  | 'limited' // 429: too many failed attempts from this client
  | 'ok' // /healthz
  | 'bad_request'
  | 'not_found'
  | 'method_not_allowed'
  | 'too_large'
  | 'unsupported_media_type'
  | 'unavailable' // 503: the store failed, or the server is stopping
  | 'timeout' // 408 from the HTTP parser (slow client)
  | 'header_too_large' // 431 from the HTTP parser
  | 'aborted' // client went away before a response
  | 'too_many_connections' // connection closed at once: the client holds --max-client-connections

export interface AccessEntry {
  time: string
  client: string
  method: string | null
  path: string | null
  status: number
  outcome: Outcome
  /**
   * Verification failure reason code (unknown, mismatch, revoked, expired, disabled, owner_disabled,
   * malformed, tampered, missing, insufficient_scope, bad_scope). The log keeps `mismatch`; remote
   * answers say `unknown` for it.
   */
  reason?: string
  /** Access ID: the verified one, or a presented one that has the access-ID shape. */
  accessId?: string
  /** Required scopes of a forward-auth request. */
  scopes?: string[]
  /** Time from request to response, milliseconds. */
  ms: number
}

export interface AccessLogSink {
  write(line: string): unknown
}

export interface AccessLog {
  log(entry: AccessEntry): void
  flush(): void
}

const KNOWN_PATHS = new Set(['/v1/auth', '/v1/keys/verify', '/healthz'])
const MAX_PATH = 128

/** The path part of a request target, safe to log: no query, key-like runs redacted, capped. */
export function loggablePath(target: string | undefined): string | null {
  if (target === undefined) return null
  const q = target.indexOf('?')
  const p = q < 0 ? target : target.slice(0, q)
  if (KNOWN_PATHS.has(p)) return p
  const redacted = p
    .replace(/kdsk_[^/]*/gi, 'kdsk_[redacted]')
    .replace(/[A-Za-z0-9+_%=-]{20,}/g, '[redacted]')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
  return redacted.length > MAX_PATH ? redacted.slice(0, MAX_PATH) + '…' : redacted
}

/** A log writing JSON lines to sink (or nowhere, for sink null). */
export function createAccessLog(sink: AccessLogSink | null): AccessLog {
  if (!sink) return { log() {}, flush() {} }
  let pending: string[] = []
  let scheduled = false
  const flush = (): void => {
    scheduled = false
    if (pending.length === 0) return
    const text = pending.join('')
    pending = []
    try {
      sink.write(text)
    } catch {
      // A closed log stream must not take the server down.
    }
  }
  return {
    log(entry) {
      pending.push(JSON.stringify(entry) + '\n')
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    },
    flush,
  }
}

/** What a request's log line will say; filled in by the handler as it decides. */
export interface RequestRecord {
  client: string
  method: string | null
  path: string | null
  outcome: Outcome
  reason?: string
  accessId?: string
  scopes?: string[]
  /** performance.now() when the request was handed over. */
  started: number
}

/**
 * Log the request once, when its response is done: its status, or 499 'aborted'
 * when the client went away first. One listener per response ('close' follows
 * 'finish'), so every request makes exactly one line.
 */
export function logWhenDone(res: ServerResponse, rec: RequestRecord, log: AccessLog): void {
  res.once('close', () => {
    const finished = res.writableFinished
    log.log(accessLine(rec, finished ? res.statusCode : 499, finished ? rec.outcome : 'aborted'))
  })
}

export function accessLine(rec: RequestRecord, status: number, outcome: Outcome): AccessEntry {
  const line: AccessEntry = { time: new Date().toISOString(), client: rec.client, method: rec.method, path: rec.path, status, outcome, ms: 0 }
  if (rec.reason !== undefined) line.reason = rec.reason
  if (rec.accessId !== undefined) line.accessId = rec.accessId
  if (rec.scopes !== undefined) line.scopes = rec.scopes
  // ms last, as documented
  delete (line as Partial<AccessEntry>).ms
  line.ms = Math.round((performance.now() - rec.started) * 1000) / 1000
  return line
}
