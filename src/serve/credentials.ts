/**
 * Reading the presented key from a request's headers, and the required scopes.
 *
 * Accepted forms (DESIGN.md "the seeds' rules"):
 *   Authorization: Basic base64(accessId:accessKey)
 *   Authorization: Basic base64(_api_key:accessKey)
 *   Authorization: Basic base64(accessKey:)          (key as user name, empty password)
 *   Authorization: Bearer accessKey
 *   X-Api-Key: accessKey
 *
 * Nothing here echoes, logs or keeps a header value: callers get the key to pass
 * to verify, an access ID when one was presented in a well-formed shape, or a
 * bare verdict ('missing' / 'malformed').
 */
import type { IncomingHttpHeaders } from 'node:http'
import { isAccessId } from '../main/core/keyformat'
import { SCOPE_RE, MAX_SCOPES } from '../main/core/names'

export type Presented =
  | { kind: 'missing' }
  | { kind: 'malformed'; accessId?: string }
  | { kind: 'key'; accessKey: string; accessId?: string; via: 'basic' | 'bearer' | 'x-api-key' }

/** Longest credential value worth looking at; a real key is 43 characters. */
const MAX_VALUE = 512
const API_KEY_USER = '_api_key'
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

export type Distinct = Record<string, string[] | undefined>

/**
 * The headers keydesk reads, from req.rawHeaders in one pass, duplicates kept
 * apart (as req.headersDistinct would give them, without building that object
 * for every header of every request). `extra` is a lower-case header name also
 * wanted (the --client-ip-header).
 */
export function wantedHeaders(rawHeaders: readonly string[], extra?: string): Distinct {
  const out: Distinct = {}
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase()
    if (name === 'authorization' || name === 'x-api-key' || name === 'x-required-scope' || name === extra) (out[name] ??= []).push(rawHeaders[i + 1]!)
  }
  return out
}

/** One header's values, with duplicates kept apart (req.headersDistinct). */
function values(h: Distinct, name: string): string[] {
  return h[name] ?? []
}

type Said = Exclude<Presented, { kind: 'missing' }>

function fromAuthorization(value: string): Said {
  const v = value.trim()
  if (v.length > MAX_VALUE) return { kind: 'malformed' }
  const sp = v.indexOf(' ')
  if (sp < 0) return { kind: 'malformed' }
  const scheme = v.slice(0, sp).toLowerCase()
  const param = v.slice(sp + 1).trimStart()
  if (scheme === 'bearer') {
    if (!TOKEN68.test(param)) return { kind: 'malformed' }
    return { kind: 'key', accessKey: param, via: 'bearer' }
  }
  if (scheme !== 'basic' || !BASE64.test(param) || param.length % 4 === 1) return { kind: 'malformed' }
  const decoded = Buffer.from(param, 'base64').toString('utf8')
  if (decoded.includes('\ufffd') || CONTROL.test(decoded)) return { kind: 'malformed' }
  const colon = decoded.indexOf(':')
  if (colon < 0) return { kind: 'malformed' }
  const user = decoded.slice(0, colon)
  const pass = decoded.slice(colon + 1)
  if (user === API_KEY_USER) return pass ? { kind: 'key', accessKey: pass, via: 'basic' } : { kind: 'malformed' }
  if (pass === '' && user !== '') return { kind: 'key', accessKey: user, via: 'basic' }
  // user:password where the user is no access ID is some other credential (or ':').
  if (!isAccessId(user)) return { kind: 'malformed' }
  return { kind: 'key', accessKey: pass, accessId: user, via: 'basic' }
}

/**
 * The credential in these headers. Repeated Authorization or X-Api-Key headers,
 * an unknown scheme, bad base64, or an Authorization and an X-Api-Key that name
 * different keys are all 'malformed': a request must say one thing.
 */
export function presentedCredential(headersDistinct: Distinct): Presented {
  const auth = values(headersDistinct, 'authorization').filter((v) => v.trim() !== '')
  const apiKey = values(headersDistinct, 'x-api-key').filter((v) => v.trim() !== '')
  if (auth.length === 0 && apiKey.length === 0) return { kind: 'missing' }
  if (auth.length > 1 || apiKey.length > 1) return { kind: 'malformed' }
  let fromHeader: Said | undefined
  if (apiKey.length === 1) {
    const k = apiKey[0]!.trim()
    fromHeader = k.length > MAX_VALUE || !TOKEN68.test(k) ? { kind: 'malformed' } : { kind: 'key', accessKey: k, via: 'x-api-key' }
  }
  if (auth.length === 0) return fromHeader!
  const fromAuth = fromAuthorization(auth[0]!)
  if (!fromHeader) return fromAuth
  if (fromAuth.kind === 'key' && fromHeader.kind === 'key' && fromAuth.accessKey === fromHeader.accessKey) return fromAuth
  return fromAuth.accessId === undefined ? { kind: 'malformed' } : { kind: 'malformed', accessId: fromAuth.accessId }
}

export type RequiredScopes = { ok: true; scopes: string[] } | { ok: false; message: string }

/**
 * Scopes the request must carry: every `scope` query parameter and every
 * X-Required-Scope header, each possibly a space- or comma-separated list. All
 * are required. Because requirements only ever add up, a client that injects its
 * own X-Required-Scope through a proxy can only make its own request stricter.
 */
export function requiredScopes(query: URLSearchParams | null, headers: IncomingHttpHeaders | Distinct): RequiredScopes {
  const raw: string[] = []
  if (query) raw.push(...query.getAll('scope'))
  const h = headers['x-required-scope']
  if (Array.isArray(h)) raw.push(...h)
  else if (typeof h === 'string') raw.push(h)
  const out = new Set<string>()
  for (const r of raw) {
    for (const part of r.split(/[\s,]+/)) {
      if (part === '') continue
      if (!SCOPE_RE.test(part))
        return { ok: false, message: 'A required scope is not valid: use letters, digits and _ . : * / - (at most 64 characters, starting with a letter or digit).' }
      out.add(part)
    }
  }
  if (out.size > MAX_SCOPES) return { ok: false, message: `Too many required scopes: at most ${MAX_SCOPES}.` }
  return { ok: true, scopes: [...out] }
}

/**
 * A header-safe rendering of a name: printable ASCII stays as it is; '%' and
 * anything else is percent-encoded as UTF-8, so decodeURIComponent() always
 * gives the name back and no header ever carries a raw non-ASCII byte.
 */
export function headerSafe(s: string): string {
  return s.replace(/[^\x20-\x24\x26-\x7e]+/g, (m) => [...Buffer.from(m, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''))
}
