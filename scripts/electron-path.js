// Where the Electron binary is, WITHOUT require('electron') (which tries to
// download it when missing). Used by scripts/start.js and test/e2e/electron.spec.ts.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Absolute path of an installed Electron executable, or null. */
export function electronBinaryPath(env = process.env) {
  const pkg = join(ROOT, 'node_modules', 'electron')
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
