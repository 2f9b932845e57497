import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const ROOT = resolve(__dirname, '../..')
export const BIN = join(ROOT, 'bin/keydesk.js')

if (!existsSync(join(ROOT, 'out/main/cli.js'))) throw new Error('out/main/cli.js is missing: run `npm run build` before the integration tests (npm test does).')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Run the real CLI (built) with Node 22, synchronously. */
export function cli(dataDir: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, '--data-dir', dataDir, ...args], {
    input: opts.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    timeout: 60_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Run the real CLI asynchronously; resolves when it exits. */
export function cliAsync(dataDir: string, args: string[]): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const done = new Promise<CliResult>((res) => child.on('close', (code) => res({ code, stdout, stderr })))
  return { child, done }
}

export function createJson(dataDir: string, args: string[]): { accessId: string; accessKey: string; name: string; owner: string; expiresAt: string } {
  const r = cli(dataDir, ['--json', 'create', ...args])
  if (r.code !== 0) throw new Error(`create failed (${r.code}): ${r.stderr}`)
  return JSON.parse(r.stdout) as { accessId: string; accessKey: string; name: string; owner: string; expiresAt: string }
}

export function verifyKey(dataDir: string, key: string): { valid: boolean; reason?: string } {
  const r = cli(dataDir, ['--json', 'verify', '--key', key])
  return JSON.parse(r.stdout) as { valid: boolean; reason?: string }
}
