// One store size: build it through core (batched transactions), then measure
// verify against its floor, search first pages, durable create and bulk import.
// Prints one JSON object per line; writes a sample of secrets (0600) for the
// serve and memory phases. Usage: node bench/core-bench.js SIZE DIR
import { writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { openKeyStore, newAccessKey } from '../out/main/core.js'
import { emit, median, timeMs } from './lib.js'

const size = Number(process.argv[2])
const dir = process.argv[3]
const OWNERS = 100
const SAMPLE = 20_000
const DAY = 86_400_000

// As a verifying service opens it (keydesk serve does the same): memory-mapped reads.
const store = await openKeyStore({ dataDir: dir, actor: 'bench', mmap: true })
store.setPolicy({ maxKeysPerOwner: 1_000_000 })
for (let o = 0; o < OWNERS; o++) store.addOwner(`team-${String(o).padStart(2, '0')}`, o % 4 === 0 ? 'service' : 'user')

// ── build ──────────────────────────────────────────────────────────────────
const sample = []
const SERVE_SAMPLE = 100_000
const serveKeys = []
const serveStride = Math.max(1, Math.floor(size / SERVE_SAMPLE))
const buildStart = performance.now()
const BATCH = 10_000
for (let i = 0; i < size; i += BATCH) {
  const n = Math.min(BATCH, size - i)
  const issued = store.createMany(
    Array.from({ length: n }, (_, j) => {
      const k = i + j
      return {
        name: `svc-${k % 5000}/key-${k}`,
        owner: `team-${String(k % OWNERS).padStart(2, '0')}`,
        scopes: k % 3 === 0 ? ['read', 'write'] : ['read'],
        description: k % 10 === 0 ? `batch job ${k}` : undefined,
        expiresIn: `${1 + (k % 360)}d`,
      }
    }),
  )
  // A uniform sample of secrets to verify later (reservoir-style stride).
  const stride = Math.max(1, Math.floor(size / SAMPLE))
  for (let j = 0; j < issued.length; j += stride) if (sample.length < SAMPLE) sample.push({ ...issued[j], index: i + j })
  // For the serve phase: up to SERVE_SAMPLE live secrets spread over the whole store
  // (more than the verified-row memo holds, so serve measures the store, not a memo).
  for (let j = 0; j < issued.length; j += serveStride) if ((i + j) % 50 !== 7 && serveKeys.length < SERVE_SAMPLE) serveKeys.push(issued[j].accessKey)
}
// 2 % revoked, as in a store that has lived a while.
const toRevoke = []
for (let k = 7; k < size; k += 50) toRevoke.push(k)
const ids = store.database.prepare('SELECT access_id FROM keys WHERE id = ?').pluck()
for (let i = 0; i < toRevoke.length; i += 5000) store.revoke(toRevoke.slice(i, i + 5000).map((k) => ids.get(k + 1)).filter(Boolean), 'bench')
store.database.pragma('wal_checkpoint(TRUNCATE)')
emit({ name: 'build_store_s', keys: size, value: (performance.now() - buildStart) / 1000, unit: 's' })

// ── verify vs floor ───────────────────────────────────────────────────────
// Random existing keys, 10 % wrong (well-formed, unknown). Rounds interleave verify
// and floor on the same sequence; the best round of each is reported (noise only
// ever slows a round down).
const live = sample.filter((k) => k.index % 50 !== 7)
const N = 200_000
const seq = Array.from({ length: N }, (_, i) => (i % 10 === 9 ? newAccessKey() : live[(Math.random() * live.length) | 0].accessKey))
for (let i = 0; i < 50_000; i++) store.verify({ accessKey: seq[i] }) // warm up JIT and page cache
store.flushLastUsed()
let bestVerify = 0
let bestFloor = 0
let validSeen = 0
for (let round = 0; round < 5; round++) {
  let t = performance.now()
  let valid = 0
  for (let i = 0; i < N; i++) if (store.verify({ accessKey: seq[i] }).valid) valid++
  bestVerify = Math.max(bestVerify, N / ((performance.now() - t) / 1000))
  validSeen = valid
  t = performance.now()
  for (let i = 0; i < N; i++) store.verifyFloor(seq[i])
  bestFloor = Math.max(bestFloor, N / ((performance.now() - t) / 1000))
}
if (validSeen < N * 0.85) throw new Error(`bench sanity: only ${validSeen} of ${N} verifications were valid`)
emit({ name: 'verify_per_s', keys: size, value: Math.round(bestVerify), unit: '1/s', target: '>= 100000', ok: bestVerify >= 100_000 })
emit({ name: 'verify_floor_per_s', keys: size, value: Math.round(bestFloor), unit: '1/s' })
const ratio = bestVerify / bestFloor
emit({ name: 'verify_vs_floor', keys: size, value: Number(ratio.toFixed(3)), unit: 'ratio', target: '>= 0.7', ok: ratio >= 0.7 })

// ── search / filter first page ────────────────────────────────────────────
const probe = sample[Math.floor(sample.length / 2)]
const queries = {
  name_substring: { search: probe.name.split('/')[1] },
  access_id_prefix: { search: probe.accessId.slice(0, 9) },
  status_filter: { status: 'revoked' },
  expiring_7d: { expiringWithinDays: 7 },
}
for (const [label, q] of Object.entries(queries)) {
  const times = []
  let page
  for (let i = 0; i < 15; i++) times.push(timeMs(() => (page = store.list({ ...q, limit: 50 }))))
  if (page.items.length === 0) throw new Error(`bench sanity: ${label} found nothing`)
  const ms = median(times)
  emit({ name: `search_first_page_ms.${label}`, keys: size, value: Number(ms.toFixed(2)), unit: 'ms', target: '< 50', ok: ms < 50, total: page.total })
}

// ── durable create, bulk import ───────────────────────────────────────────
const createTimes = []
for (let i = 0; i < 200; i++) createTimes.push(timeMs(() => store.create({ name: `bench-create-${i}`, owner: 'team-01' })))
const cm = median(createTimes)
emit({ name: 'create_ms_median', keys: size, value: Number(cm.toFixed(3)), unit: 'ms', target: '< 5', ok: cm < 5 })

const csv = 'Name,Owner,Scopes,Expires In\n' + Array.from({ length: 10_000 }, (_, i) => `import/${i},team-02,read,90d`).join('\n') + '\n'
const credOut = join(dir, 'bulk-credentials.csv')
const bulkS = timeMs(() => store.importCsv(csv, credOut)) / 1000
emit({ name: 'bulk_import_10k_s', keys: size, value: Number(bulkS.toFixed(3)), unit: 's', target: '< 2', ok: bulkS < 2 })

await store.closeAsync()

// ── CLI start on this store ───────────────────────────────────────────────
// A whole `keydesk list --limit 1` process (Node start, module load, open with the
// keychain and anchor checks, one page), beside a bare `node -e 0` from the same run.
const bin = fileURLToPath(new URL('../bin/keydesk.js', import.meta.url))
const wall = (args) => {
  const t = performance.now()
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`bench: ${args.join(' ')} failed: ${r.stderr}`)
  return performance.now() - t
}
wall([bin, '--data-dir', dir, '--json', 'list', '--limit', '1'])
const cliTimes = Array.from({ length: 7 }, () => wall([bin, '--data-dir', dir, '--json', 'list', '--limit', '1']))
const nodeTimes = Array.from({ length: 7 }, () => wall(['-e', '0']))
const cliMs = median(cliTimes)
emit({ name: 'cli_open_ms', keys: size, value: Number(cliMs.toFixed(1)), unit: 'ms', target: '< 300', ok: cliMs < 300, nodeStartMs: Number(median(nodeTimes).toFixed(1)) })
// The full check (every page and row MAC) is what `keydesk check` and the app's background check pay instead.
const full = await openKeyStore({ dataDir: dir, actor: 'bench', create: false })
const tc = performance.now()
const verdict = await full.check()
emit({ name: 'check_full_s', keys: size, value: Number(((performance.now() - tc) / 1000).toFixed(2)), unit: 's', ok: verdict.ok ? null : false })
await full.closeAsync()

// Secrets for the serve and memory phases; the whole dir is deleted after the run.
writeFileSync(join(dir, 'bench-sample.json'), JSON.stringify(live.slice(0, 2000).map((k) => k.accessKey)), { mode: 0o600 })
writeFileSync(join(dir, 'bench-serve-keys.txt'), serveKeys.join('\n') + '\n', { mode: 0o600 })
