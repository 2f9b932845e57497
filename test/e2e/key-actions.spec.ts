/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference path="../../src/renderer/src/keydesk.d.ts" />
/**
 * Issue 10, end to end on a real store, checked with the real CLI: the reset's
 * grace default (with and without recent use), a reset inside a grace period,
 * edit, disable/enable (CLI verify answers "disabled"; the CLI's own disable
 * shows in the app), the policy preview surviving a conflict, the keyboard-only
 * create → CSV → reset → revoke, the grid's keys, focus after every action,
 * a selection that survives a search still answering and a sort, and an audit
 * entry's target opening its key.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Papa from 'papaparse'
import { expect, test, type Locator, type Page } from '@playwright/test'
import { launchApp, type LaunchedApp } from './harness'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const NODE = join(ROOT, 'node_modules/.bin/node')
const CLI = join(ROOT, 'bin/keydesk.js')

test.describe.configure({ mode: 'serial' })

let app: LaunchedApp
let page: Page

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(NODE, [CLI, '--data-dir', app.dataDir, ...args], { encoding: 'utf8', timeout: 30_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}
function verify(key: string): { status: number | null; json: Record<string, unknown> } {
  const r = cli('verify', '--key', key, '--json')
  expect(r.stderr).toBe('')
  return { status: r.status, json: JSON.parse(r.stdout) as Record<string, unknown> }
}

const grid = () => page.getByRole('grid', { name: 'API keys' })
const row = (name: string) => grid().getByRole('row').filter({ has: page.getByRole('button', { name, exact: true }) })
const details = () => page.getByRole('region', { name: 'Key details' })
const secretPanel = () => page.getByRole('dialog', { name: 'Save your access key' })
const focusedName = () => page.evaluate(() => {
  const el = document.activeElement as HTMLElement | null
  if (!el || el === document.body) return 'BODY'
  return el.getAttribute('aria-label') ?? el.textContent?.trim() ?? el.tagName
})
async function tabTo(target: Locator, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) return
    await page.keyboard.press('Tab')
  }
  throw new Error(`Tab never reached the target (focus on ${await focusedName()})`)
}

async function issue(name: string, extra: Record<string, unknown> = {}): Promise<{ accessId: string; accessKey: string }> {
  const r = await page.evaluate(
    async (input) => {
      const res = await window.keydesk.keysCreate(input)
      if (!res.ok) return { error: res.error.message }
      await window.keydesk.credentialsDiscard({ handoffId: res.value.handoffId })
      return { accessId: res.value.keys[0]!.accessId, accessKey: res.value.keys[0]!.accessKey }
    },
    { name, ...extra },
  )
  if ('error' in r) throw new Error(r.error)
  return r
}

async function doneWithPanel(): Promise<string> {
  const panel = secretPanel()
  await expect(panel).toBeVisible()
  const key = await panel.getByRole('textbox', { name: 'Access Key', exact: true }).inputValue()
  await panel.getByRole('checkbox', { name: 'I have saved this access key' }).check()
  await panel.getByRole('button', { name: 'Done' }).click()
  await expect(panel).toBeHidden()
  return key
}

type Issued = { accessId: string; accessKey: string }
const keys = {} as Record<'idle' | 'busy' | 'edit' | 'toggle', Issued> & Record<string, Issued | undefined>

test.beforeAll(async () => {
  app = await launchApp({ actor: 'alice', viewport: { width: 1280, height: 800 } })
  page = app.page
  await page.evaluate(() => window.keydesk.ownersAdd({ name: 'billing-svc', kind: 'service' }))
  keys.idle = await issue('rotate/idle', { scopes: ['read:invoices'] })
  keys.busy = await issue('rotate/busy', { scopes: ['read:invoices'], owner: 'billing-svc' })
  keys.edit = await issue('edit/me', { scopes: ['read:invoices'] })
  keys.toggle = await issue('toggle/me', { scopes: ['jobs:run'] })
  for (let i = 1; i <= 8; i++) keys[`w${i}`] = await issue(`worker/w${i}`, { scopes: ['jobs:run'] })
  // The busy key is used now (through the real CLI): its reset must default to a grace period.
  expect(verify(keys.busy.accessKey).status).toBe(0)
  await page.reload()
  await expect(row('rotate/busy')).toBeVisible()
})
test.afterAll(async () => {
  const errors = app?.pageErrors ?? []
  await app?.close()
  expect(errors).toEqual([])
})

test('reset defaults to no grace for an unused key and to 24 hours for one used in the last 7 days; the grace comes first', async () => {
  await row('rotate/idle').getByRole('button', { name: 'rotate/idle' }).click()
  await details().getByRole('button', { name: 'Reset access key' }).click()
  let dialog = page.getByRole('dialog', { name: 'Reset access key' })
  const grace = dialog.getByRole('combobox', { name: 'Old access key keeps working for' })
  await expect(grace).toBeFocused()
  await expect(grace).toHaveValue('')
  // The name field comes after the grace choice in Tab order.
  await page.keyboard.press('Tab')
  await expect(dialog.getByRole('textbox', { name: 'Type the key name to confirm' })).toBeFocused()
  // Enter with a wrong name shows the field error.
  await page.keyboard.type('rotate/Idle')
  await page.keyboard.press('Enter')
  const confirm = dialog.getByRole('textbox', { name: 'Type the key name to confirm' })
  await expect(confirm).toHaveAttribute('aria-invalid', 'true')
  await expect(confirm).toHaveAccessibleDescription(/not the key's name exactly/)
  await page.keyboard.press('Escape')
  await expect(dialog).toBeHidden()

  await row('rotate/busy').getByRole('button', { name: 'rotate/busy' }).click()
  await details().getByRole('button', { name: 'Reset access key' }).click()
  dialog = page.getByRole('dialog', { name: 'Reset access key' })
  await expect(dialog.getByRole('combobox', { name: 'Old access key keeps working for' })).toHaveValue('24h')
  await expect(dialog).toContainText(/Used (just now|\d+ minutes? ago), so 24 hours is chosen/)
  await dialog.getByRole('textbox', { name: 'Type the key name to confirm' }).fill('rotate/busy')
  await dialog.getByRole('button', { name: 'Reset access key' }).click()
  const first = await doneWithPanel()
  await expect(page.getByRole('status').filter({ hasText: 'Reset “rotate/busy”. The old access key works until' })).toBeVisible()
  expect(verify(keys.busy.accessKey).status).toBe(0) // grace
  expect(verify(first).status).toBe(0)
  keys.busy1 = { accessId: keys.busy.accessId, accessKey: first }
})

test('reset inside a grace period: the previous key’s grace end is shown and must be kept or ended, never replaced silently', async () => {
  await details().getByRole('button', { name: 'Reset access key' }).click()
  const dialog = page.getByRole('dialog', { name: 'Reset access key' })
  const group = dialog.getByRole('group', { name: /previous access key is still in its grace period/ })
  await expect(group).toContainText(/Works until .* \(in 24 hours\)/)
  await dialog.getByRole('textbox', { name: 'Type the key name to confirm' }).fill('rotate/busy')
  await dialog.getByRole('button', { name: 'Reset access key' }).click()
  await expect(group).toHaveAttribute('aria-invalid', 'true')
  mkdirSync(join(ROOT, 'test-results/screens'), { recursive: true })
  await expect(group).toContainText('Choose what happens to the previous access key first.')
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme })
    await dialog.screenshot({ path: join(ROOT, 'test-results/screens', `60-reset-inside-grace${scheme === 'dark' ? '-dark' : ''}.png`) })
  }
  await page.emulateMedia({ colorScheme: 'light' })
  await expect(secretPanel()).toHaveCount(0)
  await group.getByRole('radio', { name: 'Keep it working until then' }).check()
  await dialog.getByRole('button', { name: 'Reset access key' }).click()
  const second = await doneWithPanel()
  // All three secrets verify: the original and the first reset are both in grace.
  for (const k of [keys.busy.accessKey, keys.busy1!.accessKey, second]) expect(verify(k).status).toBe(0)
  await expect(details()).toContainText('Previous key 1')
  await expect(details()).toContainText('Previous key 2')
  // With two previous keys in grace a new grace period cannot keep both: ending them is the choice left.
  await details().getByRole('button', { name: 'Reset access key' }).click()
  const again = page.getByRole('dialog', { name: 'Reset access key' })
  await expect(again.getByRole('radio', { name: 'Keep them working until then' })).toBeDisabled()
  await again.getByRole('radio', { name: 'End them now' }).check()
  await again.getByRole('textbox', { name: 'Type the key name to confirm' }).fill('rotate/busy')
  await again.getByRole('button', { name: 'Reset access key' }).click()
  const third = await doneWithPanel()
  expect(verify(keys.busy.accessKey).status).toBe(1)
  expect(verify(keys.busy1!.accessKey).status).toBe(1)
  expect(verify(second).status).toBe(0) // the one just replaced, in its own new grace
  expect(verify(third).status).toBe(0)
  await details().getByRole('button', { name: 'Close details' }).click()
})

test('edit a key: name, scopes from the picker, expiry within policy; the secret is untouched and the audit log says what changed', async () => {
  await row('edit/me').getByRole('button', { name: 'edit/me' }).click()
  await details().getByRole('button', { name: 'Edit key' }).click()
  const dialog = page.getByRole('dialog', { name: 'Edit API key' })
  await dialog.getByRole('textbox', { name: 'Name' }).fill('edit/renamed')
  await dialog.getByRole('group', { name: 'Scopes in use' }).getByRole('button', { name: /jobs:run/ }).click()
  await expect(dialog.getByRole('textbox', { name: 'Scopes' })).toHaveValue('read:invoices jobs:run ')
  await dialog.getByRole('textbox', { name: 'Scopes' }).focus()
  await page.keyboard.press('End')
  await page.keyboard.type('write:new')
  await dialog.getByRole('combobox', { name: 'Expiry' }).selectOption({ label: '7 days from now' })
  await dialog.getByRole('button', { name: 'Save changes' }).click()
  await expect(dialog).toBeHidden()
  await expect(page.getByRole('status').filter({ hasText: 'Saved 3 changes to “edit/renamed”.' })).toBeVisible()
  await expect(details().getByRole('heading', { level: 2 })).toHaveText('edit/renamed')
  const shown = JSON.parse(cli('show', keys.edit.accessId, '--json').stdout) as { name: string; scopes: string[]; expiresAt: string }
  expect(shown.name).toBe('edit/renamed')
  expect([...shown.scopes].sort()).toEqual(['jobs:run', 'read:invoices', 'write:new'])
  expect(new Date(shown.expiresAt).getTime() - Date.now()).toBeLessThan(7 * 86_400_000 + 60_000)
  expect(verify(keys.edit.accessKey)).toMatchObject({ status: 0, json: { valid: true } })
  // A name that is taken stays in the dialog, with the error at the Name field.
  await details().getByRole('button', { name: 'Edit key' }).click()
  await dialog.getByRole('textbox', { name: 'Name' }).fill('rotate/idle')
  await dialog.getByRole('button', { name: 'Save changes' }).click()
  await expect(dialog.getByRole('textbox', { name: 'Name' })).toHaveAttribute('aria-invalid', 'true')
  await page.keyboard.press('Escape')
  await dialog.getByRole('button', { name: 'Discard' }).click()
  await expect(dialog).toBeHidden()
  await details().getByRole('button', { name: 'Close details' }).click()
})

test('disable and enable one key: verify answers "disabled" through the CLI; the CLI’s own disable shows in the app', async () => {
  await row('toggle/me').getByRole('button', { name: 'toggle/me' }).click()
  const button = details().getByRole('button', { name: 'Disable key' })
  await button.click()
  await expect(details().getByRole('button', { name: 'Enable key' })).toBeFocused()
  await expect(row('toggle/me').locator('.col-status')).toHaveText('Disabled')
  expect(verify(keys.toggle.accessKey)).toMatchObject({ status: 1, json: { valid: false, reason: 'disabled' } })
  await details().getByRole('button', { name: 'Enable key' }).click()
  await expect(row('toggle/me').locator('.col-status')).toHaveText('Active')
  expect(verify(keys.toggle.accessKey)).toMatchObject({ status: 0, json: { valid: true } })
  await details().getByRole('button', { name: 'Close details' }).click()

  const off = cli('disable', 'toggle/me', '--reason', 'incident 42')
  expect(off).toMatchObject({ status: 0, stderr: '' })
  expect(off.stdout).toContain('Disabled')
  await page.getByRole('combobox', { name: 'Status' }).selectOption({ label: 'Disabled' })
  await expect(grid().getByRole('row')).toHaveCount(2)
  await expect(row('toggle/me').locator('.col-status')).toHaveText('Disabled')
  expect(cli('enable', keys.toggle.accessId)).toMatchObject({ status: 0, stderr: '' })
  expect(cli('edit', keys.toggle.accessId, '--description', 'toggled from the CLI')).toMatchObject({ status: 0, stderr: '' })
  await page.getByRole('combobox', { name: 'Status' }).selectOption({ label: 'All' })
  const audit = JSON.parse(cli('audit', '--json', '--limit', '5').stdout) as { action: string }[]
  expect(audit.map((e) => e.action).slice(0, 4)).toEqual(['key.update', 'key.enable', 'key.disable', 'key.enable'])
})

test('the grid is one Tab stop: arrows, Home/End, PageUp/PageDown, Space selects, Enter opens; the bulk bar is one Tab away', async () => {
  const search = page.getByRole('searchbox', { name: 'Search keys' })
  await search.focus()
  await tabTo(grid().locator('.row-name[tabindex="0"]'))
  const first = await focusedName()
  await page.keyboard.press('ArrowDown')
  await expect.poll(focusedName).not.toBe(first)
  await page.keyboard.press('End')
  await expect(grid().locator('[data-row-index="11"] .row-name')).toBeFocused()
  await page.keyboard.press('Home')
  await expect(grid().locator('[data-row-index="0"] .row-name')).toBeFocused()
  await page.keyboard.press('PageDown')
  const focusedIndex = () => page.evaluate(() => Number((document.activeElement?.closest('[data-row-index]') as HTMLElement | null)?.dataset.rowIndex ?? -1))
  await expect.poll(focusedIndex).toBeGreaterThan(3)
  const afterPage = await focusedIndex()
  await expect(page.locator(`[data-row-index="${afterPage}"]`)).toBeInViewport()
  await page.keyboard.press('PageUp')
  await expect(grid().locator('[data-row-index="0"] .row-name')).toBeFocused()
  // Only one element of the grid is in the Tab order.
  expect(await grid().evaluate((g) => [...g.querySelectorAll('button, input, [tabindex]')].filter((e) => (e as HTMLElement).tabIndex >= 0).length)).toBe(1)
  // Space selects (and does not open); the bulk bar is the next Tab stop.
  await page.keyboard.press('Space')
  await expect(grid().locator('[data-row-index="0"]')).toHaveAttribute('aria-selected', 'true')
  await expect(details()).toHaveCount(0)
  await page.keyboard.press('Tab')
  await expect(page.getByRole('button', { name: 'Revoke selected (1)' })).toBeFocused()
  await page.keyboard.press('Shift+Tab')
  await expect(grid().locator('[data-row-index="0"] .row-name')).toBeFocused()
  // Clear selection: the bar goes away and focus returns to the grid, not the page body.
  await page.keyboard.press('Tab')
  await page.keyboard.press('Tab')
  await expect(page.getByRole('button', { name: 'Clear selection' })).toBeFocused()
  await page.keyboard.press('Enter')
  await expect(page.getByRole('region', { name: 'Selection' })).toHaveCount(0)
  expect(await focusedName()).not.toBe('BODY')
  await expect(grid().locator('.row-name[tabindex="0"]')).toBeFocused()
  // ArrowUp from the first row reaches the column headers; Enter there sorts.
  await page.keyboard.press('Home')
  await expect(grid().locator('[data-row-index="0"] .row-name')).toBeFocused()
  await page.keyboard.press('ArrowUp')
  await expect(grid().getByRole('columnheader', { name: 'Name' }).getByRole('button')).toBeFocused()
  await page.keyboard.press('Enter')
  await expect(grid().getByRole('columnheader', { name: 'Name' })).toHaveAttribute('aria-sort', 'ascending')
  await expect(grid().locator('[data-row-index="0"] .row-name')).toHaveText('edit/renamed')
  await page.keyboard.press('ArrowDown')
  await expect(grid().locator('[data-row-index="0"] .row-name')).toBeFocused()
  await page.keyboard.press('Enter')
  await expect(details()).toBeVisible()
  await expect(details().getByRole('heading', { level: 2 })).toBeFocused()
  await page.keyboard.press('Escape')
  await page.getByRole('combobox', { name: 'Sort' }).selectOption({ label: 'Newest first' })
})

test('a selection survives a search that is still answering, and a sort', async () => {
  await row('worker/w1').getByRole('checkbox').check()
  const search = page.getByRole('searchbox', { name: 'Search keys' })
  // Type a search and tick another row before the search has answered (the list still shows the old rows).
  await search.fill('worker/w')
  await row('worker/w2').getByRole('checkbox').check()
  await expect(grid().getByRole('row')).toHaveCount(9)
  await expect(page.getByRole('region', { name: 'Selection' })).toContainText('2 keys selected')
  await expect(row('worker/w1').getByRole('checkbox')).toBeChecked()
  await expect(row('worker/w2').getByRole('checkbox')).toBeChecked()
  await grid().getByRole('columnheader', { name: 'Name' }).getByRole('button').click()
  await expect(grid().getByRole('columnheader', { name: 'Name' })).toHaveAttribute('aria-sort', 'ascending')
  await expect(page.getByRole('region', { name: 'Selection' })).toContainText('2 keys selected')
  await expect(row('worker/w2').getByRole('checkbox')).toBeChecked()
  // Clear filters takes its button away: focus goes to the search box.
  await page.getByRole('button', { name: 'Clear filters' }).click()
  await expect(search).toBeFocused()
  await expect(page.getByRole('region', { name: 'Selection' })).toContainText('2 keys selected')
  await page.getByRole('button', { name: 'Clear selection' }).click()
  await page.getByRole('combobox', { name: 'Sort' }).selectOption({ label: 'Newest first' })
})

test('keyboard only: create → Download CSV → reset → revoke, focus always somewhere visible', async () => {
  const create = page.getByRole('button', { name: 'Create API key' })
  await page.getByRole('heading', { level: 1, name: 'API keys' }).focus()
  await tabTo(create)
  await page.keyboard.press('Enter')
  const dialog = page.getByRole('dialog', { name: 'Create API key' })
  await expect(dialog.getByRole('textbox', { name: 'Name', exact: true })).toBeFocused()
  await page.keyboard.type('keyboard/only')
  await page.keyboard.press('Enter')
  const panel = secretPanel()
  await expect(panel.getByRole('button', { name: 'Download CSV' })).toBeFocused()
  const accessId = await panel.getByRole('textbox', { name: 'Access ID' }).inputValue()
  await page.keyboard.press('Enter')
  await expect(panel.getByRole('status')).toContainText('Saved to')
  // Saving does not take focus away (the button is never disabled under it).
  await expect(panel.getByRole('button', { name: 'Download CSV' })).toBeFocused()
  const file = readdirSync(app.downloadsDir).find((f) => f.includes(accessId))!
  const csv = Papa.parse<string[]>(readFileSync(join(app.downloadsDir, file), 'utf8').replace(/^\ufeff/, ''), { skipEmptyLines: true }).data
  expect(verify(csv[1]![2]!).json).toMatchObject({ valid: true, accessId })
  await tabTo(panel.getByRole('button', { name: 'Done' }))
  await page.keyboard.press('Enter')
  await expect(panel).toBeHidden()
  await expect(create).toBeFocused()
  await expect(page.getByRole('status').filter({ hasText: 'Created “keyboard/only” for alice.' })).toBeVisible()

  // To the grid (one stop), open the new key (newest first), reset it.
  await tabTo(grid().locator('.row-name[tabindex="0"]'))
  await page.keyboard.press('Home')
  await expect(grid().locator('[data-row-index="0"] .row-name')).toHaveText('keyboard/only')
  await page.keyboard.press('Enter')
  await expect(details().getByRole('heading', { level: 2 })).toBeFocused()
  await tabTo(details().getByRole('button', { name: 'Reset access key' }))
  await page.keyboard.press('Enter')
  const reset = page.getByRole('dialog', { name: 'Reset access key' })
  await expect(reset.getByRole('combobox', { name: 'Old access key keeps working for' })).toBeFocused()
  await page.keyboard.press('Tab')
  await page.keyboard.type('keyboard/only')
  await page.keyboard.press('Enter')
  await expect(panel).toBeVisible()
  const newKey = await panel.getByRole('textbox', { name: 'Access Key', exact: true }).inputValue()
  await page.keyboard.press('Enter') // Download CSV (focused)
  await expect(panel.getByRole('status')).toContainText('Saved to')
  await tabTo(panel.getByRole('button', { name: 'Done' }))
  await page.keyboard.press('Enter')
  await expect(details().getByRole('button', { name: 'Reset access key' })).toBeFocused()
  expect(verify(newKey).status).toBe(0)
  expect(verify(csv[1]![2]!).status).toBe(1) // never used: no grace by default

  // Revoke: the Revoke key button is disabled afterwards, so focus goes to the details, not the body.
  await tabTo(details().getByRole('button', { name: 'Revoke key' }))
  await page.keyboard.press('Enter')
  const revoke = page.getByRole('dialog', { name: /^Revoke/ })
  await expect(revoke.getByRole('button', { name: 'Cancel' })).toBeFocused()
  await page.keyboard.press('Tab')
  await expect(revoke.getByRole('button', { name: 'Revoke', exact: true })).toBeFocused()
  await page.keyboard.press('Enter')
  await expect(revoke).toBeHidden()
  expect(await focusedName()).not.toBe('BODY')
  await expect(details().getByRole('heading', { level: 2 })).toBeFocused()
  expect(verify(newKey).json).toMatchObject({ valid: false, reason: 'revoked' })
  await page.keyboard.press('Escape')
})

test('policy: a conflict is shown at its field, the preview still counts the rest, Discard always works', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policy', exact: true }).click()
  await page.getByRole('textbox', { name: 'Maximum key age' }).fill('60')
  await page.getByRole('textbox', { name: 'Default expiry' }).fill('90')
  const field = page.getByRole('textbox', { name: 'Default expiry' })
  await expect(field).toHaveAttribute('aria-invalid', 'true')
  await expect(field).toHaveAccessibleDescription(/cannot be longer than the maximum key age/)
  const preview = page.getByRole('region', { name: 'What these values would catch' })
  await expect(preview).toContainText('longer than 60 days')
  await expect(preview).toContainText('Default expiry is not valid yet')
  await expect(page.getByText('2 settings changed')).toBeVisible()
  await expect(page.getByRole('button', { name: 'Save policy' })).toBeDisabled()
  const discard = page.getByRole('button', { name: 'Discard changes' })
  await expect(discard).toBeEnabled()
  await discard.click()
  await expect(page.getByRole('textbox', { name: 'Maximum key age' })).toHaveValue('365')
  await expect(field).toHaveValue('30')
  await expect(page.getByText('No changes.')).toBeVisible()
  // An invalid value alone (not a conflict) can be discarded too.
  await page.getByRole('textbox', { name: 'Retention' }).fill('abc')
  await expect(discard).toBeEnabled()
  await discard.click()
  await expect(page.getByRole('textbox', { name: 'Retention' })).toHaveValue('90')
})

test('audit log: an entry’s target opens its key', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log', exact: true }).click()
  await page.getByRole('combobox', { name: 'Action' }).selectOption({ label: 'Key edited' })
  const target = page.getByRole('table').getByRole('button', { name: keys.edit.accessId })
  await expect(page.getByRole('table')).toContainText('Name')
  await expect(page.getByRole('table')).toContainText('edit/me → edit/renamed')
  await target.click()
  await expect(page.getByRole('heading', { level: 1, name: 'API keys' })).toBeVisible()
  await expect(details().getByRole('heading', { level: 2 })).toHaveText('edit/renamed')
})
