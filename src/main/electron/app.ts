/**
 * The Electron shell: thin. Lifecycle, one hardened window, the app:// protocol,
 * the validated IPC bridge to the api handlers, dialogs and clipboard ports.
 * Everything with a rule in it lives in core (domain) or security.ts (pure, tested).
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { app, session, type BrowserWindow } from 'electron'
import { HandoffRegistry, consoleLogger, createApi, createReminderScheduler, openConfiguredStoreState, type Api, type StoreSetup } from '../api/index'
import type { ReminderScheduler } from '../core/reminders'
import { APP_ENTRY_URL, ELECTRON_APP_ORIGIN, type AppOrigin } from './security'
import { registerAppSchemePrivileges, serveRenderer } from './protocol'
import { registerBridge } from './ipc'
import { electronPorts } from './ports'
import { createMainWindow, hardenAllWebContents, hardenSession, installMenu } from './window'

export const APP_NAME = 'KeyDesk'

export function main(): void {
  const here = dirname(fileURLToPath(import.meta.url)) // out/main
  const log = consoleLogger

  // Before ready: name, profile dir, sandbox for every renderer, the privileged scheme.
  app.setName(APP_NAME)
  app.setPath('userData', join(app.getPath('appData'), APP_NAME))
  app.enableSandbox()
  registerAppSchemePrivileges()

  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return
  }

  // `electron-vite dev` only: the renderer comes from the Vite dev server. Never in a packaged build.
  const devUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined
  const origin: AppOrigin = devUrl ? { protocol: new URL(devUrl).protocol, host: new URL(devUrl).host } : ELECTRON_APP_ORIGIN
  const entryUrl = devUrl ?? APP_ENTRY_URL

  let win: BrowserWindow | null = null
  let api: Api | null = null
  let reminders: ReminderScheduler | null = null
  const handoffs = new HandoffRegistry()
  const ports = electronPorts(() => win)

  hardenAllWebContents()

  app.on('second-instance', () => {
    if (!win) return
    if (win.isMinimized()) win.restore()
    win.focus()
  })

  app.whenReady().then(async () => {
    installMenu(app.isPackaged)
    hardenSession(session.defaultSession, origin)
    serveRenderer(session.defaultSession, join(here, '../renderer'))

    const dataDir = process.env.KEYDESK_DATA_DIR || app.getPath('userData')
    // The app's user-data dir also holds Electron's own files.
    const setup: StoreSetup = { dataDir, allowNonEmptyDir: true }
    // The store the Store setting names (the local one unless a team database was chosen).
    const store = await openConfiguredStoreState(setup, log)
    if (!store.ok) log.warn(`key store unavailable: ${store.problem.kind}`)
    const opened = (api = createApi({ dataDir, store, setup, ports, handoffs, log }))
    registerBridge(opened, () => win, origin, log)
    // Expiry reminders: a check now and every hour while the app runs (issue 13), on whichever store is open.
    reminders = createReminderScheduler({ store: () => opened.store, ports, log })
    void reminders.start()
    // The full integrity check (every page, row MAC, tombstone, the audit chain, the anchor)
    // is not done at open, where it would slow every start: it runs here, in the background.
    if (store.ok) setTimeout(() => void api?.invoke('storeCheck', {}).catch(() => undefined), 5_000).unref()

    win = createMainWindow({ preloadPath: join(here, '../preload/index.cjs'), url: entryUrl, packaged: app.isPackaged })
    // A new document (reload) or a dead renderer must not inherit one-time secrets.
    win.webContents.on('did-start-navigation', (details) => {
      if (details.isMainFrame && !details.isSameDocument) handoffs.clear()
    })
    win.webContents.on('render-process-gone', () => handoffs.clear())
    win.on('closed', () => {
      handoffs.clear()
      win = null
    })
  }).catch((e: unknown) => {
    log.error(`startup failed: ${e instanceof Error ? e.message : String(e)}`)
    app.exit(1)
  })

  app.on('window-all-closed', () => app.quit())
  app.on('will-quit', (e) => {
    if (ports.hasPendingSecrets()) {
      // Take a copied secret off the clipboard before leaving, then quit again.
      e.preventDefault()
      void ports.clearPendingSecrets().finally(() => app.quit())
      return
    }
    handoffs.clear()
    reminders?.stop()
    api?.close()
  })
}
