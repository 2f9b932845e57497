#!/usr/bin/env node
// npm run package: AppImage and deb of KeyDesk with electron-builder, the Electron
// fuses set (electron-builder.yml), from the Electron binary npm start uses
// (fetched once with install-electron when missing). Each failure is one line, exit 1.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { ROOT, ensureElectron } from './electron-path.js'

const fail = (msg) => {
  process.stderr.write(`KeyDesk: ${msg}\n`)
  process.exit(1)
}

const electron = ensureElectron({ spawnSync })
if (typeof electron !== 'string') fail(`cannot package without the Electron binary (${electron.failed}); with network, run \`npx install-electron\` and try again.`)

const bin = (name) => join(ROOT, 'node_modules', '.bin', name)
const build = spawnSync(bin('electron-vite'), ['build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
if (build.status !== 0) fail('the build failed (npx electron-vite build); fix the errors above and try again.')

// electronDist: package the Electron already on disk instead of downloading another copy.
const args = ['--config', 'electron-builder.yml', '--linux', 'AppImage', 'deb', '--publish', 'never', `-c.electronDist=${dirname(electron)}`, ...process.argv.slice(2)]
const r = spawnSync(bin('electron-builder'), args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] })
if (r.status !== 0) {
  const text = r.stderr ?? ''
  const net = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT)\b\s*([\w.-]*)/.exec(text)
  const first = text.split('\n').map((l) => l.trim()).find((l) => l.startsWith('⨯')) ?? text.split('\n').find((l) => l.trim())
  fail(
    net
      ? `electron-builder could not download its tools (${net[1]}${net[2] ? ` ${net[2]}` : ''}); packaging needs network once.`
      : `electron-builder failed: ${(first ?? `exit code ${r.status}`).replace(/^⨯\s*/, '').slice(0, 200)}`,
  )
}

// Show the fuses of the packaged binary (the same check the README gives).
const app = join(ROOT, 'dist', 'linux-unpacked', 'keydesk-desktop')
const fuses = spawnSync(bin('electron-fuses'), ['read', '--app', app], { cwd: ROOT, encoding: 'utf8' })
process.stdout.write(fuses.status === 0 ? fuses.stdout : `KeyDesk: could not read the fuses of ${app}: ${(fuses.stderr || '').split('\n')[0]}\n`)
process.stdout.write(`KeyDesk: packages in ${join(ROOT, 'dist')} (AppImage and deb).\n`)
