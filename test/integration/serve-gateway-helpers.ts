/**
 * Shared by nginx.test.ts and caddy.test.ts: the docs' snippets, the real
 * `keydesk serve` process, a recording upstream, curl, and the verify matrix
 * every gateway must pass. Everything listens on 127.0.0.1 on ports chosen at
 * run time; every wait and loop is bounded.
 */
import { expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { connect, createServer as createNetServer } from 'node:net'
import { join } from 'node:path'
import { newAccessKey } from '../../src/main/core/keyformat'

export const ROOT = join(__dirname, '../..')
export const CURL = '/usr/bin/curl'

/**
 * The fenced block of docs/serve.md whose first line is `# tested-snippet: NAME`,
 * exactly as written there (a test must fail when the docs are wrong).
 */
export function docSnippet(name: string): string {
  const md = readFileSync(join(ROOT, 'docs/serve.md'), 'utf8')
  const re = /```[a-z]*\n([\s\S]*?)```/g
  for (let m = re.exec(md); m; m = re.exec(md)) {
    const body = m[1]!
    if (body.startsWith(`# tested-snippet: ${name}\n`)) return body
  }
  throw new Error(`docs/serve.md has no block "# tested-snippet: ${name}"`)
}

/** Replace each `from` (which must occur) with `to`, everywhere. */
export function swap(text: string, pairs: [string, string][]): string {
  let out = text
  for (const [from, to] of pairs) {
    if (!out.includes(from)) throw new Error(`snippet no longer contains ${JSON.stringify(from)}: update the test's substitutions`)
    out = out.split(from).join(to)
  }
  return out
}

/** The `serve …` flags of a documented command line (everything after `serve`). */
export function serveFlags(snippet: string): string[] {
  const line = snippet.split('\n').find((l) => l.includes(' serve '))
  if (!line) throw new Error('no serve command in snippet')
  return line.slice(line.indexOf(' serve ') + 7).trim().split(/\s+/)
}

/** A free TCP port on 127.0.0.1 (bind port 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))))
    })
  })
}

export async function waitForPort(port: number, what: string, proc: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited (${proc.exitCode}): ${stderr()}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port })
      s.once('connect', () => (s.destroy(), resolve(true)))
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${what} did not listen on ${port}: ${stderr()}`)
}

export interface CurlResult {
  status: number
  headers: Record<string, string>
  body: string
}

/** curl, asynchronously: the upstream answering it lives in this process, so a blocking spawn would deadlock. */
export async function curl(url: string, args: string[] = []): Promise<CurlResult> {
  const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const p = spawn(CURL, ['-sS', '-i', '--max-time', '10', '--noproxy', '*', ...args, url], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout!.on('data', (d: Buffer) => (stdout += d.toString('latin1')))
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const kill = setTimeout(() => p.kill('SIGKILL'), 15_000)
    p.on('error', reject)
    p.on('close', (status) => (clearTimeout(kill), resolve({ status, stdout, stderr })))
  })
  if (r.status !== 0) throw new Error(`curl failed (${r.status}): ${r.stderr}`)
  const out = r.stdout
  const split = out.indexOf('\r\n\r\n')
  const head = split < 0 ? out : out.slice(0, split)
  const body = split < 0 ? '' : out.slice(split + 4)
  const lines = head.split('\r\n')
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0)
  const headers: Record<string, string> = {}
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':')
    if (c > 0) headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim()
  }
  return { status, headers, body }
}

export interface Upstream {
  server: Server
  port: number
  saw: { url: string; headers: IncomingHttpHeaders; raw: string[] }[]
}

