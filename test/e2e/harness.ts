/// <reference lib="dom" />
/// <reference path="../../src/renderer/src/keydesk.d.ts" />
/**
 * End-to-end harness (a CONTRACT other tests rely on).
 *
 *   const app = await launchApp({ dataDir?, downloadsDir? })
 *   app.page         Playwright Page showing the BUILT renderer (out/renderer)
 *   app.dataDir      the store's data dir (temp unless given): `keydesk --data-dir` sees the same store
 *   app.downloadsDir where the save-dialog port writes (temp unless given)
 *   await app.close() closes the browser and the store (and removes the temp dirs it
 *                    created, with a temp store's keychain entry; given dirs are kept)
 *
 * Extras: setNextOpenFile(path) feeds the next open-file dialog (keysImport);
 * setNextFolder(path) the next folder picker (scanFolder); notifications records the
 * desktop notifications the reminder scheduler shows (it checks at launch, as the
 * app does; checkReminders() runs the hourly check now);
 * cancelNextSave() makes the next save dialog cancel; clipboard.text / writes
 * record copies; savedFiles lists written paths; refusals lists refused senders;
 * pageErrors collects console errors and uncaught exceptions (CSP violations land here).
 *
 * How it mirrors Electron (src/main/electron):
 * - Debian's Chromium (/usr/bin/chromium) through Playwright as a library; never downloads a browser.
 * - The built renderer is served by page routing from out/renderer with
 *   resolveRendererFile and the SAME response headers (CSP included) as the app:// protocol.
 * - window.keydesk is built by an init script from OPERATION_NAMES, one function per
 *   operation, over a Playwright binding to the SAME api (createApi) on a REAL store
 *   (real SQLite, real keychain). The binding runs the SAME checkSender as ipcMain
 *   (main frame of our page, app origin) before the payload is parsed.
 * Differences (kept small; also in docs/shell.md):
 * - Origin is http://keydesk.local instead of app://keydesk (Playwright can only
 *   route http(s)); the CSP string is identical, 'self' just means this origin.
 * - The page is not sandboxed by a preload/contextIsolation pair: the init script
 *   runs in the page's world and removes the binding global after capturing it.
 * - Arguments cross by Playwright's serializer (JSON-like, keeps NaN/undefined)
 *   instead of Electron's structured clone.
 * - Dialogs and clipboard are test ports: save → downloadsDir/<default name>,
 *   open → the path given to setNextOpenFile, clipboard → memory.
 * - Navigation away from the origin is blocked by routing (aborted), popups are
 *   closed, instead of will-navigate / setWindowOpenHandler.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, parse as parsePath } from 'node:path'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test'
import keytar from 'keytar'
import { KEYCHAIN_SERVICE } from '../../src/main/core/keychain'
import { OPERATION_NAMES } from '../../src/shared/operations'
import { FORBIDDEN_SENDER_ERROR, checkSender, contentTypeOf, rendererResponseHeaders, resolveRendererFile, type AppOrigin } from '../../src/main/electron/security'
import { createApi, createReminderScheduler, openConfiguredStoreState, readImportFile, HandoffRegistry, type Api, type DesktopNotification, type Logger, type PlatformPorts, type StoreSetup } from '../../src/main/api/index'

export const HARNESS_ORIGIN: AppOrigin = { protocol: 'http:', host: 'keydesk.local' }
export const HARNESS_URL = `${HARNESS_ORIGIN.protocol}//${HARNESS_ORIGIN.host}/`
export const RENDERER_DIR = fileURLToPath(new URL('../../out/renderer/', import.meta.url))
export const CHROMIUM_PATH = process.env.KEYDESK_CHROMIUM ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  // app://keydesk is registered as a secure scheme in Electron; make the harness origin a secure context too.
  '--unsafely-treat-insecure-origin-as-secure=http://keydesk.local',
]

/** The binding's global name; the init script captures it and deletes it from window. */
const BINDING = '__keydeskBridge'

export interface LaunchOptions {
  dataDir?: string
  downloadsDir?: string
  /** Audit actor; defaults to the OS user, as in the app. */
  actor?: string
  viewport?: { width: number; height: number }
  colorScheme?: 'light' | 'dark'
}

