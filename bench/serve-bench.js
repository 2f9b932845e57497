// `keydesk serve` forward-auth throughput, driven by wrk over loopback, against
// the same run's peers:
//   - the ceiling: a bare node:http server answering 204 (bench/serve-ceiling.js);
//   - nginx auth_basic with an htpasswd file of as many users (at 100 000 keys).
// Every request carries a different key drawn from the whole store (10 % wrong:
// well-formed, never issued) and a client address from a pool of 10 000 (sent as
// X-Real-IP by a trusted proxy, as nginx would), so the limiter works as in
// production and nobody is limited. Then the same load while another process
// makes durable admin writes on the store. Usage: node bench/serve-bench.js SIZE DIR [SECONDS]
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, request } from 'node:http'
import { createInterface } from 'node:readline'
import Database from 'better-sqlite3'
import { newAccessKey } from '../out/main/core.js'
import { emit } from './lib.js'

const size = Number(process.argv[2])
const dir = process.argv[3]
const seconds = Number(process.argv[4] ?? 10)
const here = new URL('.', import.meta.url).pathname
const bin = new URL('../bin/keydesk.js', import.meta.url).pathname
const WRK = '/usr/bin/wrk'
const NGINX = '/usr/sbin/nginx'
const CONNECTIONS = 32
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100

if (!existsSync(WRK)) throw new Error(`${WRK} is missing: the serve bench needs wrk (apt-get install wrk)`)

const ip = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
const CLIENTS = 10_000

// ── requests: a different key each, 10 % wrong ────────────────────────────
const keys = readFileSync(join(dir, 'bench-serve-keys.txt'), 'utf8').split('\n').filter(Boolean)
const lines = []
for (let i = 0, k = 0; k < keys.length; i++) {
  const key = i % 10 === 9 ? newAccessKey() : keys[k++]
  lines.push(`Bearer ${key}\t${ip(i % CLIENTS)}`)
}
const requestsFile = join(dir, 'bench-serve-requests.txt')
writeFileSync(requestsFile, lines.join('\n') + '\n', { mode: 0o600 })

/** Start a server process that prints {"listening":URL}; resolves with {child, url}. */
function start(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start in 20 s`)), 20_000)
    child.on('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)))
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /"listening":"([^"]+)"/.exec(line)
      if (m) {
        clearTimeout(timer)
        resolve({ child, url: m[1] })
      }
    })
  })
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.removeAllListeners('exit')
    child.once('exit', resolve)
    child.kill('SIGTERM')
  })
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / CLK_TCK
}

/** One wrk run; resolves with its JSON summary (requests, duration, p99, …). */
function wrk(url, file, secs, path = '/v1/auth') {
  return new Promise((resolve, reject) => {
    const p = spawn(WRK, ['-t1', `-c${CONNECTIONS}`, `-d${secs}s`, '--timeout', '5s', '-s', join(here, 'serve-wrk.lua'), url], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, REQUESTS_FILE: file, WRK_PATH: path },
    })
    let out = ''
    p.stdout.on('data', (d) => (out += d))
    p.on('error', reject)
    p.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"requests"'))
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}): ${out}`))
      const r = JSON.parse(line)
      resolve({ ...r, perSecond: r.requests / (r.duration_us / 1e6), p99ms: r.p99_us / 1000 })
    })
  })
}

/** Warm up, then measure; with CPU per request of the server process. */
async function measure(child, url, file, secs, path) {
  await wrk(url, file, 2, path)
  const cpu0 = cpuSeconds(child.pid)
  const r = await wrk(url, file, secs, path)
  const cpu = cpuSeconds(child.pid) - cpu0
  return { ...r, cpuUsPerReq: (cpu * 1e6) / r.requests }
}

function sane(label, r, wrongShare) {
  const errors = r.status_errors / r.requests
  if (r.socket_errors > 0 || Math.abs(errors - wrongShare) > 0.03)
    throw new Error(`bench sanity (${label}): ${r.status_errors} of ${r.requests} answers were not 2xx (expected ~${wrongShare * 100} %), ${r.socket_errors} socket errors`)
}

// ── the ceiling ───────────────────────────────────────────────────────────
const ceilingServer = await start(process.execPath, [join(here, 'serve-ceiling.js')])
const ceiling = await measure(ceilingServer.child, ceilingServer.url, requestsFile, Math.min(seconds, 5))
await stop(ceilingServer.child)
sane('ceiling', ceiling, 0)

// ── keydesk serve ─────────────────────────────────────────────────────────
const serveArgs = [bin, '--data-dir', dir, 'serve', '--listen', '127.0.0.1:0', '--access-log', 'off', '--client-ip-header', 'X-Real-IP', '--trusted-proxy', '127.0.0.1']
const serveServer = await start(process.execPath, serveArgs)
const serve = await measure(serveServer.child, serveServer.url, requestsFile, seconds)
sane('serve', serve, 0.1)

