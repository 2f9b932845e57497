/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Every window size, checked by element boxes, and every screen and dialog
 * checked by axe (WCAG 2.2 AA rules plus best practices) in both colour
 * schemes at 1280 and 900 wide. The store is seeded through core with a clock
 * in the past, so "Last used 35 minutes ago", expired, revoked, disabled and
 * owner-disabled keys are all on screen. Screenshots in test-results/screens/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import AxeBuilder from '@axe-core/playwright'
import { expect, test, type Page } from '@playwright/test'
import { openKeyStore } from '../../src/main/core/index'
import { launchApp, type LaunchedApp } from './harness'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SHOTS = join(ROOT, 'test-results/screens')
const DAY = 86_400_000

test.describe.configure({ mode: 'serial' })

let app: LaunchedApp
let page: Page
let dataDir: string

const LONG_OWNER = 'data-pipeline-ingest-svc' // 24 characters
const names: Record<string, string> = {}

test.beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'keydesk-e2e-layout-'))
  let clock = Date.now() - 20 * DAY
  const store = await openKeyStore({ dataDir, actor: 'alice', now: () => clock })
  try {
    store.addOwner(LONG_OWNER, 'service')
    store.addOwner('finance-reporting-team', 'user')
    store.addOwner('ci/deployer', 'service')
    store.addOwner('retired-batch', 'service')
    store.addOwner('alice', 'user')
    const mk = (name: string, owner: string, expiresIn: string, scopes: string[]) => store.create({ name, owner, expiresIn, scopes })
    const used = mk('ingest/events-writer', LONG_OWNER, '90d', ['write:events'])
    mk('ingest/events-reader', LONG_OWNER, '90d', ['read:events'])
    mk('reports/monthly-close', 'finance-reporting-team', '21d', ['read:ledger'])
    mk('reports/expired-export', 'finance-reporting-team', '5d', ['read:ledger'])
    const dis = mk('deploy/staging', 'ci/deployer', '180d', ['deploy:staging'])
    const rev = mk('deploy/legacy-runner', 'ci/deployer', '180d', ['deploy:prod'])
    mk('batch/nightly', 'retired-batch', '90d', ['jobs:run'])
    for (let i = 1; i <= 14; i++) mk(`svc/worker-${String(i).padStart(2, '0')}`, 'alice', `${30 + i}d`, ['read'])
    clock = Date.now() - 35 * 60_000
    expect(store.verify({ accessKey: used.accessKey })).toMatchObject({ valid: true })
    store.flushLastUsed()
    store.disableKey(dis.accessId)
    store.revoke([rev.accessId], 'replaced')
    store.disableOwner('retired-batch')
    names.used = used.accessId
  } finally {
    store.close()
  }
  app = await launchApp({ dataDir, actor: 'alice', viewport: { width: 1280, height: 800 } })
  page = app.page
  await expect(page.getByRole('grid', { name: 'API keys' }).getByRole('row')).toHaveCount(22)
})
test.afterAll(async () => {
  const errors = app?.pageErrors ?? []
  await app?.close()
  expect(errors).toEqual([])
  rmSync(dataDir, { recursive: true, force: true })
})

async function shot(name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true })
  await page.waitForTimeout(80)
  await page.screenshot({ path: join(SHOTS, `${name}.png`) })
}

