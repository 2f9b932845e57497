#!/usr/bin/env node
// npm start: open the KeyDesk window. When the Electron binary is missing it is
// fetched once with Electron's own install-electron; where that download fails
// (no network) this says so in one line and exits 1.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, ensureElectron } from './electron-path.js'

const electron = ensureElectron({ spawnSync })
if (typeof electron !== 'string') {
  process.stderr.write(
    `KeyDesk: could not get the Electron binary (${electron.failed}); with network, run \`npx install-electron\` and \`npm start\` again — the CLI (\`npx keydesk\`) works without it.\n`,
  )
  process.exit(1)
}

function newest(dir) {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

const outputs = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'].map((p) => join(ROOT, p))
const stale = outputs.some((p) => !existsSync(p)) || newest(join(ROOT, 'src')) > Math.min(...outputs.map((p) => statSync(p).mtimeMs))
if (stale) {
  const vite = join(ROOT, 'node_modules', '.bin', 'electron-vite')
  const r = spawnSync(vite, ['build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  if (r.status !== 0) {
    process.stderr.write('KeyDesk: the build failed (npx electron-vite build); fix the errors above and try again.\n')
    process.exit(r.status ?? 1)
  }
}

const env = { ...process.env }
delete env.ELECTRON_RUN_AS_NODE
const child = spawn(electron, [ROOT, ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit', env })
child.on('error', (e) => {
  process.stderr.write(`KeyDesk: could not start Electron (${e.code ?? e.message}).\n`)
  process.exit(1)
})
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
