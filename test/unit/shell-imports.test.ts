/**
 * Import directions (written down in docs/shell.md):
 *   src/shared        imports nothing from electron, node:* or the renderer (zod and itself only)
 *   src/main/core     never imports electron
 *   src/main/api      never imports electron
 *   src/renderer      never imports electron, node:* or src/main
 *   electron only in  src/main/electron, src/main/index.ts, src/preload
 * and the contract table and the operation list name the same operations.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { contract } from '../../src/shared/contract'
import { OPERATION_NAMES } from '../../src/shared/operations'

const ROOT = join(__dirname, '../..')

function files(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...files(p))
    else if (/\.(ts|tsx|js|mjs|cjs)$/.test(name)) out.push(p)
  }
  return out
}

function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8')
  const found: string[] = []
  const re = /(?:^|\s)(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|require\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm
  for (const m of src.matchAll(re)) found.push((m[1] ?? m[2] ?? m[3] ?? m[4])!)
  return found
}

const rel = (f: string) => relative(ROOT, f)

describe('import directions', () => {
  it('src/shared imports only zod and itself', () => {
    for (const f of files(join(ROOT, 'src/shared')))
      for (const i of imports(f)) expect(i === 'zod' || i.startsWith('./'), `${rel(f)} imports ${i}`).toBe(true)
  })
  it('core and api never import electron', () => {
    for (const f of [...files(join(ROOT, 'src/main/core')), ...files(join(ROOT, 'src/main/api'))])
      for (const i of imports(f)) expect(i, `${rel(f)} imports ${i}`).not.toMatch(/^electron(\/|$)|\/electron\//)
  })
  it('only the shell, the main entry and the preload import electron', () => {
    const allowed = [/^src\/main\/electron\//, /^src\/main\/index\.ts$/, /^src\/preload\//]
    for (const f of files(join(ROOT, 'src')))
      if (imports(f).some((i) => i === 'electron' || i.startsWith('electron/'))) expect(allowed.some((a) => a.test(rel(f))), `${rel(f)} imports electron`).toBe(true)
  })
  it('the renderer reaches main only through window.keydesk', () => {
    for (const f of files(join(ROOT, 'src/renderer')))
      for (const i of imports(f)) {
        expect(i, `${rel(f)} imports ${i}`).not.toMatch(/^electron|^node:|\/main\/|\/preload\//)
      }
  })
  it('the preload bundles no zod and no contract schemas (operations.ts only)', () => {
    for (const f of files(join(ROOT, 'src/preload')))
      for (const i of imports(f)) {
        if (f.endsWith('.d.ts')) continue
        expect(i === 'electron' || i === '../shared/operations' || (i === '../shared/contract' && /import type/.test(readFileSync(f, 'utf8'))), `${rel(f)} imports ${i}`).toBe(true)
      }
  })
})

describe('contract', () => {
  it('the schema table and the operation list name the same operations, in order', () => {
    expect(Object.keys(contract)).toEqual([...OPERATION_NAMES])
  })
})