/** Zero axe violations (WCAG 2.0–2.2 A/AA and best practices) in the current state. Legacy mode: the harness closes any extra page (window.open is denied), which axe's default mode opens. */
async function axeClean(label: string): Promise<void> {
  const r = await new AxeBuilder({ page }).setLegacyMode(true).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze()
  const found = r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 4).join(' | ')}`)
  expect(found, `axe on ${label}`).toEqual([])
}

/** Screenshot and axe in light and dark. */
async function check(name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme })
    await shot(`${name}${scheme === 'dark' ? '-dark' : ''}`)
    await axeClean(`${name} (${scheme})`)
  }
  await page.emulateMedia({ colorScheme: 'light' })
}

const grid = () => page.getByRole('grid', { name: 'API keys' })
const rowOf = (name: string) => grid().getByRole('row').filter({ has: page.getByRole('button', { name, exact: true }) })
const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true })

/** Text that does not fit its box is cut (ellipsis): scrollWidth beyond clientWidth. */
async function truncated(selector: string): Promise<string[]> {
  return page.evaluate((sel) => {
    const out: string[] = []
    for (const el of document.querySelectorAll<HTMLElement>(sel)) {
      const r = el.getBoundingClientRect()
      if (r.width === 0) continue
      if (el.scrollWidth > el.clientWidth + 1) out.push(el.textContent ?? '')
      const cell = el.closest<HTMLElement>('.cell')
      if (cell && cell.scrollWidth > cell.clientWidth + 1) out.push(`cell: ${el.textContent ?? ''} ${cell.scrollWidth}/${cell.clientWidth}`)
    }
    return out
  }, selector)
}

test('1280×800: owner names up to 24 characters, status badges and last use are never cut', async () => {
  await page.setViewportSize({ width: 1280, height: 800 })
  await expect(rowOf('ingest/events-writer').locator('.col-used')).toHaveText('35 minutes ago')
  await expect(rowOf('batch/nightly').locator('.col-status')).toHaveText('Owner disabled')
  await expect(rowOf('deploy/staging').locator('.col-status')).toHaveText('Disabled')
  expect(await truncated('.key-table .tbody .key-owner')).toEqual([])
  expect(await truncated('.key-table .tbody .badge')).toEqual([])
  expect(await truncated('.key-table .tbody .col-used')).toEqual([])
  expect(await truncated('.key-table .tbody .col-created')).toEqual([])
  expect(await grid().evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0)
  await expect(grid().getByRole('columnheader', { name: 'Created' })).toBeVisible()
  await check('40-keys-1280')
  // With the details open beside the list, the selected row's status stays in view.
  await rowOf('ingest/events-writer').getByRole('button', { name: 'ingest/events-writer' }).click()
  const details = page.getByRole('region', { name: 'Key details' })
  await expect(details).toBeVisible()
  const status = (await rowOf('ingest/events-writer').locator('.col-status').boundingBox())!
  const panel = (await details.boundingBox())!
  expect(status.x + status.width).toBeLessThanOrEqual(panel.x)
  await check('41-keys-details-1280')
  await details.getByRole('button', { name: 'Close details' }).click()
})

for (const size of [
  { width: 900, height: 600 },
  { width: 800, height: 560 },
]) {
  test(`${size.width}×${size.height}: icon sidebar, filters in one row, Name/Owner/Status/Expires without horizontal scroll, details beside the list`, async () => {
    await page.setViewportSize(size)
    const sidebar = (await page.locator('.sidebar').boundingBox())!
    expect(sidebar.width).toBeLessThanOrEqual(72)
    for (const name of ['Keys', 'Owners', 'Policy', 'Audit log']) await expect(nav(name)).toBeVisible()
    // The filters take one row.
    const toolbar = (await page.getByRole('search', { name: 'Find keys' }).boundingBox())!
    expect(toolbar.height).toBeLessThan(64)
    await expect(page.getByRole('button', { name: 'More filters' })).toBeVisible()
    // The four main columns are inside the grid's visible width; nothing scrolls sideways.
    const g = (await grid().boundingBox())!
    for (const col of ['Name', 'Owner', 'Status', 'Expires']) {
      const h = (await grid().getByRole('columnheader', { name: col }).boundingBox())!
      expect(h.x + h.width, col).toBeLessThanOrEqual(g.x + g.width + 1)
    }
    expect(await grid().evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0)
    expect(await truncated('.key-table .tbody .key-owner')).toEqual([])
    expect(await truncated('.key-table .tbody .col-expires > .expires')).toEqual([])
    // More rows than the old six.
    expect(await grid().locator('.tbody [role="row"]').evaluateAll((rows) => rows.filter((r) => r.getBoundingClientRect().bottom <= (document.querySelector('#key-grid') as HTMLElement).getBoundingClientRect().bottom).length)).toBeGreaterThanOrEqual(size.height >= 600 ? 7 : 6)
    if (size.width === 900) await check('42-keys-900')
    else await shot('45-keys-800')
    // The folded filters open as one panel and close with Esc, back on their button.
    const more = page.getByRole('button', { name: 'More filters' })
    await more.click()
    await expect(page.getByRole('checkbox', { name: 'Expiring within 7 days' })).toBeVisible()
    if (size.width === 900) await check('43-keys-more-filters-900')
    await page.getByRole('textbox', { name: 'Scope' }).focus()
    await page.keyboard.press('Escape')
    await expect(more).toBeFocused()
    await expect(page.getByRole('checkbox', { name: 'Expiring within 7 days' })).toBeHidden()
    // Details beside the list, the selected row's status still visible.
    await rowOf('reports/monthly-close').getByRole('button', { name: 'reports/monthly-close' }).click()
    const details = page.getByRole('region', { name: 'Key details' })
    await expect(details).toBeVisible()
    const status = rowOf('reports/monthly-close').locator('.col-status')
    await expect(status).toBeVisible()
    const s = (await status.boundingBox())!
    const d = (await details.boundingBox())!
    expect(s.x + s.width).toBeLessThanOrEqual(d.x)
    expect(await grid().evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0)
    if (size.width === 900) await check('44-keys-details-900')
    else await shot('46-keys-details-800')
    await details.getByRole('button', { name: 'Close details' }).click()
  })
}

test('every screen and dialog: axe-clean in light and dark, at 1280 and 900', async () => {
  test.setTimeout(240_000)
  for (const width of [1280, 900]) {
    await page.setViewportSize({ width, height: width === 1280 ? 800 : 600 })
    await nav('Keys').click()
    // Dialogs on the keys screen.
    await page.getByRole('button', { name: 'Create API key' }).click()
    const create = page.getByRole('dialog', { name: 'Create API key' })
    await expect(create.getByRole('group', { name: 'Scopes in use' })).toBeVisible()
    await check(`50-create-${width}`)
    await create.getByRole('textbox', { name: 'Name', exact: true }).fill('draft')
    await page.keyboard.press('Escape')
    await expect(create.getByRole('button', { name: 'Keep editing' })).toBeFocused()
    await check(`51-create-discard-${width}`)
    await create.getByRole('button', { name: 'Discard' }).click()
    await expect(create).toBeHidden()

    await rowOf('ingest/events-writer').getByRole('button', { name: 'ingest/events-writer' }).click()
    const details = page.getByRole('region', { name: 'Key details' })
    await details.getByRole('button', { name: 'Reset access key' }).click()
    await check(`52-reset-${width}`)
    await page.keyboard.press('Escape')
    await details.getByRole('button', { name: 'Edit key' }).click()
    await expect(page.getByRole('dialog', { name: 'Edit API key' })).toBeVisible()
    await check(`53-edit-${width}`)
    await page.keyboard.press('Escape')
    await details.getByRole('button', { name: 'Revoke key' }).click()
    await check(`54-revoke-one-${width}`)
    await page.keyboard.press('Escape')
    await details.getByRole('button', { name: 'Close details' }).click()

    for (const n of ['svc/worker-01', 'svc/worker-02', 'reports/expired-export']) await rowOf(n).getByRole('checkbox').check()
    await page.getByRole('button', { name: /^Revoke selected/ }).click()
    const bulk = page.getByRole('dialog', { name: /^Revoke/ })
    await expect(bulk.getByRole('textbox', { name: 'Type the number of keys to confirm' })).toBeVisible()
    await check(`55-revoke-bulk-${width}`)
    await page.keyboard.press('Escape')
    await page.getByRole('button', { name: 'Clear selection' }).click()

    await nav('Owners').click()
    await expect(page.getByRole('heading', { level: 1, name: 'Owners' })).toBeVisible()
    // Owner names on one line, every action reachable without scrolling sideways.
    const ownerCell = page.getByRole('rowheader', { name: new RegExp(LONG_OWNER) }).locator('.break')
    expect((await ownerCell.boundingBox())!.height).toBeLessThan(26)
    expect(await page.locator('.table-card').evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0)
    await expect(page.getByRole('button', { name: `Revoke all keys of ${LONG_OWNER}` })).toBeInViewport()
    await check(`56-owners-${width}`)
    await page.getByRole('button', { name: `Revoke all keys of ${LONG_OWNER}` }).click()
    await check(`57-owner-revoke-all-${width}`)
    await page.keyboard.press('Escape')
    await nav('Policy').click()
    await page.getByRole('textbox', { name: 'Maximum key age' }).fill('60')
    await page.getByRole('textbox', { name: 'Default expiry' }).fill('90')
    await expect(page.getByRole('region', { name: 'What these values would catch' })).toContainText('longer than 60 days')
    await check(`58-policy-conflict-${width}`)
    await page.getByRole('button', { name: 'Discard changes' }).click()
    await nav('Audit log').click()
    await expect(page.getByRole('table').getByRole('row').nth(1)).toBeVisible()
    // Names, not the store's field names; details keep a readable width; an access ID is never broken.
    await expect(page.getByRole('table')).not.toContainText('expiresAt')
    await expect(page.getByRole('table')).toContainText('Reasonreplaced')
    expect(await page.locator('.audit-table .kv').evaluateAll((els) => Math.min(...els.map((e) => e.getBoundingClientRect().width)))).toBeGreaterThan(150)
    for (const id of await page.locator('.audit-table .col-target .mono').all()) expect((await id.boundingBox())!.height).toBeLessThan(24)
    await check(`59-audit-${width}`)
  }
})
