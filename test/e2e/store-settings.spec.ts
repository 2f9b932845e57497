/// <reference lib="dom" />
/**
 * Settings → Store, end to end through the harness (built renderer, real Chromium,
 * real handlers, real keychain) and a REAL PostgreSQL team store (KEYDESK_TEST_PG:
 * test/run.sh starts one; or `eval "$(scripts/pg-test-server.sh start)"`):
 * a URL that is not postgres is refused at its field; a password typed into the URL
 * moves to the password field; Test connection reports the team store's keys without
 * switching; Save store switches the window (the Keys screen lists the team's keys),
 * keeps the password out of the settings file; and "This computer" switches back.
 * Axe (WCAG 2.2 AA + best practices) and screenshots at 1280×800 and 900×600, light
 * and dark, in test-results/screens/70-*.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import AxeBuilder from '@axe-core/playwright'
import { expect, test, type Page } from '@playwright/test'
import keytar from 'keytar'
import { openKeyStore } from '../../src/main/core/index'
import { KEYCHAIN_SERVICE, dbPasswordAccount } from '../../src/main/core/keychain'
import { STORE_SETTINGS_FILE } from '../../src/main/core/settings'
import { anchorAccount } from '../../src/main/core/services/integrity'
import { freshTeamDatabase } from '../helpers'
import { launchApp, type LaunchedApp } from './harness'

if (!process.env.KEYDESK_TEST_PG)
  throw new Error('KEYDESK_TEST_PG is not set: this test needs a PostgreSQL server. Run it through npm test, or: eval "$(scripts/pg-test-server.sh start)" first.')

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SHOTS = join(ROOT, 'test-results/screens')
const PASSWORD = 'Sw0rdfish-not-in-any-file'

test.describe.configure({ mode: 'serial' })

let app: LaunchedApp
let page: Page
let dataDir: string
let teamDir: string
let teamUrl: string
const accounts: string[] = []

test.beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'keydesk-e2e-store-'))
  teamDir = mkdtempSync(join(tmpdir(), 'keydesk-e2e-team-'))
  const local = await openKeyStore({ dataDir, actor: 'alice' })
  try {
    local.create({ name: 'local/only-here' })
    await local.settled()
  } finally {
    local.close()
  }
  accounts.push(local.storeId, anchorAccount(local.storeId))
  // A team store, as `keydesk team init` makes it: its secret is in this keychain.
  teamUrl = await freshTeamDatabase()
  const team = await openKeyStore({ dataDir: teamDir, store: teamUrl, initTeam: true, actor: 'bob' })
  try {
    team.addOwner('payments', 'service')
    team.create({ name: 'team/shared-webhook', owner: 'payments' })
    team.create({ name: 'team/nightly-export', owner: 'payments' })
    await team.settled()
  } finally {
    team.close()
  }
  accounts.push(team.storeId, anchorAccount(team.storeId), dbPasswordAccount(teamUrl))
  app = await launchApp({ dataDir, actor: 'alice', viewport: { width: 1280, height: 800 } })
  page = app.page
})
test.afterAll(async () => {
  const errors = app?.pageErrors ?? []
  await app?.close()
  for (const a of accounts) await keytar.deletePassword(KEYCHAIN_SERVICE, a).catch(() => false)
  rmSync(dataDir, { recursive: true, force: true })
  rmSync(teamDir, { recursive: true, force: true })
  expect(errors).toEqual([])
})

async function axeClean(label: string): Promise<void> {
  const r = await new AxeBuilder({ page }).setLegacyMode(true).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze()
  const found = r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 4).join(' | ')}`)
  expect(found, `axe on ${label}`).toEqual([])
}

/** Screenshots at 1280×800 and 900×600, light and dark, each checked by axe; back to 1280×800 light. */
async function look(name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true })
  for (const size of [
    { width: 1280, height: 800 },
    { width: 900, height: 600 },
  ]) {
    await page.setViewportSize(size)
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme })
      await page.waitForTimeout(80)
      mkdirSync(SHOTS, { recursive: true })
      const file = `${name}-${size.width}${scheme === 'dark' ? '-dark' : ''}`
      await page.locator('.main').evaluate((m) => m.scrollTo(0, 0))
      await page.screenshot({ path: join(SHOTS, `${file}.png`) })
      // The rest of the section, where the window is too short for it.
      if (await page.locator('.main').evaluate((m) => m.scrollHeight > m.clientHeight + 1)) {
        await page.locator('.main').evaluate((m) => m.scrollTo(0, m.scrollHeight))
        await page.waitForTimeout(40)
        await page.screenshot({ path: join(SHOTS, `${file}-end.png`) })
        await page.locator('.main').evaluate((m) => m.scrollTo(0, 0))
      }
      await axeClean(`${name} ${size.width} ${scheme}`)
    }
  }
  await page.emulateMedia({ colorScheme: 'light' })
  await page.setViewportSize({ width: 1280, height: 800 })
}

