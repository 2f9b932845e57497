/** The one window, and the hardening applied to every webContents and the session. */
import { app, BrowserWindow, Menu, type Session, type MenuItemConstructorOptions } from 'electron'
import { allowNavigation, allowPermission, isAppUrl, mainWindowWebPreferences, type AppOrigin } from './security'

/** Applied to every webContents ever created (the window, and anything that tries to appear). */
export function hardenAllWebContents(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (e, url) => {
      if (!allowNavigation(url)) e.preventDefault()
    })
    contents.on('will-frame-navigate', (e) => {
      if (!allowNavigation(e.url)) e.preventDefault()
    })
    contents.on('will-redirect', (e, url) => {
      if (!allowNavigation(url)) e.preventDefault()
    })
    contents.on('will-attach-webview', (e) => e.preventDefault())
    contents.setWindowOpenHandler(() => ({ action: 'deny' }))
  })
}

const BLOCKED_PROTOCOLS = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:', 'file:'])

/** No permission ever; no downloads; no request leaves for the network or the file system. */
export function hardenSession(session: Session, origin: AppOrigin): void {
  session.setPermissionRequestHandler((_wc, permission, callback) => callback(allowPermission(permission)))
  session.setPermissionCheckHandler((_wc, permission) => allowPermission(permission))
  session.setDevicePermissionHandler(() => false)
  session.on('will-download', (e) => e.preventDefault())
  session.webRequest.onBeforeRequest((details, callback) => {
    let protocol = ''
    try {
      protocol = new URL(details.url).protocol
    } catch {
      return callback({ cancel: true })
    }
    // The dev server origin (only in `electron-vite dev`) is the one http origin allowed.
    const ours = isAppUrl(details.url, origin) || (origin.protocol === 'http:' && details.url.startsWith(`ws://${origin.host}/`))
    callback({ cancel: BLOCKED_PROTOCOLS.has(protocol) && !ours })
  })
}

export function createMainWindow(opts: { preloadPath: string; url: string; packaged: boolean }): BrowserWindow {
  const win = new BrowserWindow({
    title: 'KeyDesk',
    width: 1280,
    height: 820,
    minWidth: 960,
    minHeight: 600,
    show: false,
    autoHideMenuBar: true,
    webPreferences: mainWindowWebPreferences(opts.preloadPath, { packaged: opts.packaged }),
  })
  win.once('ready-to-show', () => win.show())
  void win.loadURL(opts.url)
  return win
}

/** Edit (copy/paste in text fields), Window; View with reload and DevTools only in development. */
export function installMenu(packaged: boolean): void {
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { role: 'editMenu' },
    ...(packaged ? [] : [{ role: 'viewMenu' as const }]),
    { role: 'windowMenu' },
  ]
  Menu.setApplicationMenu(Menu.buildFromTemplate(template))
}
