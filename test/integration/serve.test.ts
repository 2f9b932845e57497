/**
 * `keydesk serve` in-process: the real HTTP server on 127.0.0.1 port 0 over a real
 * store (SQLite file + real Secret Service). Every response and every access-log
 * line is kept and, at the end, searched for every secret issued here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { connect } from 'node:net'
import { tempStore } from '../helpers'
import type { KeyStore } from '../../src/main/core/index'
import { createVerifyServer, type VerifyServer } from '../../src/serve/server'
import { clientKey, FailureLimiter } from '../../src/serve/limiter'
import { isLoopback, parseListen, trustedProxies } from '../../src/serve/listen'
import { headerSafe, presentedCredential } from '../../src/serve/credentials'
import { loggablePath, type AccessEntry } from '../../src/serve/access-log'
import { newAccessKey } from '../../src/main/core/keyformat'

interface Res {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** Every secret issued in this file, and everything the server said. */
const secrets = new Set<string>()
const seen: string[] = []
const logText: string[] = []

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64')

function rememberSecret(k: string): string {
  secrets.add(k)
  secrets.add(b64(`_api_key:${k}`))
  return k
}

function send(port: number, path: string, opts: { method?: string; headers?: Record<string, string | string[]>; body?: string } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false, timeout: 10_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => {
        const r = { status: res.statusCode ?? 0, headers: res.headers, body }
        seen.push(JSON.stringify(r.headers) + '\n' + body)
        resolve(r)
      })
    })
    req.on('timeout', () => req.destroy(new Error('client timeout')))
    req.on('error', reject)
    if (opts.body !== undefined) req.write(opts.body)
    req.end()
  })
}

/** Raw bytes over TCP; resolves with everything the server sent before closing (bounded by timeoutMs). */
function raw(port: number, data: string | Buffer, opts: { timeoutMs?: number; keepOpen?: boolean } = {}): Promise<{ text: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now()
    const s = connect({ host: '127.0.0.1', port })
    let text = ''
    let finished = false
    const finish = (closed: boolean): void => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      s.destroy()
      seen.push(text)
      resolve({ text, closed, ms: Date.now() - started })
    }
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 5_000)
    s.on('data', (d) => (text += d.toString('latin1')))
    s.on('close', () => finish(true))
    s.on('error', () => finish(true))
    s.write(data)
  })
}

