/// <reference lib="dom" />
/// <reference path="../../src/renderer/src/keydesk.d.ts" />
/**
 * The smoke flow through the real Electron shell (app:// protocol, preload,
 * validated ipcMain), via Playwright's _electron. Skipped, with a printed reason,
 * where no Electron binary is installed (it cannot be downloaded here).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, expect, _electron, type ElectronApplication, type Page } from '@playwright/test'
import { OPERATION_NAMES } from '../../src/shared/operations'
import { CONTENT_SECURITY_POLICY } from '../../src/main/electron/security'
import { ROOT, electronBinaryPath } from '../../scripts/electron-path.js'

const electronPath = electronBinaryPath()
const electronBinaryAvailable = electronPath !== null
if (!electronBinaryAvailable) console.log('electron.spec: Electron binary not installed (cannot be downloaded here): electron launch tests skipped')

test.describe('Electron shell', () => {
  test.skip(!electronBinaryAvailable, 'Electron binary not installed (cannot be downloaded here): electron launch tests skipped')

  let app: ElectronApplication
  let page: Page
  let dataDir: string

  test.beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'keydesk-electron-'))
    app = await _electron.launch({
      executablePath: electronPath!,
      args: [ROOT],
      cwd: ROOT,
      env: { ...process.env, KEYDESK_DATA_DIR: dataDir, ELECTRON_ENABLE_LOGGING: '1' } as Record<string, string>,
    })
    page = await app.firstWindow()
    await page.waitForLoadState('domcontentloaded')
  })
  test.afterAll(async () => {
    await app?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  test('the window is hardened and loads app://keydesk under the CSP', async () => {
    expect(page.url()).toBe('app://keydesk/index.html')
    await expect(page).toHaveTitle(/KeyDesk/)
    // webPreferences are the pure mainWindowWebPreferences (unit-tested); here: one window, ours.
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().map((w) => w.webContents.getURL()))).toEqual(['app://keydesk/index.html'])
    const csp = await page.evaluate(async () => (await fetch('app://keydesk/index.html').catch(() => null))?.headers.get('content-security-policy') ?? 'fetch blocked')
    // connect-src 'none' forbids even this same-origin fetch; either way no other policy is in force.
    expect(['fetch blocked', CONTENT_SECURITY_POLICY]).toContain(csp)
    await page.screenshot({ path: join(ROOT, 'test-results/electron-smoke.png') })
  })

  test('window.keydesk is exactly the operation list; no Node in the page; inline script blocked', async () => {
    const seen = await page.evaluate(async () => {
      const s = document.createElement('script')
      s.textContent = 'window.__inlineRan = true'
      document.head.appendChild(s)
      await new Promise((r) => setTimeout(r, 200))
      const g = globalThis as Record<string, unknown>
      return {
        keys: Object.keys(window.keydesk),
        require: typeof g.require,
        process: typeof g.process,
        ipcRenderer: typeof g.ipcRenderer,
        inline: g.__inlineRan === true,
      }
    })
    expect(seen).toEqual({ keys: [...OPERATION_NAMES], require: 'undefined', process: 'undefined', ipcRenderer: 'undefined', inline: false })
  })

  test('navigation and window.open are denied', async () => {
    await page.evaluate(() => {
      window.open('https://example.com/')
      location.href = 'https://example.com/'
    })
    await page.waitForTimeout(500)
    expect(page.url()).toBe('app://keydesk/index.html')
    expect(app.windows().length).toBe(1)
  })

  test('a key created through window.keydesk verifies with the real CLI', async () => {
    const created = await page.evaluate(() => window.keydesk.keysCreate({ name: 'electron/smoke', scopes: ['read'], expiresIn: '7d' }))
    expect(created.ok).toBe(true)
    if (!created.ok) return
    const key = created.value.keys[0]!
    await page.evaluate((handoffId) => window.keydesk.credentialsDiscard({ handoffId }), created.value.handoffId)
    const r = spawnSync(join(ROOT, 'node_modules/.bin/node'), [join(ROOT, 'bin/keydesk.js'), '--data-dir', dataDir, 'verify', '--key', key.accessKey, '--json'], { encoding: 'utf8' })
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, accessId: key.accessId })
  })
})
