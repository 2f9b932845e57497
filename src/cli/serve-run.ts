/** What `keydesk serve` does once its flags are parsed (loaded only for that command). */
import type { Command } from 'commander'
import { KeydeskError } from '../main/core/errors'
import { openKeyStore } from '../main/core/index'
import type { GatewayStorage } from '../main/core/storage/gateway'
import { fileKeychain, readGatewaySecretFile } from '../main/core/team-secret'
import { storeOf } from './where'
import { configWarnings, createVerifyServer, timeoutCheckInterval } from '../serve/server'
import { ListenError, parseListen, trustedProxies } from '../serve/listen'
import type { ServeFlags } from './serve'

export async function serve(program: Command, f: ServeFlags): Promise<void> {
  let addr
  let proxies
  try {
    addr = parseListen(f.listen)
    proxies = f.trustedProxy?.length ? trustedProxies(f.trustedProxy) : undefined
  } catch (e) {
    if (e instanceof ListenError) throw new KeydeskError('invalid_input', e.message, 'listen')
    throw e
  }
  if (!addr.loopback && !f.allowRemote)
    throw new KeydeskError(
      'invalid_input',
      `refusing to listen on ${addr.host}: it is not a loopback address. keydesk serve speaks plain HTTP and answers ` +
        'key-guessing attempts, so it belongs behind a proxy on the same host (127.0.0.1 or ::1). ' +
        'Pass --allow-remote only if a network you trust stands between it and every client.',
      'listen',
    )
  if (f.headersTimeout > f.requestTimeout)
    throw new KeydeskError('invalid_input', '--headers-timeout must not be longer than --request-timeout.', 'headersTimeout')

  const where = storeOf(program)
  if (f.secretFile && !where.store) throw new KeydeskError('invalid_input', '--secret-file is for a team store: give --store postgres://… (or KEYDESK_STORE).', 'secretFile')
  const secret = f.secretFile ? readGatewaySecretFile(f.secretFile) : undefined
  const store = await openKeyStore({
    ...where,
    mmap: true,
    create: false,
    ...(secret ? { keychain: fileKeychain(secret, secret.storeId) } : {}),
    ...(where.store ? { gateway: { staleForMs: f.staleFor, feed: f.feed } } : {}),
  })
  const gateway = where.store ? (store.port as GatewayStorage) : undefined
  if (gateway) await gateway.start()

  // A log reader going away must not stop the door from answering.
  process.stdout.on('error', () => {})
  process.stderr.on('error', () => {})

  const vs = createVerifyServer(store, {
    limits: {
      maxHeaderSize: f.maxHeaderSize,
      maxBodySize: f.maxBody,
      headersTimeoutMs: f.headersTimeout,
      requestTimeoutMs: f.requestTimeout,
      keepAliveTimeoutMs: f.keepAliveTimeout,
      maxConnections: f.maxConnections,
      maxClientConnections: f.maxClientConnections,
      timeoutCheckIntervalMs: timeoutCheckInterval(f.headersTimeout, f.requestTimeout),
    },
    limiter: { burst: f.failBurst, perMinute: f.failPerMinute, maxClients: f.failClients },
    clientIpHeader: f.clientIpHeader,
    trustedProxies: proxies,
    accessLog: f.accessLog === 'off' ? null : f.accessLog === 'stderr' ? process.stderr : process.stdout,
    ...(gateway
      ? {
          health: () => gateway.health(),
        }
      : {}),
  })

  let bound
  try {
    bound = await vs.listen(addr.host, addr.port)
  } catch (e) {
    store.close()
    const code = (e as NodeJS.ErrnoException).code
    const why = code === 'EADDRINUSE' ? 'the address is in use' : code === 'EACCES' ? 'permission denied' : code === 'EADDRNOTAVAIL' ? 'no such local address' : (code ?? 'error')
    throw new KeydeskError('invalid_input', `cannot listen on ${f.listen}: ${why}.`, 'listen')
  }
  for (const w of configWarnings({ clientIpHeader: f.clientIpHeader, trustedProxies: proxies })) process.stderr.write(`keydesk: warning: ${w}\n`)
  if (!addr.loopback) process.stderr.write(`keydesk: warning: listening on non-loopback ${bound.url} (--allow-remote); use it only behind a trusted network.\n`)
  process.stdout.write(JSON.stringify({ listening: bound.url }) + '\n')

  // A second signal while stopping cuts the remaining connections at once.
  const force = (): void => vs.server.closeAllConnections()
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const on = (s: NodeJS.Signals): void => {
      process.off('SIGTERM', on)
      process.off('SIGINT', on)
      process.on('SIGTERM', force)
      process.on('SIGINT', force)
      resolve(s)
    }
    process.on('SIGTERM', on)
    process.on('SIGINT', on)
  })
  await vs.close(f.shutdownTimeout)
  store.close()
  process.off('SIGTERM', force)
  process.off('SIGINT', force)
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), stopped: true, signal }) + '\n')
}