// ── the same, while another process makes admin writes ───────────────────
const writer = spawn(process.execPath, [join(here, 'serve-admin-writer.js'), dir], { stdio: ['ignore', 'pipe', 'inherit'] })
let writerOut = ''
writer.stdout.on('data', (d) => (writerOut += d))
for (let i = 0; i < 200 && !writerOut.includes('"ready"'); i++) await new Promise((r) => setTimeout(r, 50))
const busy = await wrk(serveServer.url, requestsFile, Math.min(seconds, 6))
await stop(writer)
await stop(serveServer.child)
sane('serve with admin writes', busy, 0.1)
const adminWrites = JSON.parse(writerOut.split('\n').find((l) => l.startsWith('{"admin_writes"')) ?? '{"admin_writes":0}').admin_writes

// ── no access-ID oracle in timing ─────────────────────────────────────────
const oracle = await oracleGap()

// ── nginx auth_basic, htpasswd with as many users ─────────────────────────
let htpasswd = null
if (size <= 100_000 && existsSync(NGINX)) htpasswd = await nginxAuthBasic()

// ── figures ───────────────────────────────────────────────────────────────
const rps = Math.round(serve.perSecond)
const vsCeiling = serve.perSecond / ceiling.perSecond
emit({ name: 'serve_req_per_s', keys: size, value: rps, unit: '1/s', target: '>= 15000', ok: rps >= 15_000, connections: CONNECTIONS, seconds, distinct_keys: keys.length })
emit({ name: 'serve_p99_ms', keys: size, value: Number(serve.p99ms.toFixed(2)), unit: 'ms', target: '< 5', ok: serve.p99ms < 5 })
emit({ name: 'serve_cpu_us_per_req', keys: size, value: Number(serve.cpuUsPerReq.toFixed(1)), unit: 'µs', ceiling: Number(ceiling.cpuUsPerReq.toFixed(1)) })
emit({ name: 'serve_node_ceiling_req_per_s', keys: size, value: Math.round(ceiling.perSecond), unit: '1/s' })
emit({ name: 'serve_vs_node_ceiling', keys: size, value: Number(vsCeiling.toFixed(3)), unit: 'ratio', target: '>= 0.8', ok: vsCeiling >= 0.8 })
emit({
  name: 'serve_p99_ms_admin_writes',
  keys: size,
  value: Number(busy.p99ms.toFixed(2)),
  unit: 'ms',
  target: '< 5',
  ok: busy.p99ms < 5,
  req_per_s: Math.round(busy.perSecond),
  admin_writes_per_s: Math.round(adminWrites / Math.min(seconds, 6)),
})
emit({
  name: 'serve_oracle_gap_us',
  keys: size,
  value: Number(oracle.gapUs.toFixed(2)),
  unit: 'µs',
  target: '|gap| < 5 % of the median',
  ok: Math.abs(oracle.gapUs) < 0.05 * oracle.unknownUs,
  existing_id_median_us: Number(oracle.existingUs.toFixed(1)),
  unknown_id_median_us: Number(oracle.unknownUs.toFixed(1)),
  samples: oracle.samples,
})
if (htpasswd) {
  const ratio = serve.perSecond / htpasswd.perSecond
  emit({ name: 'serve_htpasswd_req_per_s', keys: size, value: Math.round(htpasswd.perSecond), unit: '1/s' })
  emit({ name: 'serve_vs_htpasswd', keys: size, value: Number(ratio.toFixed(1)), unit: 'ratio', target: size === 100_000 ? '>= 20' : null, ok: size === 100_000 ? ratio >= 20 : null })
}

/**
 * nginx (one worker, like one Node process) with auth_basic over an htpasswd of
 * `size` users in htpasswd's default format (apr1-MD5, via openssl). 2000 users,
 * spread evenly through the file, have their own hash and are the ones the bench
 * logs in as (10 % with a wrong password); the rest share one real apr1 hash, so
 * the file nginx reads and scans on every request is the full size.
 */
