/**
 * The shell's security policy, checked as the adapter applies it (security.ts
 * is pure: no electron import, so it runs here without the Electron binary).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, sep } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  APP_ENTRY_URL,
  APP_SCHEME_PRIVILEGES,
  CONTENT_SECURITY_POLICY,
  ELECTRON_APP_ORIGIN,
  FORBIDDEN_SENDER_ERROR,
  allowNavigation,
  allowPermission,
  checkSender,
  isAppUrl,
  mainWindowWebPreferences,
  rendererResponseHeaders,
  resolveRendererFile,
  type SenderInfo,
} from '../../src/main/electron/security'

describe('BrowserWindow webPreferences', () => {
  it('isolates, sandboxes and keeps Node out of the renderer', () => {
    const p = mainWindowWebPreferences('/app/out/preload/index.cjs', { packaged: true })
    expect(p).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
    })
  })
  it('turns DevTools off in packaged builds only', () => {
    expect(mainWindowWebPreferences('p', { packaged: true }).devTools).toBe(false)
    expect(mainWindowWebPreferences('p', { packaged: false }).devTools).toBe(true)
  })
})

describe('Content-Security-Policy', () => {
  it('is exactly the strict policy', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'none'; " +
        "object-src 'none'; media-src 'none'; frame-src 'none'; worker-src 'none'; manifest-src 'none'; base-uri 'none'; " +
        "form-action 'none'; frame-ancestors 'none'",
    )
  })
  it('allows no inline script, eval, remote origin or file://', () => {
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes|wasm-unsafe|https?:|file:|\*|blob:/)
    const script = CONTENT_SECURITY_POLICY.split('; ').find((d) => d.startsWith('script-src'))
    expect(script).toBe("script-src 'self'")
  })
  it('is sent with every renderer response, with nosniff', () => {
    const h = rendererResponseHeaders('text/html; charset=utf-8')
    expect(h['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY)
    expect(h['X-Content-Type-Options']).toBe('nosniff')
    expect(h['Content-Type']).toBe('text/html; charset=utf-8')
  })
  it('the scheme is standard and secure but never bypasses CSP', () => {
    expect(APP_SCHEME_PRIVILEGES).toMatchObject({ standard: true, secure: true })
    expect(APP_SCHEME_PRIVILEGES).not.toHaveProperty('bypassCSP')
    expect(APP_SCHEME_PRIVILEGES).not.toHaveProperty('allowServiceWorkers')
    expect(APP_ENTRY_URL).toBe('app://keydesk/index.html')
  })
})

describe('sender check', () => {
  const main: SenderInfo = { frameUrl: 'app://keydesk/index.html', isMainFrame: true, fromAppWindow: true }
  it('accepts the app window main frame', () => {
    expect(checkSender(main)).toEqual({ ok: true })
    expect(checkSender({ ...main, frameUrl: 'app://keydesk/index.html#/keys?x=1' })).toEqual({ ok: true })
  })
  it.each([
    ['a subframe', { ...main, isMainFrame: false }],
    ['another origin', { ...main, frameUrl: 'https://evil.example/index.html' }],
    ['another app host', { ...main, frameUrl: 'app://evil/index.html' }],
    ['a host with a port', { ...main, frameUrl: 'app://keydesk:8080/index.html' }],
    ['credentials in the URL', { ...main, frameUrl: 'app://user:pw@keydesk/index.html' }],
    ['file://', { ...main, frameUrl: 'file:///work/main/out/renderer/index.html' }],
    ['http://localhost', { ...main, frameUrl: 'http://localhost:5173/' }],
    ['about:blank', { ...main, frameUrl: 'about:blank' }],
    ['a data: URL', { ...main, frameUrl: 'data:text/html,<p>x' }],
    ['a garbage URL', { ...main, frameUrl: 'not a url' }],
    ['a gone (null) frame', { ...main, frameUrl: null }],
    ['another webContents', { ...main, fromAppWindow: false }],
  ] as const)('refuses %s', (_label, sender) => {
    const v = checkSender(sender)
    expect(v.ok).toBe(false)
  })
  it('refuses a missing sender', () => {
    expect(checkSender(null).ok).toBe(false)
    expect(checkSender(undefined).ok).toBe(false)
  })
  it('checks the harness origin with the same function', () => {
    const harness = { protocol: 'http:', host: 'keydesk.local' }
    expect(checkSender({ ...main, frameUrl: 'http://keydesk.local/' }, harness)).toEqual({ ok: true })
    expect(checkSender(main, harness).ok).toBe(false)
    expect(checkSender({ ...main, frameUrl: 'http://keydesk.local/' }).ok).toBe(false)
  })
  it('refusal is a typed error', () => {
    expect(FORBIDDEN_SENDER_ERROR.kind).toBe('forbidden')
  })
  it('isAppUrl compares scheme and host (custom schemes have a "null" URL origin in Node)', () => {
    expect(new URL('app://keydesk/x').origin).toBe('null')
    expect(isAppUrl('app://keydesk/x', ELECTRON_APP_ORIGIN)).toBe(true)
    expect(isAppUrl('app://keydesk.evil/x', ELECTRON_APP_ORIGIN)).toBe(false)
  })
})

describe('navigation and permissions', () => {
  it('denies every navigation and permission', () => {
    for (const url of ['https://example.com', 'app://keydesk/index.html', 'file:///etc/passwd', 'javascript:alert(1)']) expect(allowNavigation(url)).toBe(false)
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'clipboard-sanitized-write', 'openExternal', 'fullscreen'])
      expect(allowPermission(p)).toBe(false)
  })
})

describe('renderer file serving', () => {
  const root = mkdtempSync(join(tmpdir(), 'keydesk-renderer-'))
  mkdirSync(join(root, 'assets'))
  writeFileSync(join(root, 'index.html'), '<!doctype html>')
  writeFileSync(join(root, 'assets', 'index-abc.js'), '')
  writeFileSync(join(root, '..', 'keydesk-secret.txt'), 'secret')
  afterAll(() => {
    rmSync(root, { recursive: true, force: true })
    rmSync(join(root, '..', 'keydesk-secret.txt'), { force: true })
  })
  it('serves files under the root', () => {
    expect(resolveRendererFile(root, 'app://keydesk/')).toBe(join(root, 'index.html'))
    expect(resolveRendererFile(root, 'app://keydesk/index.html')).toBe(join(root, 'index.html'))
    expect(resolveRendererFile(root, 'app://keydesk/assets/index-abc.js?v=1#x')).toBe(join(root, 'assets', 'index-abc.js'))
  })
  it.each([
    // The URL parser already folds these into the root ("/keydesk-secret.txt" under root: no such file).
    'app://keydesk/../keydesk-secret.txt',
    'app://keydesk/%2e%2e/keydesk-secret.txt',
    'app://keydesk/assets/../../keydesk-secret.txt',
    'app://keydesk/.',
  ])('never leaves the root: %s', (url) => {
    const p = resolveRendererFile(root, url)
    if (p !== null) expect(p.startsWith(root + sep)).toBe(true)
    expect(p).not.toBe(join(root, '..', 'keydesk-secret.txt'))
  })
  it.each([
    'app://keydesk/assets/%2e%2e%2f..%2fkeydesk-secret.txt',
    'app://keydesk/assets/..%2f..%2fkeydesk-secret.txt',
    'app://keydesk/..%5c..%5ckeydesk-secret.txt',
    'app://keydesk/assets\\..\\..\\keydesk-secret.txt',
    'app://keydesk/index.html%00.js',
    'app://keydesk/%E0%A4%A',
    'app://other/index.html',
    'file:///etc/passwd',
    'https://keydesk/index.html',
    'http://keydesk.local/index.html',
    'app://keydesk/no-such-type.exe',
    'app://keydesk/assets',
  ])('refuses %s', (url) => {
    expect(resolveRendererFile(root, url)).toBeNull()
  })
})
