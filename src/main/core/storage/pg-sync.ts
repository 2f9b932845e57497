/**
 * A synchronous PostgreSQL connection, so the PostgreSQL adapter can implement the
 * same synchronous storage port as better-sqlite3 and every domain rule runs
 * unchanged on both engines.
 *
 * node-postgres (`pg`) runs in a worker thread holding one connection; each call
 * posts a message and blocks on Atomics.wait until the worker signals its answer,
 * which is then taken with receiveMessageOnPort. One call costs one loopback round
 * trip plus ~30 µs of hand-off. (synckit does the same in general, but needs its
 * worker as a file on disk; this one is evaluated from a string, so the bundled
 * Electron main process, the CLI and vitest all load it the same way.)
 *
 * The worker is unref'd: an open connection never keeps a process alive.
 */
import { createRequire } from 'node:module'
import type { MessagePort, Worker } from 'node:worker_threads'

export interface PgError {
  message: string
  code?: string
  detail?: string
}

export class PgSyncError extends Error {
  readonly code: string
  constructor(e: PgError) {
    super(e.message)
    this.code = e.code ?? 'PG_ERROR'
  }
}

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads')
const pg = require(workerData.pgPath)
// int8 (count(*), BIGINT timestamps and ids) as numbers: every value we store is below 2^53.
pg.types.setTypeParser(20, (v) => Number(v))
const signal = new Int32Array(workerData.signal)
const port = workerData.port
let client = null
let broken = null
async function handle(m) {
  if (m.op === 'connect') {
    client = new pg.Client({ connectionString: m.url, connectionTimeoutMillis: m.connectTimeoutMs, application_name: 'keydesk' })
    client.on('error', (e) => { broken = e })
    await client.connect()
    if (m.statementTimeoutMs) await client.query('SET statement_timeout = ' + Number(m.statementTimeoutMs))
    return null
  }
  if (m.op === 'end') { if (client) await client.end().catch(() => {}); client = null; return null }
  if (broken) throw broken
  if (!client) throw Object.assign(new Error('not connected'), { code: 'KD_NOT_CONNECTED' })
  const values = m.params ? m.params.map((v) => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v)) : undefined
  const r = await client.query({ text: m.sql, values, rowMode: m.array ? 'array' : undefined })
  return { rows: r.rows, rowCount: r.rowCount }
}
port.on('message', (m) => {
  handle(m).then(
    (value) => port.postMessage({ ok: true, value }),
    (e) => port.postMessage({ ok: false, error: { message: String(e && e.message || e), code: e && e.code, detail: e && e.detail } }),
  ).finally(() => { Atomics.store(signal, 0, 1); Atomics.notify(signal, 0) })
})
`

/** Buffers cross the thread boundary as Uint8Arrays: make them Buffers again (no copy). */
function revive(v: unknown): unknown {
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  return v
}

export interface SyncResult<R> {
  rows: R[]
  rowCount: number
}

export class PgSyncClient {
  private readonly worker: Worker
  private readonly port: MessagePort
  private readonly signal = new Int32Array(new SharedArrayBuffer(4))
  private closed = false
  // Loaded here, not with the module: a SQLite store never needs worker_threads.
  private readonly threads = process.getBuiltinModule('node:worker_threads')

  constructor(
    url: string,
    private readonly opts: { connectTimeoutMs?: number; callTimeoutMs?: number; statementTimeoutMs?: number } = {},
  ) {
    const { port1, port2 } = new this.threads.MessageChannel()
    this.port = port1
    const pgPath = createRequire(import.meta.url).resolve('pg')
    this.worker = new this.threads.Worker(WORKER_SOURCE, { eval: true, workerData: { pgPath, signal: this.signal.buffer, port: port2 }, transferList: [port2] })
    this.worker.unref()
    this.port.unref()
    try {
      // Booting the worker and loading pg counts against no per-call limit (on a busy host it takes seconds).
      this.call({ op: 'connect', url, connectTimeoutMs: opts.connectTimeoutMs ?? 5000, statementTimeoutMs: opts.statementTimeoutMs }, 30_000 + (opts.connectTimeoutMs ?? 5000))
    } catch (e) {
      this.close()
      throw e
    }
  }

  private call(msg: Record<string, unknown>, timeoutMs = this.opts.callTimeoutMs ?? 30_000): unknown {
    if (this.closed) throw new PgSyncError({ message: 'the connection is closed', code: 'KD_CLOSED' })
    Atomics.store(this.signal, 0, 0)
    this.port.postMessage(msg)
    const waited = Atomics.wait(this.signal, 0, 0, timeoutMs)
    if (waited === 'timed-out') {
      this.kill()
      throw new PgSyncError({ message: 'the database did not answer in time', code: 'KD_TIMEOUT' })
    }
    const got = this.threads.receiveMessageOnPort(this.port)
    if (!got) throw new PgSyncError({ message: 'no answer from the database worker', code: 'KD_NO_ANSWER' })
    const m = got.message as { ok: true; value: unknown } | { ok: false; error: PgError }
    if (!m.ok) throw new PgSyncError(m.error)
    return m.value
  }

  /** Rows as objects (column name → value). */
  query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): SyncResult<R> {
    const r = this.call({ op: 'query', sql, params }) as SyncResult<Record<string, unknown>>
    for (const row of r.rows) for (const k in row) row[k] = revive(row[k])
    return r as SyncResult<R>
  }

  /** Rows as arrays, in select order (the verify hot path). */
  queryArray(sql: string, params: readonly unknown[] = []): unknown[][] {
    const r = this.call({ op: 'query', sql, params, array: true }) as SyncResult<unknown[]>
    for (const row of r.rows) for (let i = 0; i < row.length; i++) row[i] = revive(row[i])
    return r.rows
  }

  /** Several statements in one round trip (migrations): no parameters. */
  exec(sql: string): void {
    this.call({ op: 'query', sql })
  }

  close(): void {
    if (this.closed) return
    try {
      this.call({ op: 'end' })
    } catch {
      // closing anyway
    }
    this.kill()
  }

  private kill(): void {
    this.closed = true
    this.port.close()
    void this.worker.terminate()
  }
}
