// Where the Electron binary is, WITHOUT require('electron') (which tries to
// download it when missing). Used by scripts/start.js, scripts/package.js and
// test/e2e/electron.spec.ts.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** The electron npm package (KEYDESK_ELECTRON_PACKAGE overrides it, for the launcher's own tests). */
export function electronPackageDir(env = process.env) {
  return env.KEYDESK_ELECTRON_PACKAGE || join(ROOT, 'node_modules', 'electron')
}

/** Absolute path of an installed Electron executable, or null. */
export function electronBinaryPath(env = process.env) {
  const pkg = electronPackageDir(env)
  let rel = ''
  try {
    rel = readFileSync(join(pkg, 'path.txt'), 'utf8').trim()
  } catch {
    rel = ''
  }
  const candidates = []
  if (env.ELECTRON_OVERRIDE_DIST_PATH) candidates.push(join(env.ELECTRON_OVERRIDE_DIST_PATH, rel || 'electron'))
  else if (rel) candidates.push(join(pkg, 'dist', rel))
  return candidates.find((p) => existsSync(p)) ?? null
}

export const ELECTRON_MISSING_MESSAGE =
  'KeyDesk: the Electron binary is not installed (node_modules/electron has no dist); on a machine with network run `npx install-electron` (or `npm install electron`), or set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron — the CLI (`npx keydesk`) works without it.'

/** The one-line reason an install-electron run failed, from its output (never a stack trace). */
export function downloadFailureReason(result) {
  if (result.error) return result.error.code === 'ETIMEDOUT' ? 'the download timed out' : `install-electron did not run: ${result.error.code ?? result.error.message}`
  const text = `${result.stderr ?? ''}\n${result.stdout ?? ''}`
  const code = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|CERT_[A-Z_]+|UNABLE_TO_[A-Z_]+)\b(?:\s+([\w.-]+))?/.exec(text)
  if (code) return code[1] === 'ENOTFOUND' || code[1] === 'EAI_AGAIN' ? `no network: ${code[2] ? `${code[2]} could not be resolved` : 'a host could not be resolved'}` : `network error ${code[1]}`
  if (/fetch failed|socket hang up|other side closed/i.test(text)) return `the download from ${downloadHost(result.env ?? process.env)} failed; no network?`
  const http = /Response code (\d{3})(?: \(([^)]*)\))?/.exec(text) ?? /HTTPError: ([^\n]+)/.exec(text)
  if (http) return `the download server answered ${http[1]}${http[2] ? ` ${http[2]}` : ''}`
  const sum = /checksum|sha256/i.test(text)
  if (sum) return 'the download did not match its checksum'
  const first = text.split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('at '))
  return first ? first.replace(/^Error:\s*/, '').slice(0, 160) : `install-electron exited with code ${result.status}`
}

/** The host install-electron downloads from (ELECTRON_MIRROR, else GitHub). */
export function downloadHost(env = process.env) {
  const mirror = env.ELECTRON_MIRROR || env.npm_config_electron_mirror
  if (!mirror) return 'github.com'
  try {
    return new URL(mirror).host
  } catch {
    return mirror
  }
}

/**
 * Fetch the Electron binary with Electron's own install-electron (the electron package's
 * install.js) when it is missing. Returns the binary path, or { failed: reason }.
 */
export function ensureElectron({ env = process.env, log = (s) => process.stderr.write(s + '\n'), spawnSync } = {}) {
  const found = electronBinaryPath(env)
  if (found) return found
  if (env.ELECTRON_OVERRIDE_DIST_PATH) return { failed: `ELECTRON_OVERRIDE_DIST_PATH (${env.ELECTRON_OVERRIDE_DIST_PATH}) holds no Electron executable` }
  const install = join(electronPackageDir(env), 'install.js')
  if (!existsSync(install)) return { failed: 'the electron package is not installed; run `npm install` first' }
  log('KeyDesk: fetching the Electron binary with install-electron (once; about 100 MB)…')
  const r = spawnSync(process.execPath, [install], { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20 * 60_000 })
  const path = electronBinaryPath(env)
  return path ?? { failed: downloadFailureReason({ ...r, env }) }
}