async function nginxAuthBasic() {
  const ndir = join(dir, 'nginx-htpasswd')
  mkdirSync(join(ndir, 'tmp'), { recursive: true })
  mkdirSync(join(ndir, 'www'), { recursive: true })
  writeFileSync(join(ndir, 'www', 'ok'), '')
  const LOGIN = 2000
  const step = Math.floor(size / LOGIN)
  const pw = (i) => `pw-${i.toString(36)}-${(i * 2654435761 % 2 ** 32).toString(36)}`
  const loginIdx = Array.from({ length: LOGIN }, (_, j) => j * step + (step >> 1))
  const hashes = spawnSync('openssl', ['passwd', '-apr1', '-stdin'], { input: loginIdx.map(pw).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 24 })
  if (hashes.status !== 0) throw new Error(`openssl passwd failed: ${hashes.stderr}`)
  const h = hashes.stdout.trim().split('\n')
  const filler = spawnSync('openssl', ['passwd', '-apr1', 'filler-password'], { encoding: 'utf8' }).stdout.trim()
  const byIdx = new Map(loginIdx.map((i, j) => [i, h[j]]))
  const rows = []
  for (let i = 0; i < size; i++) rows.push(`user${String(i).padStart(7, '0')}:${byIdx.get(i) ?? filler}`)
  writeFileSync(join(ndir, 'htpasswd'), rows.join('\n') + '\n', { mode: 0o600 })
  const reqs = []
  for (let r = 0; r < LOGIN * 5; r++) {
    const i = loginIdx[(r * 7) % LOGIN]
    const pass = r % 10 === 9 ? 'wrong-password' : pw(i)
    reqs.push(`Basic ${Buffer.from(`user${String(i).padStart(7, '0')}:${pass}`).toString('base64')}\t${ip(r % CLIENTS)}`)
  }
  const file = join(ndir, 'requests.txt')
  writeFileSync(file, reqs.join('\n') + '\n', { mode: 0o600 })
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const asRoot = process.getuid?.() === 0
  writeFileSync(
    join(ndir, 'nginx.conf'),
    `${asRoot ? 'user root;' : ''}
worker_processes 1;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${ndir}/tmp/client_body;
  proxy_temp_path ${ndir}/tmp/proxy;
  fastcgi_temp_path ${ndir}/tmp/fastcgi;
  uwsgi_temp_path ${ndir}/tmp/uwsgi;
  scgi_temp_path ${ndir}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${ndir}/www;
    location / {
      auth_basic "bench";
      auth_basic_user_file ${ndir}/htpasswd;
      try_files /ok =404;
    }
  }
}
`,
  )
  const args = ['-e', 'stderr', '-p', ndir, '-c', join(ndir, 'nginx.conf'), '-g', `daemon off; pid ${ndir}/nginx.pid; error_log stderr crit;`]
  const child = spawn(NGINX, args, { stdio: ['ignore', 'ignore', 'inherit'] })
  for (let i = 0; i < 100; i++) {
    const ok = spawnSync('/usr/bin/curl', ['-s', '-o', '/dev/null', '--noproxy', '*', `http://127.0.0.1:${port}/`]).status === 0
    if (ok) break
    await new Promise((r) => setTimeout(r, 50))
  }
  try {
    const r = await measure(child, `http://127.0.0.1:${port}`, file, Math.min(seconds, 5), '/')
    sane('nginx auth_basic', r, 0.1)
    return r
  } finally {
    await stop(child)
  }
}

/**
 * Median time of `Basic existingId:wrongSecret` against `Basic unknownId:wrongSecret`,
 * interleaved, one keep-alive connection, limiting off (so no answer is a 429):
 * the difference an attacker could use to find out which access IDs exist.
 */
async function oracleGap() {
  const db = new Database(join(dir, 'keydesk.sqlite'), { readonly: true, fileMustExist: true })
  const ids = db.prepare('SELECT access_id FROM keys ORDER BY random() LIMIT 2000').pluck().all()
  db.close()
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  const fakeId = () => 'kdid_' + Array.from({ length: 16 }, () => alnum[(Math.random() * alnum.length) | 0]).join('')
  const server = await start(process.execPath, [bin, '--data-dir', dir, 'serve', '--listen', '127.0.0.1:0', '--access-log', 'off', '--fail-burst', '0'])
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const { hostname, port } = new URL(server.url)
  const once = (id) =>
    new Promise((resolve, reject) => {
      const auth = 'Basic ' + Buffer.from(`${id}:${newAccessKey()}`).toString('base64')
      const t = process.hrtime.bigint()
      const req = request({ host: hostname, port, path: '/v1/auth', agent, headers: { Authorization: auth } }, (res) => {
        res.resume()
        res.on('end', () => (res.statusCode === 401 ? resolve(Number(process.hrtime.bigint() - t) / 1000) : reject(new Error(`oracle bench: ${res.statusCode}`))))
      })
      req.on('error', reject)
      req.end()
    })
  const existing = []
  const unknown = []
  for (let i = 0; i < 500; i++) await once(ids[i % ids.length]) // warm up
  for (let i = 0; i < 4000; i++) {
    if (i % 2 === 0) existing.push(await once(ids[(i >> 1) % ids.length]))
    else unknown.push(await once(fakeId()))
  }
  agent.destroy()
  await stop(server.child)
  const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
  return { existingUs: med(existing), unknownUs: med(unknown), gapUs: med(existing) - med(unknown), samples: existing.length + unknown.length }
}