const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true })
const store = () => page.getByRole('region', { name: 'Store' })
const result = () => store().getByRole('status')
const urlField = () => store().getByLabel('Team database URL')
const passwordField = () => store().getByLabel('Database password')
const grid = () => page.getByRole('grid', { name: 'API keys' })

/** Nothing in the store section is cut or runs out of its card. */
async function nothingCut(): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = []
    const card = document.querySelector<HTMLElement>('.store-card')!.getBoundingClientRect()
    for (const el of document.querySelectorAll<HTMLElement>('.store-card *')) {
      const r = el.getBoundingClientRect()
      if (r.width === 0 || r.height === 0) continue
      if (r.right > card.right + 1 || r.left < card.left - 1) out.push(`outside the card: ${el.className || el.tagName} ${el.textContent?.slice(0, 40)}`)
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible' && el.tagName !== 'INPUT') out.push(`cut: ${el.className || el.tagName}`)
    }
    return out
  })
}

test('Settings shows the store in use; the sidebar keeps working collapsed', async () => {
  await expect(grid().getByRole('row').filter({ hasText: 'local/only-here' })).toHaveCount(1)
  await nav('Settings').click()
  await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeFocused()
  await expect(store().getByText('This computer (SQLite file)')).toBeVisible()
  await expect(store().getByText(join(dataDir, 'keydesk.sqlite'))).toBeVisible()
  await expect(store().getByRole('radio', { name: 'This computer' })).toBeChecked()
  await expect(store().getByRole('button', { name: 'Save store' })).toBeDisabled() // already in use
  await expect(urlField()).toHaveCount(0)
  expect(await nothingCut()).toEqual([])
  await look('70-settings-local')
  // 900 wide: icon sidebar, Settings reachable by its accessible name and tooltip.
  await page.setViewportSize({ width: 900, height: 600 })
  expect((await page.locator('.sidebar').boundingBox())!.width).toBeLessThanOrEqual(72)
  await expect(nav('Settings')).toBeVisible()
  await expect(nav('Settings')).toHaveAttribute('title', 'Settings')
  await expect(nav('Settings')).toHaveAttribute('aria-current', 'page')
  expect(await nothingCut()).toEqual([])
  await page.setViewportSize({ width: 1280, height: 800 })
})

