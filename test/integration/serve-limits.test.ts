/**
 * keydesk serve's defences that need real sockets: who is believed about the
 * client address, per-address and per-ID limiting, connection caps, keep-alive
 * near the cap, slow heads and bodies, the access-ID oracle, and nothing written
 * inside a request. In-process servers on 127.0.0.1 port 0 over a real store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { connect, type Socket } from 'node:net'
import Database from 'better-sqlite3'
import { tempStore } from '../helpers'
import type { KeyStore } from '../../src/main/core/index'
import { newAccessKey } from '../../src/main/core/keyformat'
import { configWarnings, createVerifyServer, type VerifyServer, type VerifyServerOptions } from '../../src/serve/server'
import { trustedProxies } from '../../src/serve/listen'
import type { AccessEntry } from '../../src/serve/access-log'

interface Res {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64')

function send(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; from?: string; agent?: false } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false, timeout: 10_000, localAddress: opts.from },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      },
    )
    req.on('timeout', () => req.destroy(new Error('client timeout')))
    req.on('error', reject)
    if (opts.body !== undefined) req.write(opts.body)
    req.end()
  })
}

/** A raw TCP connection that collects what the server sends. */
function open(port: number, from?: string): Promise<{ s: Socket; text: () => string; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const s = connect({ host: '127.0.0.1', port, localAddress: from })
    let text = ''
    s.on('data', (d) => (text += d.toString('latin1')))
    const closed = new Promise<number>((r) => s.on('close', () => r(Date.now() - started)))
    s.on('error', () => {})
    s.once('connect', () => resolve({ s, text: () => text, closed }))
    s.once('error', reject)
  })
}

