/**
 * A team store with gateways on it, all real: a PostgreSQL server of its own (so it
 * can be stopped without disturbing the other suites), two admins as CLI processes
 * and three `keydesk serve --store postgres://…` processes reading the team secret
 * from a gateway secret file. A revocation by one admin reaches every gateway within
 * a second; with the database stopped, keys verified before keep passing for
 * --stale-for and no longer, keys never seen and keys revoked before the outage never
 * pass; with the database back, the gateways recover by themselves.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import keytar from 'keytar'
import { decodeKeyMaterial } from '../../src/main/core/crypto'
import { KEYCHAIN_SERVICE } from '../../src/main/core/keychain'
import { openKeyStore } from '../../src/main/core/keystore'
import { writePrivateFile } from '../../src/main/core/files'
import { teamSecretPayload } from '../../src/main/core/team-secret'
import { tempDir } from '../helpers'
import { BIN } from './cli-helpers'

const SCRIPT = join(__dirname, '../../scripts/pg-test-server.sh')
let pgDir = ''
let url = ''
let storeId = ''
let secretFile = ''
const dirs: (() => void)[] = []
const children: ChildProcess[] = []

function admin(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const d = tempDir('keydesk-admin-')
  dirs.push(d.cleanup)
  try {
    const stdout = execFileSync(process.execPath, [BIN, '--store', url, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 })
    return { code: 0, stdout, stderr: '' }
  } catch (e) {
    const x = e as { status: number | null; stdout: string; stderr: string }
    return { code: x.status, stdout: String(x.stdout), stderr: String(x.stderr) }
  }
}

interface Node {
  url: string
  out: () => string
  child: ChildProcess
}

async function startNode(): Promise<Node> {
  const child = spawn(process.execPath, [BIN, '--store', url, 'serve', '--listen', '127.0.0.1:0', '--secret-file', secretFile, '--stale-for', '4s', '--access-log', 'off'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  for (let i = 0; i < 400; i++) {
    const m = /\{"listening":"(http:\/\/127\.0\.0\.1:\d+)"\}/.exec(out)
    if (m) return { url: m[1]!, out: () => out, child }
    if (child.exitCode !== null) break
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`gateway did not start: ${err}`)
}

async function auth(node: Node, key: string): Promise<number> {
  const res = await fetch(`${node.url}/v1/auth`, { headers: { Authorization: `Bearer ${key}` } })
  await res.arrayBuffer()
  return res.status
}
async function health(node: Node): Promise<{ status: number; body: { status?: string; store?: { database?: string } } }> {
  const res = await fetch(`${node.url}/healthz`)
  return { status: res.status, body: (await res.json()) as { status?: string; store?: { database?: string } } }
}

/** Poll until every node answers `want` for key; returns the milliseconds it took, or -1. */
async function until(nodes: Node[], key: string, want: number, limitMs: number): Promise<number> {
  const t0 = performance.now()
  while (performance.now() - t0 < limitMs) {
    const got = await Promise.all(nodes.map((n) => auth(n, key)))
    if (got.every((s) => s === want)) return performance.now() - t0
    await new Promise((r) => setTimeout(r, 10))
  }
  return -1
}

beforeAll(async () => {
  const env = execFileSync('bash', [SCRIPT, 'start'], { encoding: 'utf8' })
  const m = /KEYDESK_TEST_PG=(\S+) KEYDESK_TEST_PG_DIR=(\S+)/.exec(env)!
  pgDir = m[2]!
  url = m[1]!.replace(/\/postgres$/, '/teamstore')
  execFileSync('psql', [m[1]!, '-qc', 'CREATE DATABASE teamstore'])
  // The team store, created as `keydesk team init` does (this admin's keychain gets the entry).
  const d = tempDir('keydesk-team-')
  dirs.push(d.cleanup)
  const s = await openKeyStore({ dataDir: d.dir, store: url, initTeam: true, actor: 'admin-a@test' })
  storeId = s.storeId
  await s.closeAsync()
  const material = decodeKeyMaterial((await keytar.getPassword(KEYCHAIN_SERVICE, storeId))!)
  secretFile = writePrivateFile(join(d.dir, 'gateway.secret'), teamSecretPayload(material, storeId, url), 'file')
}, 60_000)

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  if (pgDir) execFileSync('bash', [SCRIPT, 'stop', pgDir])
  dirs.forEach((c) => c())
  if (storeId) {
    await keytar.deletePassword(KEYCHAIN_SERVICE, storeId)
    await keytar.deletePassword(KEYCHAIN_SERVICE, `${storeId}:anchor`)
  }
})