/** A tiny app that records every request's headers. */
export async function startUpstream(name: string): Promise<Upstream> {
  const saw: Upstream['saw'] = []
  const server = createServer((req, res) => {
    saw.push({ url: req.url ?? '', headers: req.headers, raw: req.rawHeaders })
    res.setHeader('Content-Type', 'text/plain')
    res.end(`${name} ok`)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { server, port: (server.address() as { port: number }).port, saw }
}

export interface Keydesk {
  proc: ChildProcess
  port: number
  out: () => string
  err: () => string
}

/** The real CLI: `keydesk --data-dir DIR serve FLAGS --listen 127.0.0.1:0`. */
export async function startKeydesk(bin: string, dataDir: string, flags: string[]): Promise<Keydesk> {
  let out = ''
  let err = ''
  const proc = spawn(process.execPath, [bin, '--data-dir', dataDir, 'serve', ...flags, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`keydesk serve exited (${proc.exitCode}): ${err}`)
    const m = /\{"listening":"http:\/\/127\.0\.0\.1:(\d+)"\}/.exec(out)
    if (m) return { proc, port: Number(m[1]), out: () => out, err: () => err }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`keydesk serve did not print its address: ${err}`)
}

export function stopped(p: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  return new Promise((resolve) => {
    if (!p || p.exitCode !== null || p.signalCode !== null) return resolve(p?.exitCode ?? null)
    const t = setTimeout(() => (p.kill('SIGKILL'), resolve(null)), 10_000)
    p.once('exit', (code) => (clearTimeout(t), resolve(code)))
    p.kill(signal)
  })
}

export interface Issued {
  accessId: string
  accessKey: string
  owner: string
  name: string
}

export interface GatewayWorld {
  /** URL of a path under the site that needs any valid key ("/api/…" and the like). */
  url(kind: 'any' | 'billing', path: string): string
  /** Extra curl arguments every request needs (e.g. --resolve). */
  curlArgs: string[]
  create(args: string[]): Issued
  cli(args: string[]): { code: number | null; stdout: string; stderr: string }
  /** A secret to look for in every log (keys issued by the CLI are added by create). */
  remember(secret: string): void
  upstreams: Upstream[]
  /** The full text of the proxy's own access log (flushed). */
  proxyLog(): string
  /** Everything keydesk wrote. */
  keydeskOutput(): string
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64')
const IDENTITY = ['x-key-id', 'x-key-owner', 'x-key-scopes']

/**
 * The verify matrix, as `it` blocks. `world()` is read when each test runs.
 * Failures all come from 127.0.0.1 except in the limiting test, which uses its
 * own source address (curl --interface) so the count is exact.
 */
export function gatewayMatrix(world: () => GatewayWorld): void {
  const all = (): Upstream['saw'] => world().upstreams.flatMap((u) => u.saw)
  const clear = (): void => world().upstreams.forEach((u) => (u.saw.length = 0))
  const get = (kind: 'any' | 'billing', path: string, args: string[] = []) => curl(world().url(kind, path), [...world().curlArgs, ...args])

  /** What the upstream saw carries the identity and nothing of the key. */
  function expectHandedOn(k: Issued, scopes: string): void {
    const s = all()
    expect(s).toHaveLength(1)
    const h = s[0]!.headers
    expect(h['x-key-id']).toBe(k.accessId)
    expect(h['x-key-owner']).toBe(k.owner)
    expect(h['x-key-scopes'] ?? '').toBe(scopes)
    expect(h.authorization).toBeUndefined()
    expect(h['x-api-key']).toBeUndefined()
    const raw = s[0]!.raw.join('\n')
    expect(raw.includes(k.accessKey), 'the key reached the upstream').toBe(false)
    expect(raw.includes(b64(`_api_key:${k.accessKey}`))).toBe(false)
  }

  it('every credential form → 200; the upstream sees X-Key-Id/Owner/Scopes and no key', async () => {
    const k = world().create(['--name', 'forms', '--scope', 'read', '--scope', 'write'])
    const forms: [string, string[]][] = [
      ['Basic accessId:accessKey', ['-u', `${k.accessId}:${k.accessKey}`]],
      ['Basic _api_key:accessKey', ['-u', `_api_key:${k.accessKey}`]],
      ['Basic accessKey: (curl -u KEY:)', ['-u', `${k.accessKey}:`]],
      ['Bearer', ['-H', `Authorization: Bearer ${k.accessKey}`]],
      ['X-Api-Key', ['-H', `X-Api-Key: ${k.accessKey}`]],
    ]
    for (const [name, args] of forms) {
      clear()
      const r = await get('any', '/api/hello', args)
      expect(r.status, name).toBe(200)
      expect(r.body).toMatch(/ok$/)
      expectHandedOn(k, 'read write')
    }
  })

  it('wrong secret for a real access ID, unknown access ID, unknown key, no key → 401; no answer tells which IDs exist; nothing reaches the upstream', async () => {
    const k = world().create(['--name', 'victim'])
    const other = world().create(['--name', 'other'])
    const madeUp = newAccessKey() // well-formed, never issued
    world().remember(madeUp)
    const nobody = 'kdid_0000000000000000'
    clear()
    const answers = {
      realIdOtherKey: await get('any', '/api/x', ['-u', `${k.accessId}:${other.accessKey}`]),
      unknownIdOtherKey: await get('any', '/api/x', ['-u', `${nobody}:${other.accessKey}`]),
      realIdMadeUpKey: await get('any', '/api/x', ['-u', `${k.accessId}:${madeUp}`]),
      unknownIdMadeUpKey: await get('any', '/api/x', ['-u', `${nobody}:${madeUp}`]),
      unknownKey: await get('any', '/api/x', ['-H', `Authorization: Bearer ${madeUp}`]),
    }
    const none = await get('any', '/api/x')
    for (const r of [...Object.values(answers), none]) {
      expect(r.status).toBe(401)
      expect(r.headers['www-authenticate']).toContain('Bearer realm="keydesk"')
    }
    // The same bytes whether or not the access ID exists.
    const bodies = new Set(Object.values(answers).map((r) => r.body))
    const challenges = new Set(Object.values(answers).map((r) => r.headers['www-authenticate']))
    expect(bodies.size, [...bodies].join(' | ')).toBe(1)
    expect(challenges.size).toBe(1)
    expect(all()).toHaveLength(0)
  })

  it('revoke → 401 at the next request', async () => {
    const k = world().create(['--name', 'to-revoke'])
    expect((await get('any', '/api/x', ['-H', `X-Api-Key: ${k.accessKey}`])).status).toBe(200)
    const r = world().cli(['revoke', k.accessId, '--reason', 'gateway test'])
    expect(r.code, r.stderr).toBe(0)
    expect((await get('any', '/api/x', ['-H', `X-Api-Key: ${k.accessKey}`])).status).toBe(401)
  })

  it('reset without grace: the old secret → 401 at the next request, the new one → 200', async () => {
    const k = world().create(['--name', 'to-reset'])
    expect((await get('any', '/api/x', ['-H', `Authorization: Bearer ${k.accessKey}`])).status).toBe(200)
    const r = world().cli(['--json', 'reset', k.accessId, '--confirm', 'to-reset'])
    expect(r.code, r.stderr).toBe(0)
    const fresh = JSON.parse(r.stdout) as Issued
    world().remember(fresh.accessKey)
    expect((await get('any', '/api/x', ['-H', `Authorization: Bearer ${k.accessKey}`])).status).toBe(401)
    clear()
    expect((await get('any', '/api/x', ['-H', `Authorization: Bearer ${fresh.accessKey}`])).status).toBe(200)
    expectHandedOn({ ...k, accessKey: fresh.accessKey }, '')
  })

  it('reset with grace: the old secret still → 200 (same identity), and so does the new one', async () => {
    const k = world().create(['--name', 'graceful'])
    const r = world().cli(['--json', 'reset', k.accessId, '--confirm', 'graceful', '--grace', '1h'])
    expect(r.code, r.stderr).toBe(0)
    const fresh = JSON.parse(r.stdout) as Issued
    world().remember(fresh.accessKey)
    clear()
    expect((await get('any', '/api/x', ['-u', `${k.accessId}:${k.accessKey}`])).status).toBe(200)
    expectHandedOn(k, '')
    expect((await get('any', '/api/x', ['-H', `X-Api-Key: ${fresh.accessKey}`])).status).toBe(200)
  })

  it('a key without the required scope → 403, with it → 200; a client cannot loosen the requirement', async () => {
    const plain = world().create(['--name', 'no-billing', '--scope', 'read'])
    const billing = world().create(['--name', 'billing', '--scope', 'billing:read'])
    clear()
    expect((await get('billing', '/billing/invoices', ['-H', `Authorization: Bearer ${plain.accessKey}`])).status).toBe(403)
    expect((await get('billing', '/billing/invoices', ['-H', `Authorization: Bearer ${plain.accessKey}`, '-H', 'X-Required-Scope: read'])).status).toBe(403)
    expect(all()).toHaveLength(0)
    expect((await get('billing', '/billing/invoices', ['-H', `Authorization: Bearer ${billing.accessKey}`])).status).toBe(200)
    expectHandedOn(billing, 'billing:read')
  })

  it('spoofed identity headers, dash and underscore forms, any case, never reach the upstream', async () => {
    const bare = world().create(['--name', 'bare']) // no scopes: X-Key-Scopes comes back empty
    const spoof = [
      'X-Key-Id: kdid_spoofedspoofed00', 'X-Key-Owner: mallory', 'X-Key-Scopes: admin',
      'X_Key_Id: kdid_spoofedspoofed00', 'X_Key_Owner: mallory', 'X_Key_Scopes: admin',
      'x_key_scopes: admin2', 'X_API_KEY: kdsk_spoof',
    ].flatMap((h) => ['-H', h])
    clear()
    const r = await get('any', '/api/x', ['-H', `X-Api-Key: ${bare.accessKey}`, ...spoof])
    expect(r.status).toBe(200)
    expectHandedOn(bare, '')
    const seen = all()[0]!
    for (const name of Object.keys(seen.headers)) {
      const n = name.replace(/_/g, '-')
      if (IDENTITY.includes(n) || n === 'x-api-key') expect(name, `a client-sent ${name} reached the upstream`).not.toContain('_')
    }
    expect(seen.raw.join('\n')).not.toMatch(/mallory|admin|spoofed|kdsk_spoof/)
  })

  it('the 21st failure from one client → 429 with Retry-After; even its good key waits; other clients are not locked out', async () => {
    const good = world().create(['--name', 'patient'])
    const from = ['--interface', '127.0.0.21']
    for (let i = 1; i <= 20; i++) {
      const r = await get('any', '/api/x', [...from, '-H', `X-Api-Key: kdsk_wrongwrongwrongwrongwrongwrongwrong${String(i).padStart(2, '0')}`])
      expect(r.status, `failure ${i}`).toBe(401)
    }
    const limited = await get('any', '/api/x', [...from, '-H', 'X-Api-Key: kdsk_wrongwrongwrongwrongwrongwrongwrong21'])
    expect(limited.status).toBe(429)
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    expect((await get('any', '/api/x', [...from, '-H', `X-Api-Key: ${good.accessKey}`])).status).toBe(429)
    // Another client behind the same proxy is unaffected.
    expect((await get('any', '/api/x', ['--interface', '127.0.0.22', '-H', `X-Api-Key: ${good.accessKey}`])).status).toBe(200)
  })

  it('no secret in the proxy\'s access log or in anything keydesk wrote; keydesk logged access IDs and outcomes', () => {
    const w = world()
    const proxyLog = w.proxyLog()
    expect(proxyLog.length).toBeGreaterThan(0)
    const out = w.keydeskOutput()
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    const access = lines.filter((l) => 'status' in l)
    expect(access.some((l) => l.status === 204 && typeof l.accessId === 'string')).toBe(true)
    expect(access.some((l) => l.status === 401 && l.reason === 'mismatch')).toBe(true)
    expect(access.some((l) => l.status === 401 && l.reason === 'revoked')).toBe(true)
    expect(access.some((l) => l.status === 403 && l.reason === 'insufficient_scope')).toBe(true)
    expect(access.some((l) => l.status === 429 && l.outcome === 'limited' && l.client === '127.0.0.21')).toBe(true)
    for (const s of secretsOf(w)) {
      expect(proxyLog.includes(s), 'a secret reached the proxy log').toBe(false)
      expect(out.includes(s), 'a secret reached keydesk output').toBe(false)
    }
  })
}

const remembered = new WeakMap<GatewayWorld, string[]>()
/** The secrets a world has issued (create and remember push here). */
export function secretsOf(w: GatewayWorld): string[] {
  return remembered.get(w) ?? []
}
export function trackSecrets(w: GatewayWorld, list: string[]): void {
  remembered.set(w, list)
}
