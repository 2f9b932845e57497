// Resident memory of a process that opened a built store, listed, searched and
// verified (what the main process does). Usage: node bench/rss-bench.js SIZE DIR
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { openKeyStore } from '../out/main/core.js'
import { emit } from './lib.js'

const size = Number(process.argv[2])
const dir = process.argv[3]
const keys = JSON.parse(readFileSync(join(dir, 'bench-sample.json'), 'utf8'))
// As the app's main process opens it: default options (no memory map).
const store = await openKeyStore({ dataDir: dir, actor: 'bench' })
let peak = process.memoryUsage().rss
const note = () => (peak = Math.max(peak, process.memoryUsage().rss))
for (let offset = 0; offset < 20_000; offset += 200) store.list({ offset, limit: 200 }) // scroll through a list
note()
for (const search of ['key-4', 'svc-12/', 'batch job', 'kdid_A']) store.list({ search, limit: 200 })
store.list({ status: 'expired', limit: 200 })
store.list({ expiringWithinDays: 7, limit: 200 })
store.list({ owner: 'team-07', sort: 'name', limit: 200 })
note()
for (let i = 0; i < 100_000; i++) store.verify({ accessKey: keys[i % keys.length] })
note()
store.close()
const mb = peak / 1024 / 1024
emit({ name: 'main_rss_mb', keys: size, value: Number(mb.toFixed(1)), unit: 'MB', target: '< 150', ok: mb < 150 })
