/**
 * `keydesk serve` as a process (the built CLI): start-up line, refusals with one
 * line on stderr and the contract's exit codes, and graceful SIGTERM/SIGINT.
 */
import { readdirSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import { createServer } from 'node:net'
import { tempDir } from '../helpers'
import { BIN, cli, createJson } from './cli-helpers'

const dirs: (() => void)[] = []
function freshDir(): string {
  const t = tempDir('keydesk-serve-cli-')
  dirs.push(t.cleanup)
  return t.dir
}
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  dirs.forEach((c) => c())
})

interface Running {
  child: ChildProcess
  url: string
  out: () => string
  err: () => string
  exit: Promise<number | null>
}

async function startServe(dataDir: string, extra: string[] = []): Promise<Running> {
  const child = spawn(process.execPath, [BIN, '--data-dir', dataDir, 'serve', '--listen', '127.0.0.1:0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  for (let i = 0; i < 300; i++) {
    const m = /^\{"listening":"(http:\/\/127\.0\.0\.1:\d+)"\}\n/.exec(out)
    if (m) return { child, url: m[1]!, out: () => out, err: () => err, exit }
    if (child.exitCode !== null) break
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`serve did not start: ${err}`)
}

function waitExit(r: Running, ms = 15_000): Promise<number | null | 'timeout'> {
  return Promise.race([r.exit, new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), ms))])
}

describe('keydesk serve (process)', () => {
  it.each([
    [['--listen', '0.0.0.0:8228'], /^keydesk: refusing to listen on 0\.0\.0\.0: it is not a loopback address\..*--allow-remote/],
    [['--listen', '[::]:8228'], /^keydesk: refusing to listen on ::/],
    [['--listen', 'example.com:80'], /^keydesk: --listen host "example\.com" is not an IP address/],
    [['--listen', '127.0.0.1:70000'], /^keydesk: --listen port 70000 is out of range/],
    [['--fail-burst', 'lots'], /^keydesk: .*--fail-burst.*must be a whole number/],
    [['--headers-timeout', '5000', '--request-timeout', '1000'], /^keydesk: --headers-timeout must not be longer than --request-timeout\./],
    [['--access-log', 'syslog'], /^keydesk: .*--access-log/],
    [['--trusted-proxy', 'proxy.local'], /^keydesk: --trusted-proxy "proxy\.local" is not an IP address or CIDR block\./],
    [['--trusted-proxy', '10.0.0.0/33'], /^keydesk: --trusted-proxy "10\.0\.0\.0\/33": prefix length out of range\./],
    [['--max-client-connections', '0'], /^keydesk: .*--max-client-connections.*must be a whole number/],
  ])('serve %j → exit 2, one line on stderr, nothing on stdout', (args, message) => {
    const r = cli(freshDir(), ['serve', ...args])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(message)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('an address in use → exit 2 naming it', async () => {
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as { port: number }).port
    try {
      const dir = freshDir()
      createJson(dir, ['--name', 'x'])
      const r = cli(dir, ['serve', '--listen', `127.0.0.1:${port}`])
      expect(r.code).toBe(2)
      expect(r.stderr).toBe(`keydesk: cannot listen on 127.0.0.1:${port}: the address is in use.\n`)
    } finally {
      blocker.close()
    }
  })

  it('no keychain → exit 3 with a plain message', () => {
    const dir = freshDir()
    expect(cli(dir, ['owner', 'add', 'someone']).code).toBe(0) // a store exists (serve never creates one)
    const r = cli(dir, ['serve'], { env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/keydesk-test-bus' } })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/^keydesk: The OS keychain is unavailable/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('a data dir without a store is refused, not given a new one', () => {
    const dir = freshDir()
    const r = cli(dir, ['serve'])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/^keydesk: There is no key store in /)
    expect(readdirSync(dir)).toEqual([])
  })

  it('SIGTERM: the request in flight is answered, then exit 0 with last-used written', async () => {
    const dir = freshDir()
    const a = createJson(dir, ['--name', 'a'])
    const b = createJson(dir, ['--name', 'b'])
    const s = await startServe(dir)
    const port = Number(new URL(s.url).port)
    const get = (key: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/v1/auth', headers: { 'X-Api-Key': key }, agent: false }, (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        })
        req.on('error', reject)
        req.end()
      })
    expect(await get(a.accessKey)).toBe(204)
    expect(await get(b.accessKey)).toBe(204) // b's last-used is still pending in memory (coalesced)

    const body = JSON.stringify({ key: a.accessKey })
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/v1/keys/verify', method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } },
        (res) => {
          let text = ''
          res.on('data', (d: Buffer) => (text += d.toString()))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
        },
      )
      req.on('error', reject)
      req.write(body.slice(0, 4))
      setTimeout(() => {
        s.child.kill('SIGTERM')
        setTimeout(() => req.end(body.slice(4)), 300)
      }, 100)
    })
    const r = await answer
    expect(r.status).toBe(200)
    expect(JSON.parse(r.text)).toMatchObject({ valid: true, accessId: a.accessId })
    expect(await waitExit(s)).toBe(0)
    const lines = s.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines[lines.length - 1]).toMatchObject({ stopped: true, signal: 'SIGTERM' })
    expect(s.err()).toBe('')
    expect(s.out()).not.toContain(a.accessKey)
    const shown = JSON.parse(cli(dir, ['--json', 'show', b.accessId]).stdout) as { lastUsedAt: string | null }
    expect(shown.lastUsedAt).not.toBeNull()
  })

  it('SIGINT stops it too; --access-log stderr moves the log off stdout', async () => {
    const dir = freshDir()
    const a = createJson(dir, ['--name', 'a'])
    const s = await startServe(dir, ['--access-log', 'stderr'])
    const res = await fetch(`${s.url}/v1/auth`, { headers: { Authorization: `Bearer ${a.accessKey}` } })
    expect(res.status).toBe(204)
    s.child.kill('SIGINT')
    expect(await waitExit(s)).toBe(0)
    expect(s.out().trim().split('\n')).toHaveLength(2) // listening + stopped
    const log = JSON.parse(s.err().trim()) as Record<string, unknown>
    expect(log).toMatchObject({ method: 'GET', path: '/v1/auth', status: 204, outcome: 'allowed', accessId: a.accessId })
  })

  it('--client-ip-header without --trusted-proxy: starts, with one warning line on stderr; with one, no warning', async () => {
    const dir = freshDir()
    createJson(dir, ['--name', 'w'])
    const s = await startServe(dir, ['--client-ip-header', 'X-Real-IP'])
    await new Promise((r) => setTimeout(r, 100))
    expect(s.err()).toMatch(/^keydesk: warning: --client-ip-header X-Real-IP is ignored: no --trusted-proxy is given.*--trusted-proxy/)
    expect(s.err().trim().split('\n')).toHaveLength(1)
    s.child.kill('SIGTERM')
    expect(await waitExit(s)).toBe(0)
    const t = await startServe(dir, ['--client-ip-header', 'X-Real-IP', '--trusted-proxy', '127.0.0.1', '::1', '--trusted-proxy', '10.0.0.0/8,192.168.0.0/16'])
    await new Promise((r) => setTimeout(r, 100))
    expect(t.err()).toBe('')
    t.child.kill('SIGTERM')
    expect(await waitExit(t)).toBe(0)
  })
})
