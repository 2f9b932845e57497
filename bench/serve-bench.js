// `keydesk serve` forward-auth throughput over loopback with autocannon, bounded
// in time. Usage: node bench/serve-bench.js SIZE DIR [SECONDS]
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'
import { emit } from './lib.js'

const size = Number(process.argv[2])
const dir = process.argv[3]
const seconds = Number(process.argv[4] ?? 10)
const keys = JSON.parse(readFileSync(join(dir, 'bench-sample.json'), 'utf8'))
const bin = new URL('../bin/keydesk.js', import.meta.url).pathname

const server = spawn(process.execPath, [bin, '--data-dir', dir, 'serve', '--listen', '127.0.0.1:0', '--access-log', 'off'], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
const url = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('keydesk serve did not start in 20 s')), 20_000)
  server.on('exit', (code) => reject(new Error(`keydesk serve exited with ${code}`)))
  createInterface({ input: server.stdout }).on('line', (line) => {
    const m = /"listening":"([^"]+)"/.exec(line)
    if (m) {
      clearTimeout(timer)
      resolve(m[1])
    }
  })
})

let n = 0
const result = await autocannon({
  url: `${url}/v1/auth`,
  connections: 32,
  pipelining: 1,
  duration: seconds,
  requests: [
    {
      method: 'GET',
      setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${keys[n++ % keys.length]}` } }),
    },
  ],
})
server.kill('SIGTERM')
await new Promise((r) => server.once('exit', r))

const ok2xx = result['2xx']
const total = ok2xx + result.non2xx
if (total === 0 || ok2xx / total < 0.99) throw new Error(`bench sanity: ${ok2xx} of ${total} forward-auth answers were 2xx`)
const rps = result.requests.average
const p99 = result.latency.p99
emit({ name: 'serve_req_per_s', keys: size, value: Math.round(rps), unit: '1/s', target: '>= 15000', ok: rps >= 15_000, connections: 32, seconds })
emit({ name: 'serve_p99_ms', keys: size, value: p99, unit: 'ms', target: '< 5', ok: p99 < 5 })