export interface LaunchedApp {
  page: Page
  dataDir: string
  downloadsDir: string
  close(): Promise<void>
  /** The next open-file dialog answers with this file (null: the user cancels). Default: cancel. */
  setNextOpenFile(path: string | null): void
  /** The next save dialog is cancelled. */
  cancelNextSave(): void
  /** The next folder picker answers with this folder (null: the user cancels). Default: cancel. */
  setNextFolder(path: string | null): void
  /** Desktop notifications shown so far (the notification port). */
  notifications: DesktopNotification[]
  /** Run the reminder check the app runs hourly; resolves with how many notifications it showed. */
  checkReminders(): Promise<number>
  clipboard: { text: string | null; writes: { text: string; clearAfterMs: number }[] }
  savedFiles: string[]
  refusals: string[]
  pageErrors: string[]
  api: Api
  context: BrowserContext
  browser: Browser
}

function installBridge(arg: { names: readonly string[]; binding: string; origin: string }): void {
  const w = window as unknown as Record<string, unknown>
  const call = w[arg.binding] as ((name: string, input: unknown) => Promise<unknown>) | undefined
  try {
    delete w[arg.binding]
  } catch {
    /* non-configurable: leave it */
  }
  // Like a preload: only the app's own top-level document gets window.keydesk.
  if (typeof call !== 'function' || window.top !== window || location.origin !== arg.origin) return
  const api: Record<string, (input?: unknown) => Promise<unknown>> = {}
  for (const name of arg.names) api[name] = (input?: unknown) => call(name, input)
  Object.defineProperty(window, 'keydesk', { value: Object.freeze(api), enumerable: true, configurable: false, writable: false })
}

