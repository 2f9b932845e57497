/**
 * The shell's security policy as pure data and functions: no electron import,
 * so unit tests check exactly what the adapter applies, and the end-to-end
 * harness applies the same CSP, file serving and sender check.
 */
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path'

/** The renderer's origin in Electron: a privileged, standard, secure custom scheme. */
export const APP_SCHEME = 'app'
export const APP_HOST = 'keydesk'
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`

/** Where the IPC sender must live. */
export interface AppOrigin {
  /** With the colon, as URL.protocol gives it: 'app:' (Electron) or 'http:' (harness). */
  protocol: string
  host: string
}
export const ELECTRON_APP_ORIGIN: AppOrigin = { protocol: `${APP_SCHEME}:`, host: APP_HOST }

/**
 * Content-Security-Policy of every renderer response. No inline script or
 * style element, no eval, nothing remote, no network at all from the page:
 * the renderer talks only to window.keydesk.
 */
export const CSP_DIRECTIVES: readonly (readonly [string, ...string[]])[] = [
  ['default-src', "'none'"],
  ['script-src', "'self'"],
  ['style-src', "'self'"],
  ['img-src', "'self'", 'data:'],
  ['font-src', "'self'"],
  ['connect-src', "'none'"],
  ['object-src', "'none'"],
  ['media-src', "'none'"],
  ['frame-src', "'none'"],
  ['worker-src', "'none'"],
  ['manifest-src', "'none'"],
  ['base-uri', "'none'"],
  ['form-action', "'none'"],
  ['frame-ancestors', "'none'"],
]
export const CONTENT_SECURITY_POLICY = CSP_DIRECTIVES.map((d) => d.join(' ')).join('; ')

/** Headers on every file the renderer protocol serves. */
export function rendererResponseHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=(), bluetooth=(), clipboard-read=(), payment=()',
    'Cache-Control': 'no-store',
  }
}

/**
 * webPreferences of the one window. Pure data (the adapter passes it to
 * BrowserWindow unchanged). devTools is off in packaged builds.
 */
export function mainWindowWebPreferences(preloadPath: string, opts: { packaged: boolean }) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    enableWebSQL: false,
    devTools: !opts.packaged,
  } as const
}

/** Registered with protocol.registerSchemesAsPrivileged before app ready. */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  corsEnabled: true,
  // Deliberately not bypassCSP, not allowServiceWorkers, not stream.
} as const

// ── the sender check (VS Code's validatedIpcMain, Dyad's createTypedHandler) ──

/** What the adapter knows about an IPC message's sender, extracted from Electron's event. */
export interface SenderInfo {
  /** URL of event.senderFrame; null when the frame is gone (navigated or destroyed). */
  frameUrl: string | null
  /** event.senderFrame is the top frame (no parent) of its page. */
  isMainFrame: boolean
  /** event.sender is our window's webContents (not some other webContents). */
  fromAppWindow: boolean
}

export type SenderVerdict = { ok: true } | { ok: false; reason: string }

/** Is this URL on the app's origin? Compares scheme and host (Node's URL gives a "null" origin for custom schemes). */
export function isAppUrl(url: string, origin: AppOrigin = ELECTRON_APP_ORIGIN): boolean {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return false
  }
  return u.protocol === origin.protocol && u.host === origin.host && u.username === '' && u.password === ''
}

/** Accept only the app's own main frame; refuse before the payload is looked at. */
export function checkSender(sender: SenderInfo | null | undefined, origin: AppOrigin = ELECTRON_APP_ORIGIN): SenderVerdict {
  if (!sender) return { ok: false, reason: 'no sender' }
  if (!sender.fromAppWindow) return { ok: false, reason: 'sender is not the app window' }
  if (sender.frameUrl === null) return { ok: false, reason: 'sender frame is gone' }
  if (!sender.isMainFrame) return { ok: false, reason: 'sender is a subframe' }
  if (!isAppUrl(sender.frameUrl, origin)) return { ok: false, reason: 'sender is not on the app origin' }
  return { ok: true }
}

export const FORBIDDEN_SENDER_ERROR = {
  kind: 'forbidden',
  message: 'This request did not come from the KeyDesk window and was refused.',
} as const

// ── navigation and permissions ──

/** The renderer never navigates (it is a single page): every navigation is refused. */
export function allowNavigation(_url: string): boolean {
  return false
}
/** No permission (camera, notifications, clipboard-read, …) is ever granted. */
export function allowPermission(_permission: string): boolean {
  return false
}

// ── serving the built renderer ──

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
}

export function contentTypeOf(path: string): string | null {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? null
}

/**
 * Map a request URL to a file under rootDir, or null (→ 404). Only the app
 * origin, only GET-able static files with a known type, no `..`, no encoded
 * separators, no NUL, nothing outside rootDir. "/" serves index.html.
 */
export function resolveRendererFile(rootDir: string, requestUrl: string, origin: AppOrigin = ELECTRON_APP_ORIGIN): string | null {
  if (!isAppUrl(requestUrl, origin)) return null
  const rawPath = new URL(requestUrl).pathname
  // Refuse encoded separators, dots and NULs outright rather than decode them.
  if (/%2e|%2f|%5c|%00/i.test(rawPath) || rawPath.includes('\\') || rawPath.includes('\0')) return null
  let pathname: string
  try {
    pathname = decodeURIComponent(rawPath)
  } catch {
    return null
  }
  if (pathname.split('/').some((seg) => seg === '..' || seg === '.')) return null
  const rel = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '')
  const root = resolve(rootDir)
  const full = resolve(join(root, rel))
  const r = relative(root, full)
  if (r === '' || r.startsWith('..') || isAbsolute(r) || r.split(sep).includes('..')) return null
  if (contentTypeOf(full) === null) return null
  return full
}
