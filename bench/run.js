// npm run bench: speed and memory at 100 000 and 1 000 000 keys, each figure with
// its target, one JSON object per line, then a table. Not part of npm test.
// Runs inside scripts/with-keyring.sh (a private Secret Service), as package.json says.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const sizes = (process.env.KEYDESK_BENCH_SIZES ?? '100000,1000000').split(',').map(Number)
// The team store (PostgreSQL) bench: at 1 000 000 keys, or at every size KEYDESK_BENCH_SIZES names.
const teamSizes = process.env.KEYDESK_BENCH_SIZES ? sizes : [1_000_000]
const figures = []

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env }, maxBuffer: 64 << 20 })
  for (const line of (r.stdout ?? '').split('\n')) {
    if (!line.startsWith('{"')) {
      if (line.trim()) process.stderr.write(line + '\n')
      continue
    }
    process.stdout.write(line + '\n')
    figures.push(JSON.parse(line))
  }
  if (r.status !== 0) throw new Error(`${[cmd, ...args].join(' ')} exited with ${r.status}`)
}

// Always measure what the sources say now: a stale out/ would measure old code.
{
  const b = spawnSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'ignore' })
  if (b.status !== 0) throw new Error('build failed: run npx electron-vite build to see why')
}

const started = performance.now()
for (const size of sizes) {
  const dir = mkdtempSync(join(tmpdir(), `keydesk-bench-${size}-`))
  try {
    run(process.execPath, ['bench/core-bench.js', String(size), dir])
    run(process.execPath, ['bench/rss-bench.js', String(size), dir])
    run(process.execPath, ['bench/serve-bench.js', String(size), dir, '10'])
    if (size === 100_000) {
      const outFile = join(dir, 'renderer-figures.jsonl')
      run('npx', ['playwright', 'test', '-c', 'bench/playwright.bench.config.ts'], { KEYDESK_BENCH_DATA_DIR: dir, KEYDESK_BENCH_KEYS: String(size), KEYDESK_BENCH_OUT: outFile })
      for (const line of readFileSync(outFile, 'utf8').split('\n').filter(Boolean)) {
        process.stdout.write(line + '\n')
        figures.push(JSON.parse(line))
      }
    }
    // Last: it adds keys to the store in dir (its create figures) and compares with this run's serve figure.
    if (teamSizes.includes(size)) {
      const serve = figures.find((f) => f.name === 'serve_req_per_s' && f.keys === size)
      run(process.execPath, ['bench/team-bench.js', String(size), dir, '10', ...(serve ? [String(serve.value)] : [])])
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// ── what the ceiling ratio can be at all ─────────────────────────────────
// A server that did nothing but verify's floor (one HMAC and one indexed row read,
// measured in-process by core-bench on the same store) on top of the bare node:http
// server would, if the two costs add, reach 1 / (1 + ceiling/floor) of the ceiling.
// Same run, same machine, so the noise cancels as it does in the other ratios.
for (const size of sizes) {
  const floor = figures.find((f) => f.name === 'verify_floor_per_s' && f.keys === size)
  const ceiling = figures.find((f) => f.name === 'serve_node_ceiling_req_per_s' && f.keys === size)
  const vs = figures.find((f) => f.name === 'serve_vs_node_ceiling' && f.keys === size)
  if (!floor || !ceiling || !vs) continue
  const bound = 1 / (1 + ceiling.value / floor.value)
  for (const f of [
    { name: 'serve_vs_node_ceiling_bound', keys: size, value: Number(bound.toFixed(3)), unit: 'ratio', target: null, ok: null },
    { name: 'serve_vs_bound', keys: size, value: Number((vs.value / bound).toFixed(3)), unit: 'ratio', target: null, ok: null },
  ]) {
    process.stdout.write(JSON.stringify(f) + '\n')
    figures.push(f)
  }
}

// ── table ─────────────────────────────────────────────────────────────────
const names = [...new Set(figures.map((f) => f.name))]
const col = (s, n) => String(s).padEnd(n)
const header = `${col('figure', 38)}${sizes.map((s) => col(`${s.toLocaleString('en')} keys`, 20)).join('')}target`
const lines = [header, '-'.repeat(header.length + 10)]
for (const name of names) {
  const cells = sizes.map((size) => {
    const f = figures.find((x) => x.name === name && x.keys === size)
    return col(f ? `${f.value} ${f.unit}${f.ok === false ? '  MISS' : ''}` : '—', 20)
  })
  const target = figures.find((x) => x.name === name)?.target ?? ''
  lines.push(`${col(name, 38)}${cells.join('')}${target}`)
}
process.stderr.write('\n' + lines.join('\n') + `\n\n(total ${((performance.now() - started) / 1000).toFixed(0)} s)\n`)
process.exitCode = figures.some((f) => f.ok === false) ? 1 : 0