describe('team store: two admins, three gateways', () => {
  it('revocation reaches every gateway within a second; an outage is ridden out for --stale-for and no longer; recovery is automatic', async () => {
    const create = (name: string) => {
      const r = admin(['--json', 'create', '--name', name])
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout) as { accessId: string; accessKey: string }
    }
    const k1 = create('svc/one')
    const k2 = create('svc/two')
    const k3 = create('svc/three')
    const k4 = create('svc/four')

    const nodes = await Promise.all([startNode(), startNode(), startNode()])
    for (const n of nodes) {
      expect(await auth(n, k1.accessKey)).toBe(204)
      expect(await auth(n, k2.accessKey)).toBe(204)
      expect(await auth(n, k4.accessKey)).toBe(204)
      expect((await health(n)).body).toMatchObject({ status: 'ok', store: { database: 'up' } })
    }

    // Admin B revokes k1: every node refuses it within a second (the cache was holding it).
    const revoke = admin(['revoke', k1.accessId, '--reason', 'rotated'])
    expect(revoke.code, revoke.stderr).toBe(0)
    const took = await until(nodes, k1.accessKey, 401, 1000)
    expect(took).toBeGreaterThanOrEqual(0)
    expect(took).toBeLessThan(1000)
    // Admin A disables k4: the same.
    expect(admin(['disable', k4.accessId]).code).toBe(0)
    expect(await until(nodes, k4.accessKey, 401, 1000)).toBeGreaterThanOrEqual(0)

    // The database goes away.
    execFileSync('bash', [SCRIPT, 'pause', pgDir])
    const downAt = performance.now()
    for (const n of nodes) {
      expect(await auth(n, k2.accessKey)).toBe(204) // verified before: still passes
      expect(await auth(n, k3.accessKey)).toBe(503) // never seen: not accepted
      expect(await auth(n, k1.accessKey)).not.toBe(204) // revoked before the outage: never
      expect(await auth(n, k4.accessKey)).not.toBe(204)
      expect(await health(n)).toMatchObject({ status: 200, body: { status: 'degraded', store: { database: 'down' } } })
    }
    // After --stale-for (4 s), nothing passes.
    await new Promise((r) => setTimeout(r, Math.max(0, 4300 - (performance.now() - downAt))))
    for (const n of nodes) {
      expect(await auth(n, k2.accessKey)).toBe(503)
      expect(await health(n)).toMatchObject({ status: 503, body: { status: 'down' } })
    }

    // The database is back: the nodes recover by themselves, and still know k1 is revoked.
    execFileSync('bash', [SCRIPT, 'resume', pgDir])
    expect(await until(nodes, k2.accessKey, 204, 10_000)).toBeGreaterThanOrEqual(0)
    for (const n of nodes) {
      expect(await auth(n, k3.accessKey)).toBe(204)
      expect(await auth(n, k1.accessKey)).toBe(401)
      expect((await health(n)).body).toMatchObject({ status: 'ok' })
    }
    // And follow the feed again after the reconnect.
    expect(admin(['revoke', k2.accessId]).code).toBe(0)
    expect(await until(nodes, k2.accessKey, 401, 1000)).toBeGreaterThanOrEqual(0)
  }, 90_000)
})
