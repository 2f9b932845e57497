/**
 * The defaults `keydesk serve` shows in its --help, apart from the server itself:
 * this module imports nothing, so registering the command costs no node:http or
 * node:net load for the CLI commands that never serve.
 */

export const DEFAULT_LISTEN = '127.0.0.1:8228'

export interface ServeLimits {
  /** Largest request head (request line + headers), bytes. Bigger → 431. */
  maxHeaderSize: number
  /** Largest POST body, bytes. Bigger → 413. */
  maxBodySize: number
  /** Time allowed to receive the request head, ms. Slower → 408 and close. */
  headersTimeoutMs: number
  /** Time allowed to receive the whole request, ms. Slower → 408 and close. */
  requestTimeoutMs: number
  /** Idle time before a keep-alive connection is closed, ms. */
  keepAliveTimeoutMs: number
  /** Most open connections. */
  maxConnections: number
  /** Most open connections from one client address (IPv6: one /64); trusted proxies are exempt. */
  maxClientConnections: number
  /** How often the two request timeouts are checked, ms (their precision). */
  timeoutCheckIntervalMs: number
}

export const DEFAULT_LIMITS: ServeLimits = {
  maxHeaderSize: 8 * 1024,
  maxBodySize: 4 * 1024,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
  maxClientConnections: 64,
  timeoutCheckIntervalMs: 50,
}

export interface LimiterOptions {
  /** Failed attempts allowed at once; 0 turns limiting off. */
  burst: number
  /** Tokens returned per minute (> 0). */
  perMinute: number
  /** Most buckets of each kind (addresses, access IDs) kept in memory. */
  maxClients: number
  /** Monotonic milliseconds; for tests. */
  now?: () => number
}

export const DEFAULT_LIMITER: Omit<LimiterOptions, 'now'> = { burst: 20, perMinute: 20, maxClients: 10_000 }