describe('keydesk serve (in-process, real store)', () => {
  let store: KeyStore
  let cleanup: () => void
  let clock = Date.now()
  let limiterClock = 0
  let vs: VerifyServer
  let port: number
  const log: AccessEntry[] = []
  let k1: { accessId: string; accessKey: string; owner: string } // scopes read, billing:read
  let k2: { accessId: string; accessKey: string; owner: string } // no scopes

  const entries = (): AccessEntry[] => {
    vs.log.flush()
    return log
  }
  const lastEntry = (): AccessEntry => entries()[entries().length - 1]!

  beforeAll(async () => {
    const t = await tempStore({ now: () => clock })
    store = t.store
    cleanup = t.cleanup
    store.addOwner('svc-a', 'service')
    k1 = store.create({ name: 'a/one', owner: 'svc-a', scopes: ['read', 'billing:read'] })
    k2 = store.create({ name: 'a/two', owner: 'svc-a' })
    rememberSecret(k1.accessKey)
    rememberSecret(k2.accessKey)
    vs = createVerifyServer(store, {
      limits: { headersTimeoutMs: 400, requestTimeoutMs: 800, timeoutCheckIntervalMs: 50, maxHeaderSize: 4096, maxBodySize: 512 },
      limiter: { burst: 1000, perMinute: 60, now: () => limiterClock },
      clientIpHeader: 'X-Real-IP',
      accessLog: {
        write(s: string) {
          logText.push(s)
          for (const line of s.split('\n').filter(Boolean)) log.push(JSON.parse(line) as AccessEntry)
        },
      },
    })
    ;({ port } = await vs.listen('127.0.0.1', 0))
  })

  afterAll(async () => {
    await vs?.close(1000)
    cleanup?.()
  })

  describe('GET /v1/auth: every header form', () => {
    it('Basic accessId:accessKey → 204 with X-Key-Id, X-Key-Owner, X-Key-Scopes', async () => {
      const r = await send(port, '/v1/auth', { headers: { Authorization: `Basic ${b64(`${k1.accessId}:${k1.accessKey}`)}` } })
      expect(r.status).toBe(204)
      expect(r.body).toBe('')
      expect(r.headers['x-key-id']).toBe(k1.accessId)
      expect(r.headers['x-key-owner']).toBe('svc-a')
      expect(r.headers['x-key-scopes']).toBe('billing:read read')
      expect(r.headers['cache-control']).toBe('no-store')
      const e = lastEntry()
      expect(e).toMatchObject({ method: 'GET', path: '/v1/auth', status: 204, outcome: 'allowed', accessId: k1.accessId, client: '127.0.0.1' })
      expect(typeof e.ms).toBe('number')
      expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT/)
    })

    it.each([
      ['Basic _api_key:<key>', (k: string) => ({ Authorization: `Basic ${b64(`_api_key:${k}`)}` })],
      ['Basic <key>: (key as user name)', (k: string) => ({ Authorization: `Basic ${b64(`${k}:`)}` })],
      ['Bearer <key>', (k: string) => ({ Authorization: `Bearer ${k}` })],
      ['bearer (scheme case-insensitive)', (k: string) => ({ Authorization: `bearer  ${k}` })],
      ['X-Api-Key', (k: string) => ({ 'X-Api-Key': k })],
      ['Authorization and X-Api-Key naming the same key', (k: string) => ({ Authorization: `Bearer ${k}`, 'X-Api-Key': k })],
    ])('%s → 204', async (_name, headers) => {
      const r = await send(port, '/v1/auth', { headers: headers(k2.accessKey) })
      expect(r.status).toBe(204)
      expect(r.headers['x-key-id']).toBe(k2.accessId)
      expect(r.headers['x-key-scopes']).toBe('')
    })

    it('HEAD works like GET', async () => {
      const r = await send(port, '/v1/auth', { method: 'HEAD', headers: { 'X-Api-Key': k2.accessKey } })
      expect(r.status).toBe(204)
      expect(r.headers['x-key-id']).toBe(k2.accessId)
    })

    it('no credentials → 401 with WWW-Authenticate, reason missing', async () => {
      const r = await send(port, '/v1/auth')
      expect(r.status).toBe(401)
      expect(r.headers['www-authenticate']).toBe('Bearer realm="keydesk"')
      expect(JSON.parse(r.body)).toEqual({ valid: false, reason: 'missing' })
      expect(lastEntry()).toMatchObject({ status: 401, outcome: 'denied', reason: 'missing' })
    })

    it('a well-formed but unknown key → 401 unknown; another key\'s access ID → the same 401 unknown (the log says mismatch)', async () => {
      const other = store.create({ name: 'a/three', owner: 'svc-a' })
      rememberSecret(other.accessKey)
      store.revoke([other.accessId])
      const unknown = await send(port, '/v1/auth', { headers: { Authorization: `Bearer ${freshKey()}` } })
      expect(unknown.status).toBe(401)
      expect(JSON.parse(unknown.body)).toEqual({ valid: false, reason: 'unknown' })
      expect(unknown.headers['www-authenticate']).toBe('Bearer realm="keydesk", error="invalid_token"')
      const mismatch = await send(port, '/v1/auth', { headers: { Authorization: `Basic ${b64(`${k2.accessId}:${k1.accessKey}`)}` } })
      expect(mismatch.status).toBe(401)
      expect(mismatch.body).toBe(unknown.body)
      expect(mismatch.headers['www-authenticate']).toBe(unknown.headers['www-authenticate'])
      expect(lastEntry()).toMatchObject({ outcome: 'denied', reason: 'mismatch', accessId: k2.accessId })
      const revoked = await send(port, '/v1/auth', { headers: { 'X-Api-Key': other.accessKey } })
      expect(JSON.parse(revoked.body)).toEqual({ valid: false, reason: 'revoked' })
    })

    it.each([
      ['unknown scheme', { Authorization: 'Digest username="x"' }],
      ['Basic with bad base64', { Authorization: 'Basic @@@not-base64@@@' }],
      ['Basic without a colon', { Authorization: `Basic ${b64('kdsk_nocolon')}` }],
      ['Basic with a non-ID user', { Authorization: `Basic ${b64('someone:password')}` }],
      ['Basic _api_key with empty key', { Authorization: `Basic ${b64('_api_key:')}` }],
      ['Bearer with no token', { Authorization: 'Bearer' }],
      ['Bearer with two tokens', { Authorization: 'Bearer abc def' }],
      ['a key with a wrong checksum', { Authorization: 'Bearer kdsk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }],
      ['X-Api-Key with spaces', { 'X-Api-Key': 'kdsk_a b' }],
      ['Authorization and X-Api-Key naming different keys', { Authorization: 'Bearer kdsk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'X-Api-Key': 'kdsk_BBBB' }],
      ['two X-Api-Key headers', { 'X-Api-Key': ['kdsk_one', 'kdsk_two'] }],
      ['a huge Bearer token', { Authorization: 'Bearer ' + 'A'.repeat(2000) }],
    ])('%s → 401 malformed', async (_name, headers) => {
      const r = await send(port, '/v1/auth', { headers: headers as Record<string, string | string[]> })
      expect(r.status).toBe(401)
      expect(JSON.parse(r.body)).toEqual({ valid: false, reason: 'malformed' })
      expect(r.headers['www-authenticate']).toContain('Bearer realm="keydesk"')
    })

    it('two Authorization headers (even if both valid) → 401 malformed, not "first one wins"', async () => {
      const req =
        `GET /v1/auth HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${k2.accessKey}\r\nAuthorization: Bearer ${k1.accessKey}\r\nConnection: close\r\n\r\n`
      const r = await raw(port, req)
      expect(r.text).toMatch(/^HTTP\/1\.1 401 /)
      expect(r.text).toContain('"reason":"malformed"')
    })

    it('a non-ASCII owner name travels percent-encoded in X-Key-Owner', async () => {
      store.addOwner('Jürgen 田中 100%', 'user')
      const k = store.create({ name: 'intl', owner: 'Jürgen 田中 100%' })
      rememberSecret(k.accessKey)
      const r = await send(port, '/v1/auth', { headers: { 'X-Api-Key': k.accessKey } })
      expect(r.status).toBe(204)
      expect(r.headers['x-key-owner']).toMatch(/^[\x20-\x7e]+$/)
      expect(decodeURIComponent(r.headers['x-key-owner'] as string)).toBe('Jürgen 田中 100%')
      expect(headerSafe('plain-name/x')).toBe('plain-name/x')
    })

    it('a GET that announces a body it never sends is answered at once, and the connection closed', async () => {
      const r = await raw(port, `GET /v1/auth HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${k2.accessKey}\r\nContent-Length: 100\r\n\r\n`, { timeoutMs: 3000 })
      expect(r.text).toMatch(/^HTTP\/1\.1 204 /)
      expect(r.text.toLowerCase()).toContain('connection: close')
      expect(r.closed).toBe(true)
      expect(r.ms).toBeLessThan(2000)
    })

    it('other methods → 405 with Allow', async () => {
      const r = await send(port, '/v1/auth', { method: 'POST', headers: { 'X-Api-Key': k2.accessKey } })
      expect(r.status).toBe(405)
      expect(r.headers.allow).toBe('GET, HEAD')
    })
  })

  describe('required scopes', () => {
    it('?scope=S the key has → 204; one it lacks → 403 (no key headers)', async () => {
      const ok = await send(port, '/v1/auth?scope=billing:read', { headers: { 'X-Api-Key': k1.accessKey } })
      expect(ok.status).toBe(204)
      expect(lastEntry()).toMatchObject({ outcome: 'allowed', scopes: ['billing:read'] })
      const no = await send(port, '/v1/auth?scope=admin', { headers: { 'X-Api-Key': k1.accessKey } })
      expect(no.status).toBe(403)
      expect(JSON.parse(no.body)).toEqual({ error: 'insufficient_scope' })
      expect(no.headers['x-key-id']).toBeUndefined()
      expect(no.headers['www-authenticate']).toContain('error="insufficient_scope"')
      expect(lastEntry()).toMatchObject({ status: 403, outcome: 'forbidden', reason: 'insufficient_scope', accessId: k1.accessId, scopes: ['admin'] })
    })

    it('X-Required-Scope works the same; lists and query + header must all be held', async () => {
      expect((await send(port, '/v1/auth', { headers: { 'X-Api-Key': k1.accessKey, 'X-Required-Scope': 'read' } })).status).toBe(204)
      expect((await send(port, '/v1/auth', { headers: { 'X-Api-Key': k1.accessKey, 'X-Required-Scope': 'write' } })).status).toBe(403)
      expect((await send(port, '/v1/auth', { headers: { 'X-Api-Key': k1.accessKey, 'X-Required-Scope': 'read, billing:read' } })).status).toBe(204)
      expect((await send(port, '/v1/auth?scope=read', { headers: { 'X-Api-Key': k1.accessKey, 'X-Required-Scope': 'write' } })).status).toBe(403)
      expect((await send(port, '/v1/auth?scope=read&scope=write', { headers: { 'X-Api-Key': k1.accessKey } })).status).toBe(403)
      expect((await send(port, '/v1/auth?scope=read', { headers: { 'X-Api-Key': k2.accessKey } })).status).toBe(403)
    })

    it('an invalid required scope → 400 without echoing it; an invalid key still 401 when scopes are fine', async () => {
      const r = await send(port, '/v1/auth?scope=%3Cscript%3E', { headers: { 'X-Api-Key': k1.accessKey } })
      expect(r.status).toBe(400)
      expect(r.body).not.toContain('script')
      const bad = await send(port, '/v1/auth?scope=read', { headers: { 'X-Api-Key': 'kdsk_nope' } })
      expect(bad.status).toBe(401)
    })
  })

  describe('changes apply on the next request (no cache)', () => {
    it('revoke, reset, owner disable and expiry', async () => {
      const k = store.create({ name: 'live/one', owner: 'svc-a', expiresIn: '90m' })
      rememberSecret(k.accessKey)
      const auth = (key: string) => send(port, '/v1/auth', { headers: { Authorization: `Bearer ${key}` } })
      expect((await auth(k.accessKey)).status).toBe(204)
      const fresh = store.reset(k.accessId, { confirm: 'live/one' })
      rememberSecret(fresh.accessKey)
      expect(JSON.parse((await auth(k.accessKey)).body)).toEqual({ valid: false, reason: 'unknown' })
      expect((await auth(fresh.accessKey)).status).toBe(204)
      clock += 2 * 3600_000
      expect(JSON.parse((await auth(fresh.accessKey)).body)).toEqual({ valid: false, reason: 'expired' })
      clock -= 2 * 3600_000
      expect((await auth(fresh.accessKey)).status).toBe(204)
      store.revoke([k.accessId], 'test')
      expect(JSON.parse((await auth(fresh.accessKey)).body)).toEqual({ valid: false, reason: 'revoked' })

      store.addOwner('svc-b', 'service')
      const kb = store.create({ name: 'b', owner: 'svc-b' })
      rememberSecret(kb.accessKey)
      expect((await auth(kb.accessKey)).status).toBe(204)
      store.disableOwner('svc-b')
      expect(JSON.parse((await auth(kb.accessKey)).body)).toEqual({ valid: false, reason: 'owner_disabled' })
    })
  })

  describe('POST /v1/keys/verify', () => {
    const post = (body: string, headers: Record<string, string> = { 'Content-Type': 'application/json' }) =>
      send(port, '/v1/keys/verify', { method: 'POST', headers, body })

    it('{key} and {accessId, accessKey} → the CLI verify shape', async () => {
      const a = await post(JSON.stringify({ key: k1.accessKey }))
      expect(a.status).toBe(200)
      expect(JSON.parse(a.body)).toEqual({ valid: true, accessId: k1.accessId, owner: 'svc-a', scopes: ['billing:read', 'read'] })
      const b = await post(JSON.stringify({ accessId: k1.accessId, accessKey: k1.accessKey }), { 'Content-Type': 'application/json; charset=utf-8' })
      expect(JSON.parse(b.body)).toEqual({ valid: true, accessId: k1.accessId, owner: 'svc-a', scopes: ['billing:read', 'read'] })
      const c = await post(JSON.stringify({ accessId: k2.accessId, accessKey: k1.accessKey }))
      expect(c.status).toBe(200)
      expect(JSON.parse(c.body)).toEqual({ valid: false, reason: 'unknown' })
      expect(lastEntry()).toMatchObject({ outcome: 'denied', reason: 'mismatch', accessId: k2.accessId })
      const d = await post(JSON.stringify({ key: 'kdsk_short' }))
      expect(JSON.parse(d.body)).toEqual({ valid: false, reason: 'malformed' })
      expect(lastEntry()).toMatchObject({ method: 'POST', path: '/v1/keys/verify', status: 200, outcome: 'denied', reason: 'malformed' })
    })

    it.each([
      ['not JSON', 'key=abc'],
      ['an array', '[]'],
      ['a number for key', '{"key":5}'],
      ['an unknown field', JSON.stringify({ key: 'kdsk_x', extra: 1 })],
      ['accessId without accessKey', JSON.stringify({ accessId: 'kdid_x' })],
      ['both forms at once', JSON.stringify({ key: 'a', accessId: 'b', accessKey: 'c' })],
    ])('%s → 400 without echoing the body', async (_n, body) => {
      const r = await post(body)
      expect(r.status).toBe(400)
      expect(JSON.parse(r.body).error).toBe('bad_request')
      expect(r.body).not.toContain('kdsk_x')
    })

    it('wrong Content-Type → 415; declared or streamed oversize body → 413; GET → 405', async () => {
      expect((await post(JSON.stringify({ key: k1.accessKey }), { 'Content-Type': 'text/plain' })).status).toBe(415)
      expect((await post(JSON.stringify({ key: 'x'.repeat(600) }))).status).toBe(413)
      // Chunked, no Content-Length: cut off once past the cap.
      const chunked = await raw(
        port,
        `POST /v1/keys/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n${'x'.repeat(0x400)}\r\n`,
        { timeoutMs: 3000 },
      )
      expect(chunked.text).toMatch(/^HTTP\/1\.1 413 /)
      expect(chunked.closed).toBe(true)
      const g = await send(port, '/v1/keys/verify')
      expect(g.status).toBe(405)
      expect(g.headers.allow).toBe('POST')
    })
  })

  describe('other routes', () => {
    it('GET /healthz → 200 {"ok":true}', async () => {
      const r = await send(port, '/healthz')
      expect(r.status).toBe(200)
      expect(JSON.parse(r.body)).toEqual({ ok: true })
      expect((await send(port, '/healthz', { method: 'HEAD' })).status).toBe(200)
    })

    it('unknown paths → 404; a key pasted into a path is not logged', async () => {
      const r = await send(port, `/v1/keys/${k1.accessKey}?key=${k1.accessKey}`)
      expect(r.status).toBe(404)
      expect(r.body).toBe('{"error":"not_found"}')
      const e = lastEntry()
      expect(e.status).toBe(404)
      expect(e.path).toBe('/v1/keys/kdsk_[redacted]')
      expect(loggablePath('/x/abcdefghijABCDEFGHIJ0123/y')).toBe('/x/[redacted]/y')
    })
  })

  describe('limits', () => {
    it('oversize request head → 431 and close', async () => {
      const r = await raw(port, `GET /v1/auth HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(8000)}\r\nX-Api-Key: ${k1.accessKey}\r\n\r\n`)
      expect(r.text).toMatch(/^HTTP\/1\.1 431 /)
      expect(r.closed).toBe(true)
      expect(lastEntry()).toMatchObject({ status: 431, outcome: 'header_too_large', method: null, path: null })
    })

    it('malformed request bytes → 400 and close', async () => {
      const r = await raw(port, 'GARBAGE\x01 / HTTP/1.1\r\n\r\n')
      expect(r.text).toMatch(/^HTTP\/1\.1 400 /)
      expect(r.closed).toBe(true)
      const r2 = await raw(port, `GET /v1/auth HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${k1.accessKey}\r\nBad Header Line\r\n\r\n`)
      expect(r2.text).toMatch(/^HTTP\/1\.1 400 /)
      expect(r2.text).not.toContain(k1.accessKey)
    })

    it('a client that sends its head too slowly gets 408 and is disconnected', async () => {
      const r = await raw(port, 'GET /v1/auth HTTP/1.1\r\nHost: x\r\n', { timeoutMs: 4000 })
      expect(r.closed).toBe(true)
      expect(r.text).toMatch(/^HTTP\/1\.1 408 /)
      expect(r.ms).toBeLessThan(3000)
    })
  })

  describe('failed-attempt limiting', () => {
    it('per client: after the burst → 429 + Retry-After, even for a good key; tokens come back with time; other clients unaffected', async () => {
      const strict = createVerifyServer(store, {
        limiter: { burst: 3, perMinute: 6, now: () => limiterClock },
        clientIpHeader: 'X-Real-IP',
        trustedProxies: trustedProxies(['127.0.0.1']),
        accessLog: { write: (s: string) => logText.push(s) },
      })
      const { port: p } = await strict.listen('127.0.0.1', 0)
      try {
        const as = (ip: string, headers: Record<string, string>) => send(p, '/v1/auth', { headers: { 'X-Real-IP': ip, ...headers } })
        // Missing credentials are not attempts.
        for (let i = 0; i < 5; i++) expect((await as('10.0.0.1', {})).status).toBe(401)
        for (let i = 0; i < 3; i++) expect((await as('10.0.0.1', { 'X-Api-Key': 'kdsk_wrong' })).status).toBe(401)
        const limited = await as('10.0.0.1', { 'X-Api-Key': 'kdsk_wrong' })
        expect(limited.status).toBe(429)
        expect(limited.headers['retry-after']).toBe('10')
        expect(JSON.parse(limited.body)).toEqual({ error: 'rate_limited' })
        expect((await as('10.0.0.1', { 'X-Api-Key': k1.accessKey })).status).toBe(429)
        const postLimited = await send(p, '/v1/keys/verify', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Real-IP': '10.0.0.1' },
          body: JSON.stringify({ key: k1.accessKey }),
        })
        expect(postLimited.status).toBe(429)
        // Another client, and a valid key from it, are fine.
        expect((await as('10.0.0.2', { 'X-Api-Key': k1.accessKey })).status).toBe(204)
        // IPv6 clients share a bucket per /64.
        expect(clientKey('2001:db8:1:2::5')).toBe(clientKey('2001:db8:1:2:ffff::9'))
        expect(clientKey('2001:db8:1:2::5')).not.toBe(clientKey('2001:db8:1:3::5'))
        expect(clientKey('::ffff:10.0.0.1')).toBe('10.0.0.1')
        // 10 s later one token is back.
        limiterClock += 10_000
        expect((await as('10.0.0.1', { 'X-Api-Key': k1.accessKey })).status).toBe(204)
        expect((await as('10.0.0.1', { 'X-Api-Key': 'kdsk_wrong' })).status).toBe(401)
        expect((await as('10.0.0.1', { 'X-Api-Key': 'kdsk_wrong' })).status).toBe(429)
      } finally {
        await strict.close(1000)
      }
    })

    it('memory is bounded: the least active offenders are dropped first', () => {
      const l = new FailureLimiter({ burst: 2, perMinute: 1, maxClients: 3, now: () => 0 })
      l.fail('1.1.1.9')
      l.fail('1.1.1.9')
      for (const ip of ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4']) l.fail(ip)
      expect(l.size).toBeLessThanOrEqual(3)
      expect(l.check('1.1.1.9').limited).toBe(true)
      const off = new FailureLimiter({ burst: 0, perMinute: 1, maxClients: 3 })
      off.fail('1.1.1.1')
      expect(off.check('1.1.1.1').limited).toBe(false)
    })
  })

  describe('pieces', () => {
    it('listen addresses: loopback rule and parsing', () => {
      expect(parseListen('127.0.0.1:8228')).toEqual({ host: '127.0.0.1', port: 8228, loopback: true })
      expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0, loopback: true })
      expect(parseListen('localhost:1')).toMatchObject({ host: '127.0.0.1', loopback: true })
      expect(parseListen(':9000')).toMatchObject({ host: '127.0.0.1', port: 9000 })
      expect(parseListen('0.0.0.0:8228').loopback).toBe(false)
      expect(parseListen('[::]:8228').loopback).toBe(false)
      expect(parseListen('192.168.1.5:80').loopback).toBe(false)
      expect(isLoopback('::ffff:127.0.0.1')).toBe(true)
      expect(isLoopback('127.9.9.9')).toBe(true)
      for (const bad of ['example.com:80', '127.0.0.1', '127.0.0.1:99999', '[127.0.0.1]:80', '::1:80']) expect(() => parseListen(bad)).toThrow()
    })

    it('credential parsing never returns the key for a rejected form', () => {
      const p = presentedCredential({ authorization: ['Basic ' + b64('nobody:kdsk_x')] })
      expect(p).toEqual({ kind: 'malformed' })
    })
  })

  describe('graceful shutdown', () => {
    it('finishes a request in flight, refuses new connections, flushes last-used', async () => {
      const t = await tempStore()
      try {
        const a = t.store.create({ name: 'x1' })
        const b = t.store.create({ name: 'x2' })
        rememberSecret(a.accessKey)
        rememberSecret(b.accessKey)
        const s = createVerifyServer(t.store, { accessLog: { write: (x: string) => logText.push(x) } })
        const { port: p } = await s.listen('127.0.0.1', 0)
        expect((await send(p, '/v1/auth', { headers: { 'X-Api-Key': a.accessKey } })).status).toBe(204)
        expect((await send(p, '/v1/auth', { headers: { 'X-Api-Key': b.accessKey } })).status).toBe(204)

        // A POST whose body is still on its way when the stop begins.
        const body = JSON.stringify({ key: a.accessKey })
        let closing: Promise<void> | undefined
        const inflight = new Promise<Res>((resolve, reject) => {
          const req = httpRequest(
            { host: '127.0.0.1', port: p, path: '/v1/keys/verify', method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } },
            (res) => {
              let text = ''
              res.on('data', (d: Buffer) => (text += d.toString()))
              res.on('end', () => {
                seen.push(text)
                resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text })
              })
            },
          )
          req.on('error', reject)
          req.write(body.slice(0, 5))
          setTimeout(() => {
            closing = s.close(5000)
            setTimeout(() => req.end(body.slice(5)), 200)
          }, 100)
        })
        const r = await inflight
        expect(r.status).toBe(200)
        expect(JSON.parse(r.body).valid).toBe(true)
        expect(r.headers.connection).toBe('close')
        await closing
        await expect(send(p, '/healthz')).rejects.toThrow()
        expect(t.store.get(a.accessId).lastUsedAt).not.toBeNull()
        expect(t.store.get(b.accessId).lastUsedAt).not.toBeNull()
      } finally {
        t.cleanup()
      }
    })
  })

  it('no response and no log line contains a secret or the Authorization value', async () => {
    vs.log.flush()
    await new Promise((r) => setImmediate(r))
    expect(secrets.size).toBeGreaterThan(10)
    expect(seen.length).toBeGreaterThan(50)
    expect(logText.join('').split('\n').filter(Boolean).length).toBeGreaterThan(50)
    const everything = seen.join('\n') + '\n' + logText.join('')
    for (const s of secrets) expect(everything.includes(s), 'a secret leaked').toBe(false)
    // Not even a recognisable piece of one.
    for (const s of secrets) if (s.startsWith('kdsk_')) expect(everything.includes(s.slice(5, 25))).toBe(false)
    expect(everything).not.toMatch(/authorization"?\s*:/i)
    expect(everything.toLowerCase()).not.toContain('x-api-key')
  })
})

/** A key with the right shape and checksum that was never issued (the store's own generator). */
function freshKey(): string {
  return rememberSecret(newAccessKey())
}