test('a URL that is not postgres is refused at its field; nothing is called', async () => {
  await store().getByRole('radio', { name: 'Team database' }).check()
  await urlField().fill('mysql://db.example.com/keydesk')
  await store().getByRole('button', { name: 'Test connection' }).click()
  await expect(urlField()).toHaveAttribute('aria-invalid', 'true')
  await expect(store().getByText(/must start with postgres:\/\//)).toBeVisible()
  await expect(result()).toHaveText('')
  await look('71-settings-url-error')
})

test('a password typed into the URL moves to the password field; Test connection switches nothing', async () => {
  const withPassword = teamUrl.replace('postgres://postgres@', `postgres://postgres:${PASSWORD}@`)
  await urlField().fill(withPassword)
  await urlField().blur()
  await expect(urlField()).toHaveValue(teamUrl)
  await expect(passwordField()).toHaveValue(PASSWORD)
  await expect(passwordField()).toHaveAttribute('type', 'password')
  await expect(store().getByText(/password was taken out of the URL/)).toBeVisible()
  await store().getByRole('button', { name: 'Test connection' }).click()
  await expect(result()).toContainText(`Connected to the team store at ${teamUrl}`)
  await expect(result()).toContainText('2 keys')
  await expect(result()).not.toContainText(PASSWORD)
  expect(await nothingCut()).toEqual([])
  await look('72-settings-tested')
  // Nothing switched: the Keys screen still lists the local key, no settings file yet.
  expect(readdirSync(dataDir)).not.toContain(STORE_SETTINGS_FILE)
  expect(await app.api.invoke('keysList', { status: 'all' })).toMatchObject({ ok: true, value: { total: 1 } })
})

test('Save store switches the window to the team database and its keys', async () => {
  await store().getByRole('button', { name: 'Save store' }).click()
  await expect(result()).toContainText(`Saved. KeyDesk now uses the team database ${teamUrl}`)
  await expect(passwordField()).toHaveValue('') // cleared after save
  await expect(store().getByText('Team database (PostgreSQL)')).toBeVisible()
  await expect(store().getByRole('button', { name: 'Save store' })).toBeDisabled()
  await expect(store().getByText(/saved in the OS keychain; leave this empty to keep it/)).toBeVisible()
  expect(await nothingCut()).toEqual([])
  await look('73-settings-team')

  // The setting: 0600, the URL without the password; the password only in the keychain.
  const file = join(dataDir, STORE_SETTINGS_FILE)
  expect(statSync(file).mode & 0o777).toBe(0o600)
  expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, kind: 'team', url: teamUrl })
  for (const f of readdirSync(dataDir)) {
    const p = join(dataDir, f)
    if (statSync(p).isFile()) expect(readFileSync(p).includes(PASSWORD), f).toBe(false)
  }
  expect(await keytar.getPassword(KEYCHAIN_SERVICE, dbPasswordAccount(teamUrl))).toBe(PASSWORD)

  await nav('Keys').click()
  await expect(grid().getByRole('row').filter({ hasText: 'team/shared-webhook' })).toHaveCount(1)
  await expect(grid().getByRole('row').filter({ hasText: 'team/nightly-export' })).toHaveCount(1)
  await expect(grid().getByRole('row').filter({ hasText: 'local/only-here' })).toHaveCount(0)
  await expect(page.locator('.store-info')).toContainText('Store and keychain OK')
  await nav('Owners').click()
  await expect(page.getByRole('table').getByText('payments', { exact: true })).toBeVisible()
})

test('"This computer" switches back to the local store', async () => {
  await nav('Settings').click()
  await store().getByRole('radio', { name: 'This computer' }).check()
  await store().getByRole('button', { name: 'Test connection' }).click()
  await expect(result()).toContainText('holds 1 key')
  await store().getByRole('button', { name: 'Save store' }).click()
  await expect(result()).toContainText('Saved. KeyDesk now uses the store on this computer.')
  await expect(store().getByText('This computer (SQLite file)')).toBeVisible()
  expect(JSON.parse(readFileSync(join(dataDir, STORE_SETTINGS_FILE), 'utf8'))).toEqual({ version: 1, kind: 'local' })
  expect(await keytar.getPassword(KEYCHAIN_SERVICE, dbPasswordAccount(teamUrl))).toBeNull()
  await nav('Keys').click()
  await expect(grid().getByRole('row').filter({ hasText: 'local/only-here' })).toHaveCount(1)
  await expect(grid().getByRole('row').filter({ hasText: 'team/shared-webhook' })).toHaveCount(0)
})
