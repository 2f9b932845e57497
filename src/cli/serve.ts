/**
 * `keydesk serve`: the forward-auth verification endpoint (see docs/serve.md).
 *
 * stdout carries JSON lines only: first {"listening":URL}, then one access-log
 * line per request (unless --access-log says otherwise), last {"stopped":…}.
 * stderr carries one-line human messages (errors, warnings).
 */
import { InvalidArgumentError, Option, type Command } from 'commander'
import { DEFAULT_STALE_FOR_MS } from '../main/core/storage/gateway'
// Only the defaults here: the server (node:http, node:net) loads when `serve` runs,
// not for every other command (it was a third of `keydesk list`'s start-up).
import { DEFAULT_LIMITER, DEFAULT_LIMITS, DEFAULT_LISTEN } from '../serve/defaults'

export interface ServeFlags {
  listen: string
  allowRemote?: boolean
  maxHeaderSize: number
  maxBody: number
  headersTimeout: number
  requestTimeout: number
  keepAliveTimeout: number
  maxConnections: number
  maxClientConnections: number
  failBurst: number
  failPerMinute: number
  failClients: number
  clientIpHeader?: string
  trustedProxy?: string[]
  accessLog: 'stdout' | 'stderr' | 'off'
  shutdownTimeout: number
  secretFile?: string
  staleFor: number
  feed: 'auto' | 'listen' | 'poll'
}

function int(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d{1,10}$/.test(value.trim())) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`)
    const n = Number(value)
    if (n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`)
    return n
  }
}

function positive(value: string): number {
  const n = Number(value)
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0) || n > 1e6) throw new InvalidArgumentError('must be a number above 0.')
  return n
}

function collectMany(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(/[\s,]+/).filter(Boolean)]
}

function staleFor(value: string): number {
  const v = value.trim()
  if (v === '0') return 0
  if (!/^\d+(ms|s|m|h)$/.test(v)) throw new InvalidArgumentError('must be a duration such as 90s, 5m or 1h (or 0).')
  const n = parseInt(v, 10)
  const ms = v.endsWith('ms') ? n : v.endsWith('s') ? n * 1000 : v.endsWith('m') ? n * 60_000 : n * 3_600_000
  if (ms > 86_400_000) throw new InvalidArgumentError('must be at most 24h.')
  return ms
}

function headerName(value: string): string {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(value)) throw new InvalidArgumentError('must be an HTTP header name, e.g. X-Real-IP.')
  return value
}

export function addServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the forward-auth verification endpoint (GET /v1/auth, POST /v1/keys/verify, GET /healthz); see docs/serve.md')
    .option('--listen <host:port>', 'address to listen on; port 0 picks a free one', DEFAULT_LISTEN)
    .option('--allow-remote', 'allow a non-loopback listen address (no TLS: only on a network you trust)')
    .option('--max-header-size <bytes>', 'largest request head; bigger gets 431', int(1024, 65536), DEFAULT_LIMITS.maxHeaderSize)
    .option('--max-body <bytes>', 'largest POST body; bigger gets 413', int(64, 65536), DEFAULT_LIMITS.maxBodySize)
    .option('--headers-timeout <ms>', 'time to receive a request head; slower gets 408', int(100, 600_000), DEFAULT_LIMITS.headersTimeoutMs)
    .option('--request-timeout <ms>', 'time to receive a whole request', int(100, 600_000), DEFAULT_LIMITS.requestTimeoutMs)
    .option('--keep-alive-timeout <ms>', 'idle keep-alive connections are closed after this', int(100, 600_000), DEFAULT_LIMITS.keepAliveTimeoutMs)
    .option('--max-connections <n>', 'most open connections', int(1, 1_000_000), DEFAULT_LIMITS.maxConnections)
    .option('--max-client-connections <n>', 'most open connections from one client address (IPv6: per /64); a --trusted-proxy is exempt', int(1, 1_000_000), DEFAULT_LIMITS.maxClientConnections)
    .option('--fail-burst <n>', 'failed attempts a client may make at once before 429; 0 turns limiting off', int(0, 1_000_000), DEFAULT_LIMITER.burst)
    .option('--fail-per-minute <n>', 'failed attempts a client regains per minute', positive, DEFAULT_LIMITER.perMinute)
    .option('--fail-clients <n>', 'most client addresses and most access IDs the limiter tracks (the least active offenders are dropped first)', int(1, 10_000_000), DEFAULT_LIMITER.maxClients)
    .option('--client-ip-header <name>', 'take the client address from this header (e.g. X-Real-IP, X-Forwarded-For) when the peer is a --trusted-proxy', headerName)
    .option('--trusted-proxy <ip-or-cidr...>', 'proxy addresses whose --client-ip-header is believed (repeatable; nothing is trusted by default, not even loopback)', collectMany)
    .option('--secret-file <file>', "team store: the gateway secret file (keydesk team export-secret --gateway), instead of the OS keychain; must be 0600 and yours (a relative name is looked up in $CREDENTIALS_DIRECTORY)")
    .option('--stale-for <duration>', 'team store: how long keys verified before the database became unreachable keep passing (e.g. 90s, 5m; 0 turns it off)', staleFor, DEFAULT_STALE_FOR_MS)
    .addOption(new Option('--feed <how>', 'team store: how revocations reach this gateway (auto: LISTEN/NOTIFY, polling where LISTEN is unavailable, e.g. a read replica)').choices(['auto', 'listen', 'poll']).default('auto'))
    .addOption(new Option('--access-log <where>', 'where access log lines go').choices(['stdout', 'stderr', 'off']).default('stdout'))
    .option('--shutdown-timeout <ms>', 'on SIGTERM/SIGINT, time in-flight requests get before connections are cut', int(0, 600_000), 10_000)
    .action(async (flags: ServeFlags) => (await import('./serve-run')).serve(program, flags))
}