export async function launchApp(options: LaunchOptions = {}): Promise<LaunchedApp> {
  if (!existsSync(join(RENDERER_DIR, 'index.html')))
    throw new Error(`The renderer is not built (${RENDERER_DIR}index.html is missing): run \`npx electron-vite build\` first.`)
  const made: string[] = []
  const tmp = (prefix: string): string => {
    const d = mkdtempSync(join(tmpdir(), prefix))
    made.push(d)
    return d
  }
  const dataDir = options.dataDir ?? tmp('keydesk-e2e-data-')
  const downloadsDir = options.downloadsDir ?? tmp('keydesk-e2e-downloads-')

  const pageErrors: string[] = []
  const refusals: string[] = []
  const savedFiles: string[] = []
  const clipboard: LaunchedApp['clipboard'] = { text: null, writes: [] }
  let nextOpen: string | null = null
  let nextFolder: string | null = null
  let cancelSave = false
  const notifications: DesktopNotification[] = []

  const ports: PlatformPorts = {
    async chooseSavePath(defaultName) {
      if (cancelSave) {
        cancelSave = false
        return null
      }
      const { name, ext } = parsePath(defaultName)
      let path = join(downloadsDir, defaultName)
      for (let i = 2; existsSync(path); i++) path = join(downloadsDir, `${name}-${i}${ext}`)
      savedFiles.push(path)
      return path
    },
    async chooseOpenFile() {
      const path = nextOpen
      nextOpen = null
      return path === null ? null : readImportFile(path)
    },
    async chooseFolder() {
      const path = nextFolder
      nextFolder = null
      return path
    },
    notify(n) {
      notifications.push({ title: n.title, body: n.body })
    },
    copySecret(text, clearAfterMs) {
      clipboard.text = text
      clipboard.writes.push({ text, clearAfterMs })
      const t = setTimeout(() => {
        if (clipboard.text === text) clipboard.text = null
      }, clearAfterMs)
      t.unref()
    },
  }
  const log: Logger = {
    error: (m) => console.error(`[keydesk harness] ${m}`),
    warn: (m) => console.warn(`[keydesk harness] ${m}`),
  }
  // As the app: the store the Store setting in dataDir names (the local one without a settings file).
  const setup: StoreSetup = { dataDir, ...(options.actor ? { actor: options.actor } : {}) }
  const store = await openConfiguredStoreState(setup, log)
  const handoffs = new HandoffRegistry()
  const api = createApi({ dataDir, store, setup, ports, handoffs, log })
  // As the app: a reminder check at start (awaited here, so tests see its notifications) and hourly, on whichever store is open.
  const reminders = createReminderScheduler({ store: () => api.store, ports, log })
  await reminders.start()
  // A store in a temp dir the harness made dies with it: drop its keychain entry too.
  const tempStoreId = store.ok && options.dataDir === undefined ? store.store.health().storeId : null
  const dropKeychainEntry = async (): Promise<void> => {
    if (tempStoreId) await keytar.deletePassword(KEYCHAIN_SERVICE, tempStoreId).catch(() => false)
  }

  let browser: Browser | undefined
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
    const context = await browser.newContext({
      viewport: options.viewport ?? { width: 1280, height: 800 },
      colorScheme: options.colorScheme ?? 'light',
      acceptDownloads: false,
      serviceWorkers: 'block',
      permissions: [],
    })
    const origin = `${HARNESS_ORIGIN.protocol}//${HARNESS_ORIGIN.host}`
    await context.route('**/*', async (route) => {
      const url = route.request().url()
      const file = resolveRendererFile(RENDERER_DIR, url, HARNESS_ORIGIN)
      if (file === null) {
        if (new URL(url).origin === origin) return route.fulfill({ status: 404, headers: rendererResponseHeaders('text/plain; charset=utf-8'), body: 'Not found' })
        return route.abort('blockedbyclient') // no remote origins, no navigation away
      }
      try {
        return route.fulfill({ status: 200, headers: rendererResponseHeaders(contentTypeOf(file)!), body: await readFile(file) })
      } catch {
        return route.fulfill({ status: 404, headers: rendererResponseHeaders('text/plain; charset=utf-8'), body: 'Not found' })
      }
    })
    const page = await context.newPage()
    context.on('page', (p) => {
      if (p !== page) void p.close() // window.open is denied
    })
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text())
    })
    page.on('pageerror', (e) => pageErrors.push(`${e.name}: ${e.message}`))
    page.on('close', () => handoffs.clear()) // the renderer went away: forget secrets

    await context.exposeBinding(BINDING, async (source, name: unknown, input: unknown) => {
      // The same check as ipcMain, before the payload is looked at.
      const frame = source.frame
      const verdict = checkSender(
        { frameUrl: frame.isDetached() ? null : frame.url(), isMainFrame: frame === source.page.mainFrame(), fromAppWindow: source.page === page },
        HARNESS_ORIGIN,
      )
      if (!verdict.ok) {
        refusals.push(`${typeof name === 'string' ? name.slice(0, 40) : '?'}: ${verdict.reason}`)
        return { ok: false, error: { ...FORBIDDEN_SENDER_ERROR } }
      }
      return api.invoke(typeof name === 'string' ? name : '', input)
    })
    await context.addInitScript(installBridge, { names: [...OPERATION_NAMES], binding: BINDING, origin })
    // A reload starts a new renderer: its handoffs are gone, as in Electron.
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) handoffs.clear()
    })
    await page.goto(HARNESS_URL)

    const b = browser
    let closed = false
    return {
      page,
      dataDir,
      downloadsDir,
      async close() {
        if (closed) return
        closed = true
        reminders.stop()
        handoffs.clear()
        await b.close().catch(() => {})
        api.close()
        for (const d of made) rmSync(d, { recursive: true, force: true })
        await dropKeychainEntry()
      },
      setNextOpenFile(path) {
        nextOpen = path
      },
      cancelNextSave() {
        cancelSave = true
      },
      setNextFolder(path) {
        nextFolder = path
      },
      notifications,
      async checkReminders() {
        return (await reminders.check()).length
      },
      clipboard,
      savedFiles,
      refusals,
      pageErrors,
      api,
      context,
      browser: b,
    }
  } catch (e) {
    reminders.stop()
    await browser?.close().catch(() => {})
    api.close()
    for (const d of made) rmSync(d, { recursive: true, force: true })
    await dropKeychainEntry()
    throw e
  }
}
