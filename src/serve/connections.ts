/**
 * Connection-level defences of keydesk serve:
 *
 *   - a per-client connection cap (clients grouped as the limiter groups them;
 *     trusted proxies are exempt, since they carry every client's requests);
 *   - keep-alive shortened near the global cap: from 75 % of --max-connections
 *     idle connections get at most 1 s, from 90 % every response says
 *     Connection: close and idle keep-alive connections are closed, so idle
 *     sockets cannot hold the server full;
 *   - errors the HTTP parser meets (oversize head 431, bad bytes 400, a slow head
 *     or a slow body 408): one fixed response and exactly one log line.
 */
import type { Server, ServerResponse } from 'node:http'
import type { BlockList, Socket } from 'node:net'
import { type AccessLog, type Outcome } from './access-log'
import { clientKey, isTrustedPeer, plainAddress } from './limiter'
import { BODY, rawResponse, send } from './responses'

export interface ConnectionLimits {
  maxConnections: number
  maxClientConnections: number
  keepAliveTimeoutMs: number
}

/** Keep-alive idle time near the cap. */
const SHORT_KEEP_ALIVE_MS = 1_000

/** Was this socket refused or already answered by the guard? Requests on it are dropped. */
export function refused(socket: Socket): boolean {
  return (socket as GuardedSocket)[answered] === true
}

export interface ConnectionGuard {
  /** Responses should close their connection (stopping or near the cap). */
  readonly nearCap: boolean
  /** Open connections now. */
  readonly open: number
}

const answered = Symbol('keydesk.clientErrorAnswered')
type GuardedSocket = Socket & { [answered]?: true; _httpMessage?: ServerResponse | null }

export function guardConnections(
  server: Server,
  limits: ConnectionLimits,
  trusted: BlockList | undefined,
  log: AccessLog,
  /** Called when a request's body is too slow: the handler's record becomes a 408. */
  onRequestTimeout: (res: ServerResponse) => boolean,
): ConnectionGuard {
  let open = 0
  const perClient = new Map<string, number>()
  const shortAt = Math.ceil(limits.maxConnections * 0.75)
  const closeAt = Math.ceil(limits.maxConnections * 0.9)


  const adjust = (): void => {
    server.keepAliveTimeout = open >= shortAt ? Math.min(limits.keepAliveTimeoutMs, SHORT_KEEP_ALIVE_MS) : limits.keepAliveTimeoutMs
  }

  const logSocket = (socket: Socket, status: number, outcome: Outcome): void => {
    log.log({ time: new Date().toISOString(), client: plainAddress(socket.remoteAddress ?? 'unknown'), method: null, path: null, status, outcome, ms: 0 })
  }

  server.on('connection', (socket: Socket) => {
    const addr = plainAddress(socket.remoteAddress ?? 'unknown')
    if (!isTrustedPeer(addr, trusted)) {
      const key = clientKey(addr)
      const n = (perClient.get(key) ?? 0) + 1
      if (n > limits.maxClientConnections) {
        // One fixed answer and close; a request that still arrives on it is dropped (see refused()).
        const sock = socket as GuardedSocket
        sock[answered] = true
        logSocket(socket, 503, 'too_many_connections')
        socket.end(rawResponse(503, 'Service Unavailable', BODY.tooManyConnections))
        setTimeout(() => socket.destroy(), 1_000).unref()
        return
      }
      perClient.set(key, n)
      socket.once('close', () => {
        const left = (perClient.get(key) ?? 1) - 1
        if (left <= 0) perClient.delete(key)
        else perClient.set(key, left)
      })
    }
    open++
    socket.once('close', () => {
      open--
      adjust()
    })
    adjust()
    if (open >= closeAt) server.closeIdleConnections()
  })

  server.on('clientError', (err: NodeJS.ErrnoException, s: Socket) => {
    const socket = s as GuardedSocket
    const code = err.code ?? ''
    const [status, text, outcome]: [number, string, Outcome] =
      code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'header_too_large']
        : code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'timeout']
          : code === 'ECONNRESET' || code === 'EPIPE'
            ? [0, '', 'aborted']
            : [400, 'Bad Request', 'bad_request']
    if (status === 0 || socket[answered] || !socket.writable) {
      socket.destroy()
      return
    }
    socket[answered] = true
    const res = socket._httpMessage
    if (res) {
      // A request is in progress (its head arrived, its body is too slow): answer
      // through its response, so its one log line says 408.
      if (status === 408 && !res.headersSent && onRequestTimeout(res)) {
        send(res, 408, null, BODY.timeout, true)
        return
      }
      socket.destroy()
      return
    }
    logSocket(socket, status, outcome)
    socket.end(rawResponse(status, text, `{"error":"${outcome}"}`))
    socket.destroySoon?.()
  })

  return {
    get nearCap() {
      return open >= closeAt
    },
    get open() {
      return open
    },
  }
}