const until = async (what: string, ok: () => boolean, ms = 3000): Promise<void> => {
  for (let i = 0; i < ms / 10; i++) {
    if (ok()) return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('keydesk serve: limits that need sockets', () => {
  let store: KeyStore
  let cleanup: () => void
  let good: { accessId: string; accessKey: string }
  let other: { accessId: string; accessKey: string }
  const servers: VerifyServer[] = []

  async function serve(options: VerifyServerOptions & { store?: KeyStore } = {}): Promise<{ port: number; log: AccessEntry[]; vs: VerifyServer }> {
    const log: AccessEntry[] = []
    const vs = createVerifyServer(options.store ?? store, {
      accessLog: { write: (s: string) => s.split('\n').filter(Boolean).forEach((l) => log.push(JSON.parse(l) as AccessEntry)) },
      ...options,
    })
    servers.push(vs)
    const { port } = await vs.listen('127.0.0.1', 0)
    return { port, log, vs }
  }

  beforeAll(async () => {
    const t = await tempStore()
    store = t.store
    cleanup = t.cleanup
    good = store.create({ name: 'good', scopes: ['read'] })
    other = store.create({ name: 'other' })
  })

  afterAll(async () => {
    for (const s of servers) await s.close(500)
    cleanup?.()
  })

  describe('whose address counts', () => {
    it('without --trusted-proxy the header is believed from no one, not even loopback: rotating it gives no extra attempts', async () => {
      const { port, log, vs } = await serve({ clientIpHeader: 'X-Real-IP', limiter: { burst: 3 } })
      for (let i = 0; i < 3; i++) expect((await send(port, '/v1/auth', { headers: { 'X-Real-IP': `203.0.113.${i}`, 'X-Api-Key': 'kdsk_wrong' } })).status).toBe(401)
      expect((await send(port, '/v1/auth', { headers: { 'X-Real-IP': '203.0.113.99', 'X-Api-Key': good.accessKey } })).status).toBe(429)
      vs.log.flush()
      expect(log.every((e) => e.client === '127.0.0.1')).toBe(true)
      expect(configWarnings({ clientIpHeader: 'X-Real-IP' })).toHaveLength(1)
      expect(configWarnings({ clientIpHeader: 'X-Real-IP' })[0]).toMatch(/^--client-ip-header X-Real-IP is ignored: no --trusted-proxy/)
      expect(configWarnings({ clientIpHeader: 'X-Real-IP', trustedProxies: trustedProxies(['127.0.0.1']) })).toEqual([])
      expect(configWarnings({})).toEqual([])
    })

    it('a local process cannot lock out a real client by naming its address; the trusted proxy can still vouch for it', async () => {
      const { port } = await serve({ clientIpHeader: 'X-Real-IP', trustedProxies: trustedProxies(['127.0.0.2']), limiter: { burst: 3 } })
      // An untrusted local peer (127.0.0.1, 127.0.1.5) "speaking for" 203.0.113.7.
      for (const from of ['127.0.0.1', '127.0.1.5'])
        for (let i = 0; i < 4; i++) await send(port, '/v1/auth', { from, headers: { 'X-Real-IP': '203.0.113.7', 'X-Api-Key': 'kdsk_wrong' } })
      expect((await send(port, '/v1/auth', { from: '127.0.1.5', headers: { 'X-Api-Key': good.accessKey } })).status).toBe(429)
      // The proxy (127.0.0.2) for the real 203.0.113.7: not limited.
      expect((await send(port, '/v1/auth', { from: '127.0.0.2', headers: { 'X-Real-IP': '203.0.113.7', 'X-Api-Key': good.accessKey } })).status).toBe(204)
    })

    it('behind one trusted proxy, one guesser does not lock out the others', async () => {
      const { port, log, vs } = await serve({ clientIpHeader: 'X-Forwarded-For', trustedProxies: trustedProxies(['127.0.0.1']), limiter: { burst: 3 } })
      const as = (ip: string, key: string) => send(port, '/v1/auth', { headers: { 'X-Forwarded-For': `10.9.9.9, ${ip}`, 'X-Api-Key': key } })
      for (let i = 0; i < 3; i++) expect((await as('198.51.100.1', 'kdsk_wrong')).status).toBe(401)
      const limited = await as('198.51.100.1', good.accessKey)
      expect(limited.status).toBe(429)
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1)
      expect((await as('198.51.100.2', good.accessKey)).status).toBe(204)
      expect((await as('198.51.100.2', 'kdsk_wrong')).status).toBe(401)
      // IPv6 clients share a bucket per /64, whatever the notation; v4-mapped is the IPv4 client.
      for (const ip of ['2001:db8:1:2::1', '2001:db8:1:2:0:0:0:2', '2001:0db8:0001:0002::3']) expect((await as(ip, 'kdsk_wrong')).status).toBe(401)
      expect((await as('2001:db8:1:2:ffff::9', good.accessKey)).status).toBe(429)
      expect((await as('2001:db8:1:3::1', good.accessKey)).status).toBe(204)
      expect((await as('::ffff:198.51.100.1', good.accessKey)).status).toBe(429)
      vs.log.flush()
      expect(log.some((e) => e.client === '198.51.100.1' && e.status === 429)).toBe(true)
    })

    it('one access ID guessed at from many addresses is limited for every address; the key alone (no ID) still works', async () => {
      const { port } = await serve({ clientIpHeader: 'X-Real-IP', trustedProxies: trustedProxies(['127.0.0.1']), limiter: { burst: 3 } })
      const basic = (ip: string, id: string, key: string) => send(port, '/v1/auth', { headers: { 'X-Real-IP': ip, Authorization: `Basic ${b64(`${id}:${key}`)}` } })
      for (let i = 0; i < 3; i++) expect((await basic(`192.0.2.${i}`, good.accessId, newAccessKey())).status).toBe(401)
      expect((await basic('192.0.2.50', good.accessId, good.accessKey)).status).toBe(429)
      expect((await send(port, '/v1/keys/verify', { method: 'POST', headers: { 'X-Real-IP': '192.0.2.51', 'Content-Type': 'application/json' }, body: JSON.stringify({ accessId: good.accessId, accessKey: good.accessKey }) })).status).toBe(429)
      expect((await send(port, '/v1/auth', { headers: { 'X-Real-IP': '192.0.2.50', 'X-Api-Key': good.accessKey } })).status).toBe(204)
      expect((await basic('192.0.2.50', other.accessId, other.accessKey)).status).toBe(204)
    })
  })

  describe('connections', () => {
    it('a client holding --max-client-connections gets 503 on the next one, logged once; closing one frees a slot; a trusted proxy is exempt', async () => {
      const { port, log, vs } = await serve({ limits: { maxClientConnections: 3 }, trustedProxies: trustedProxies(['127.0.0.2']) })
      const held = await Promise.all([open(port), open(port), open(port)])
      const extra = await open(port)
      const closedIn = await Promise.race([extra.closed, new Promise<number>((r) => setTimeout(() => r(-1), 3000))])
      expect(closedIn).toBeGreaterThanOrEqual(0)
      expect(extra.text()).toMatch(/^HTTP\/1\.1 503 /)
      expect(extra.text()).toContain('{"error":"too_many_connections"}')
      vs.log.flush()
      expect(log.filter((e) => e.outcome === 'too_many_connections')).toHaveLength(1)
      // IPv6-style grouping does not matter here; another address is its own client.
      expect((await send(port, '/v1/auth', { from: '127.0.0.3', headers: { 'X-Api-Key': good.accessKey } })).status).toBe(204)
      // The trusted proxy may hold more.
      const proxy = await Promise.all([1, 2, 3, 4, 5].map(() => open(port, '127.0.0.2')))
      expect((await send(port, '/v1/auth', { from: '127.0.0.2', headers: { 'X-Api-Key': good.accessKey } })).status).toBe(204)
      held[0]!.s.destroy()
      await held[0]!.closed
      await new Promise((r) => setTimeout(r, 50))
      expect((await send(port, '/v1/auth', { headers: { 'X-Api-Key': good.accessKey } })).status).toBe(204)
      for (const c of [...held, ...proxy]) c.s.destroy()
    })

    it('near --max-connections keep-alive is shortened, then responses close and idle connections are closed', async () => {
      const { port } = await serve({ limits: { maxConnections: 8, maxClientConnections: 100, keepAliveTimeoutMs: 5000, headersTimeoutMs: 5000, requestTimeoutMs: 5000 } })
      const req = `GET /v1/auth HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${good.accessKey}\r\n\r\n`
      const one = await open(port)
      one.s.write(req)
      await until('a response', () => one.text().includes('\r\n\r\n'))
      expect(one.text()).toMatch(/Keep-Alive: timeout=5/i)
      // Six open (75 % of 8): idle time at most 1 s.
      const busy = await Promise.all([1, 2, 3, 4, 5].map(() => open(port)))
      for (const b of busy) b.s.write('GET /healthz HTTP/1.1\r\n') // mid-head: not idle
      const six = await open(port)
      await new Promise((r) => setTimeout(r, 50))
      six.s.write(req)
      await until('a response', () => six.text().includes('\r\n\r\n'))
      expect(six.text()).toMatch(/Keep-Alive: timeout=1\b/i)
      expect(six.text()).not.toMatch(/Connection: close/i)
      // Eight open (the cap's 90 %): the response says Connection: close, and the idle
      // keep-alive connections (one, six) are closed when the eighth arrives.
      const seven = await open(port)
      const oneClosed = await Promise.race([one.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000))])
      const sixClosed = await Promise.race([six.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000))])
      expect(oneClosed && sixClosed).toBe(true)
      seven.s.write(req)
      await until('a response', () => seven.text().includes('\r\n\r\n'))
      expect(seven.text()).toMatch(/^HTTP\/1\.1 204 /)
      for (const c of [...busy, six, seven]) c.s.destroy()
    })

    it('at 90 % of the cap every response carries Connection: close', async () => {
      const { port } = await serve({ limits: { maxConnections: 4, maxClientConnections: 100, headersTimeoutMs: 5000, requestTimeoutMs: 5000 } })
      const busy = await Promise.all([1, 2, 3].map(() => open(port)))
      for (const b of busy) b.s.write('GET /healthz HTTP/1.1\r\n')
      const last = await open(port)
      last.s.write(`GET /v1/auth HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${good.accessKey}\r\n\r\n`)
      await until('a response', () => last.text().includes('\r\n\r\n'))
      expect(last.text()).toMatch(/^HTTP\/1\.1 204 /)
      expect(last.text()).toMatch(/Connection: close/i)
      for (const c of [...busy, last]) c.s.destroy()
    })
  })

  describe('slow clients: a real 408, one log line, on time', () => {
    let port: number
    let log: AccessEntry[]
    let vs: VerifyServer
    beforeAll(async () => {
      // Default check interval for these timeouts (a twentieth: 50 ms).
      ;({ port, log, vs } = await serve({ limits: { headersTimeoutMs: 1000, requestTimeoutMs: 1500 } }))
    })

    it('a slow head → 408 at the headers timeout, and exactly one log line', async () => {
      const c = await open(port)
      c.s.write('GET /v1/auth HTTP/1.1\r\nHost: x\r\n')
      const ms = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(-1), 4000))])
      expect(c.text()).toMatch(/^HTTP\/1\.1 408 /)
      expect(c.text()).toContain('{"error":"timeout"}')
      expect(ms).toBeGreaterThanOrEqual(980)
      expect(ms).toBeLessThan(1000 + 300) // checked every 50 ms, not every second
      await new Promise((r) => setTimeout(r, 300))
      vs.log.flush()
      expect(log.filter((e) => e.status === 408 || e.status === 499 || e.outcome === 'aborted')).toEqual([expect.objectContaining({ status: 408, outcome: 'timeout', method: null })])
      log.length = 0
    })

    it('a slow body → 408 with a body at the request timeout (not a silent cut), and exactly one log line', async () => {
      const c = await open(port)
      c.s.write('POST /v1/keys/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"key":')
      const ms = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(-1), 4000))])
      expect(c.text()).toMatch(/^HTTP\/1\.1 408 /)
      expect(c.text()).toMatch(/Connection: close/i)
      expect(c.text()).toContain('{"error":"timeout"}')
      expect(ms).toBeGreaterThanOrEqual(1480)
      expect(ms).toBeLessThan(1500 + 300)
      await new Promise((r) => setTimeout(r, 300))
      vs.log.flush()
      expect(log).toEqual([expect.objectContaining({ status: 408, outcome: 'timeout', method: 'POST', path: '/v1/keys/verify' })])
      log.length = 0
    })

    it('a connection that sends nothing is closed with 408 at the headers timeout', async () => {
      const c = await open(port)
      const ms = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(-1), 4000))])
      expect(ms).toBeGreaterThanOrEqual(980)
      expect(ms).toBeLessThan(1300)
      expect(c.text()).toMatch(/^HTTP\/1\.1 408 /)
    })
  })

  describe('no access-ID oracle', () => {
    it('verify is called with the key alone; a wrong secret for a real ID and an unknown ID get the same bytes, on both endpoints', async () => {
      const calls: object[] = []
      const spy = new Proxy(store, {
        get(target, prop) {
          if (prop === 'verify')
            return (input: { accessKey: string; accessId?: string }) => {
              calls.push(input)
              return target.verify(input)
            }
          const v = Reflect.get(target, prop, target) as unknown
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
        },
      })
      const { port, log, vs } = await serve({ store: spy, limiter: { burst: 1000 } })
      const madeUp = newAccessKey()
      const nobody = 'kdid_0000000000000000'
      const auth = async (id: string, key: string) => {
        const r = await send(port, '/v1/auth', { headers: { Authorization: `Basic ${b64(`${id}:${key}`)}` } })
        return `${r.status} ${r.headers['www-authenticate']} ${r.headers['content-length']} ${r.body}`
      }
      const post = async (id: string, key: string) => {
        const r = await send(port, '/v1/keys/verify', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ accessId: id, accessKey: key }) })
        return `${r.status} ${r.headers['content-length']} ${r.body}`
      }
      for (const ask of [auth, post]) {
        const answers = new Set([await ask(good.accessId, madeUp), await ask(nobody, madeUp), await ask(good.accessId, other.accessKey), await ask(nobody, other.accessKey)])
        expect([...answers]).toHaveLength(1)
        expect([...answers][0]).toContain('"reason":"unknown"')
      }
      expect(calls.length).toBe(8)
      for (const c of calls) expect(Object.keys(c)).toEqual(['accessKey'])
      vs.log.flush()
      // The log keeps the detail.
      expect(log.filter((e) => e.reason === 'mismatch')).toHaveLength(4)
      expect(log.filter((e) => e.reason === 'unknown')).toHaveLength(4)
    })
  })

  describe('nothing is written inside a request', () => {
    it('last-used times are written by the timer or on close, never while requests are answered; log lines are written after the handler returns', async () => {
      const t = await tempStore()
      try {
        const keys = t.store.createMany(Array.from({ length: 30 }, (_, i) => ({ name: `k${i}` })))
        let flushes = 0
        const spy = new Proxy(t.store, {
          get(target, prop) {
            if (prop === 'flushLastUsed') return () => (flushes++, target.flushLastUsed())
            const v = Reflect.get(target, prop, target) as unknown
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
          },
        })
        let inHandler = false
        let writesInHandler = 0
        let writes = 0
        const vs = createVerifyServer(spy, {
          flushIntervalMs: 60_000,
          accessLog: {
            write() {
              writes++
              if (inHandler) writesInHandler++
            },
          },
        })
        servers.push(vs)
        vs.server.prependListener('request', () => (inHandler = true))
        vs.server.on('request', () => (inHandler = false))
        const { port } = await vs.listen('127.0.0.1', 0)
        await Promise.all(keys.map((k) => send(port, '/v1/auth', { headers: { 'X-Api-Key': k.accessKey } })))
        for (const k of keys) expect((await send(port, '/v1/auth', { headers: { 'X-Api-Key': k.accessKey } })).status).toBe(204)
        expect(flushes).toBe(0)
        const other = new Database(t.store.dbPath, { readonly: true })
        try {
          expect(other.prepare('SELECT count(*) FROM keys WHERE last_used_at IS NOT NULL').pluck().get()).toBe(0)
          await vs.close(1000)
          expect(flushes).toBe(1)
          expect(other.prepare('SELECT count(*) FROM keys WHERE last_used_at IS NOT NULL').pluck().get()).toBe(30)
        } finally {
          other.close()
        }
        expect(writes).toBeGreaterThan(0)
        expect(writesInHandler).toBe(0)
      } finally {
        t.cleanup()
      }
    })

    it('the flush timer writes them in the background', async () => {
      const t = await tempStore()
      try {
        const k = t.store.create({ name: 'timed' })
        const vs = createVerifyServer(t.store, { flushIntervalMs: 100 })
        servers.push(vs)
        const { port } = await vs.listen('127.0.0.1', 0)
        expect((await send(port, '/v1/auth', { headers: { 'X-Api-Key': k.accessKey } })).status).toBe(204)
        await until('last-used written', () => t.store.get(k.accessId).lastUsedAt !== null, 3000)
        await vs.close(500)
      } finally {
        t.cleanup()
      }
    })
  })
})
