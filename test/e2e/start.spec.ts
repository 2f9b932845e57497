/**
 * `npm start` on a user's machine (scripts/start.js), hermetic: the electron
 * package is copied to a temp dir (KEYDESK_ELECTRON_PACKAGE) and Electron's own
 * install-electron downloads from a local mirror (ELECTRON_MIRROR):
 * - the mirror serves a stand-in "Electron" zip (a script that records its
 *   arguments): start fetches it through install-electron, then runs it on the app;
 * - the mirror is closed (no network): one line says the download failed, exit 1.
 * The real download (github.com) is never attempted, so this runs the same with
 * and without network.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { crc32 } from 'node:zlib'
import { expect, test } from '@playwright/test'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const NODE = join(ROOT, 'node_modules/.bin/node')
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'node_modules/electron/package.json'), 'utf8')) as { version: string }).version
const ZIP_NAME = `electron-v${VERSION}-linux-x64.zip`

/** A stored (uncompressed) zip of executable files: enough for the extractor install-electron uses. */
function zip(files: { name: string; body: string; mode: number }[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const f of files) {
    const data = Buffer.from(f.body)
    const name = Buffer.from(f.name)
    const crc = crc32(data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(data.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(name.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(0x0314, 4) // made by Unix
    central.writeUInt16LE(20, 6)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(data.length, 20)
    central.writeUInt32LE(data.length, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(((0o100000 | f.mode) << 16) >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, data)
    centrals.push(central, name)
    offset += local.length + name.length + data.length
  }
  const cd = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(files.length, 8)
  end.writeUInt16LE(files.length, 10)
  end.writeUInt32LE(cd.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, cd, end])
}

function electronPackageCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keydesk-start-'))
  cpSync(join(ROOT, 'node_modules/electron'), join(dir, 'electron'), {
    recursive: true,
    filter: (src) => !src.includes(`${join('node_modules', 'electron', 'dist')}`) && !src.endsWith('path.txt'),
  })
  // install.js resolves @electron/get and the extractor from the project's node_modules.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  return dir
}

/** Run scripts/start.js (asynchronously: the mirror answers from this same process). */
function start(dir: string, mirror: string): Promise<{ status: number | null; stderr: string }> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>) }
  delete env.ELECTRON_OVERRIDE_DIST_PATH
  delete env.ELECTRON_SKIP_BINARY_DOWNLOAD
  const child = spawn(NODE, [join(ROOT, 'scripts/start.js'), '--marker-arg'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...env,
      KEYDESK_ELECTRON_PACKAGE: join(dir, 'electron'),
      ELECTRON_MIRROR: mirror,
      electron_config_cache: join(dir, 'cache'),
      electron_use_remote_checksums: '1',
    },
  })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
  return new Promise((resolve) =>
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stderr })
    }),
  )
}

let server: Server | undefined
test.afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
  server = undefined
})

test('npm start fetches a missing Electron binary with install-electron, then opens the app with it', async () => {
  const dir = electronPackageCopy()
  try {
    const marker = join(dir, 'launched.txt')
    const body = zip([
      { name: 'electron', body: `#!/bin/sh\nprintf '%s\\n' "$@" > '${marker}'\n`, mode: 0o755 },
      { name: 'version', body: VERSION, mode: 0o644 },
    ])
    const sums = `${createHash('sha256').update(body).digest('hex')} *${ZIP_NAME}\n`
    const requests: string[] = []
    server = createServer((req, res) => {
      requests.push(req.url ?? '')
      if (req.url === `/v${VERSION}/${ZIP_NAME}`) return res.writeHead(200, { 'content-type': 'application/zip' }).end(body)
      if (req.url === `/v${VERSION}/SHASUMS256.txt`) return res.writeHead(200).end(sums)
      res.writeHead(404).end()
    })
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    const r = await start(dir, `http://127.0.0.1:${port}/`)
    expect(r.stderr).toContain('KeyDesk: fetching the Electron binary with install-electron')
    expect(r.status, r.stderr).toBe(0)
    expect(requests).toContain(`/v${VERSION}/${ZIP_NAME}`)
    expect(existsSync(join(dir, 'electron', 'path.txt'))).toBe(true)
    // The stand-in binary ran with the app's directory and the arguments given to npm start.
    const args = readFileSync(marker, 'utf8').trim().split('\n')
    expect(args.map((a) => a.replace(/\/$/, ''))).toEqual([ROOT.replace(/\/$/, ''), '--marker-arg'])
    // Second start: the binary is there, nothing is fetched.
    requests.length = 0
    const again = await start(dir, `http://127.0.0.1:${port}/`)
    expect(again.status).toBe(0)
    expect(again.stderr).not.toContain('fetching')
    expect(requests).toEqual([])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('npm start where the download fails (no network): one line that says so, exit 1', async () => {
  const dir = electronPackageCopy()
  try {
    // A port nothing listens on: the connection is refused, as with no network.
    server = createServer()
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    await new Promise<void>((r) => server!.close(() => r()))
    server = undefined
    const r = await start(dir, `http://127.0.0.1:${port}/`)
    expect(r.status).toBe(1)
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(2) // "fetching…", then the one line about the failure
    expect(lines[1]).toMatch(new RegExp(`^KeyDesk: could not get the Electron binary \\(the download from 127\\.0\\.0\\.1:${port} failed; no network\\?\\)`))
    expect(lines[1]).toContain('npx install-electron')
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(existsSync(join(dir, 'electron', 'path.txt'))).toBe(false)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
