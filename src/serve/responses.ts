/**
 * Every answer keydesk serve gives: fixed bodies built from reason codes, never
 * from anything the request carried, written in one writeHead call.
 */
import type { ServerResponse } from 'node:http'

export const JSON_TYPE = 'application/json; charset=utf-8'

/** The one JSON body for each non-verify outcome; nothing from the request goes in. */
export const BODY = {
  notFound: '{"error":"not_found"}',
  method: '{"error":"method_not_allowed"}',
  tooLarge: '{"error":"too_large"}',
  mediaType: '{"error":"unsupported_media_type","message":"send Content-Type: application/json"}',
  badJson: '{"error":"bad_request","message":"body must be JSON {\\"key\\"} or {\\"accessId\\",\\"accessKey\\"} with string values"}',
  limited: '{"error":"rate_limited"}',
  forbidden: '{"error":"insufficient_scope"}',
  unavailable: '{"error":"unavailable"}',
  timeout: '{"error":"timeout"}',
  tooManyConnections: '{"error":"too_many_connections"}',
  stopping: '{"ok":false,"status":"stopping"}',
  health: '{"ok":true}',
  missing: '{"valid":false,"reason":"missing"}',
} as const

/**
 * Reasons a remote caller may see. `mismatch` (a key presented with another
 * key's access ID) is answered as `unknown`: otherwise the answer would tell a
 * guesser that the access ID exists. The access log keeps the real reason.
 */
export function remoteReason(reason: string): string {
  return reason === 'mismatch' ? 'unknown' : reason
}

const DENIED_BODY = new Map<string, string>()
/** `{"valid":false,"reason":R}`, built once per reason code. */
export function deniedBody(reason: string): string {
  const r = remoteReason(reason)
  let b = DENIED_BODY.get(r)
  if (b === undefined) {
    b = JSON.stringify({ valid: false, reason: r })
    DENIED_BODY.set(r, b)
  }
  return b
}

export interface Challenges {
  plain: string
  invalid: string
  scope: string
}

export function challenges(realmIn: string): Challenges {
  const realm = realmIn.replace(/["\\]/g, '')
  return {
    plain: `Bearer realm="${realm}"`,
    invalid: `Bearer realm="${realm}", error="invalid_token"`,
    scope: `Bearer realm="${realm}", error="insufficient_scope"`,
  }
}

const COMMON = ['Cache-Control', 'no-store', 'X-Content-Type-Options', 'nosniff']

/**
 * Write the whole response. `headers` is a flat [name, value, …] list; `close`
 * adds Connection: close (stopping, a body left unread, or near the connection
 * cap). HEAD gets the headers without the body.
 */
export function send(res: ServerResponse, status: number, headers: readonly string[] | null, body: string | null, close: boolean): void {
  const h = headers === null ? COMMON.slice() : COMMON.concat(headers)
  if (close) h.push('Connection', 'close')
  if (body === null || status === 204) {
    res.writeHead(status, h)
    res.end()
    return
  }
  h.push('Content-Type', JSON_TYPE, 'Content-Length', String(Buffer.byteLength(body)))
  res.writeHead(status, h)
  res.end(res.req.method === 'HEAD' ? undefined : body)
}

/** A whole response as raw bytes, for a socket the HTTP parser has given up on. */
export function rawResponse(status: number, text: string, body: string): string {
  return `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nCache-Control: no-store\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
}
