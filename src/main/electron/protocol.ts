/** The app:// protocol: the built renderer, from one directory, with the CSP on every response. */
import { readFile } from 'node:fs/promises'
import { protocol, type Session } from 'electron'
import {
  APP_SCHEME,
  APP_SCHEME_PRIVILEGES,
  contentTypeOf,
  rendererResponseHeaders,
  resolveRendererFile,
} from './security'

/** Must run before app ready. */
export function registerAppSchemePrivileges(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { ...APP_SCHEME_PRIVILEGES } }])
}

const notFound = (): Response =>
  new Response('Not found', { status: 404, headers: rendererResponseHeaders('text/plain; charset=utf-8') })

export function serveRenderer(session: Session, rendererDir: string): void {
  session.protocol.handle(APP_SCHEME, async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return new Response('Method not allowed', { status: 405, headers: rendererResponseHeaders('text/plain; charset=utf-8') })
    const file = resolveRendererFile(rendererDir, request.url)
    if (file === null) return notFound()
    try {
      const body = await readFile(file)
      return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers: rendererResponseHeaders(contentTypeOf(file)!) })
    } catch {
      return notFound()
    }
  })
}
