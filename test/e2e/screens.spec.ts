/// <reference lib="dom" />
/// <reference path="../../src/renderer/src/keydesk.d.ts" />
/**
 * The admin's jobs, end to end through the built renderer on a real store with
 * the real keychain (harness.ts), checked against the real CLI:
 * create → Download CSV (CLI verifies the key in it) → reset with a wrong then a
 * right confirmation → revoke one → bulk revoke (picked rows, then select-all on
 * a filtered view) → owner revoke-all → policy what-if → audit verify.
 * Every step leaves screenshots in test-results/screens/ (light and dark).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Papa from 'papaparse'
import { expect, test, type Locator, type Page } from '@playwright/test'
import { launchApp, type LaunchedApp } from './harness'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const NODE = join(ROOT, 'node_modules/.bin/node')
const CLI = join(ROOT, 'bin/keydesk.js')
const SHOTS = join(ROOT, 'test-results/screens')

test.describe.configure({ mode: 'serial' })

let app: LaunchedApp
let page: Page

async function shot(name: string, opts: { dark?: boolean; target?: Locator } = {}): Promise<void> {
  mkdirSync(SHOTS, { recursive: true })
  const take = async (suffix: string) => {
    await page.waitForTimeout(60)
    mkdirSync(SHOTS, { recursive: true }) // (another run may have just cleaned test-results/)
    if (opts.target) await opts.target.screenshot({ path: join(SHOTS, `${name}${suffix}.png`) })
    else await page.screenshot({ path: join(SHOTS, `${name}${suffix}.png`) })
  }
  await take('')
  if (opts.dark !== false) {
    await page.emulateMedia({ colorScheme: 'dark' })
    await take('-dark')
    await page.emulateMedia({ colorScheme: 'light' })
  }
}

function cliVerify(key: string): { status: number | null; json: Record<string, unknown> } {
  const r = spawnSync(NODE, [CLI, '--data-dir', app.dataDir, 'verify', '--key', key, '--json'], { encoding: 'utf8', timeout: 30_000 })
  expect(r.stderr).toBe('')
  return { status: r.status, json: JSON.parse(r.stdout) as Record<string, unknown> }
}

const keysNav = () => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Keys', exact: true })
const row = (name: string) => page.getByRole('row').filter({ has: page.getByRole('button', { name, exact: true }) })
const statusOf = (name: string) => row(name).locator('.col-status')
/** A field's error is shown next to it and is part of its accessible description (aria-describedby). */
async function errorAt(control: Locator, text: string): Promise<void> {
  await expect(control).toHaveAttribute('aria-invalid', 'true')
  await expect(control).toHaveAccessibleDescription(new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
  const id = (await control.getAttribute('aria-describedby'))!.split(' ')[0]!
  await expect(page.locator(`[id="${id}"]`)).toBeVisible()
}
/** The "Expiring within 7 days" filter, folded behind "More filters" below 1440 px. */
async function expiringToggle(): Promise<Locator> {
  const more = page.getByRole('button', { name: /^More filters/ })
  if ((await more.isVisible()) && (await more.getAttribute('aria-expanded')) !== 'true') await more.click()
  return page.getByRole('checkbox', { name: 'Expiring within 7 days' })
}
const secretDialog = () => page.getByRole('dialog', { name: 'Save your access key' })

/** Issue keys straight through window.keydesk (setup for the bulk flows, not what is under test). */
async function seed(keys: { name: string; owner?: string; scopes?: string[]; expiresIn?: string }[]): Promise<void> {
  const errors = await page.evaluate(async (list) => {
    const out: string[] = []
    for (const k of list) {
      const r = await window.keydesk.keysCreate(k)
      if (!r.ok) out.push(`${k.name}: ${r.error.message}`)
      else await window.keydesk.credentialsDiscard({ handoffId: r.value.handoffId })
    }
    return out
  }, keys)
  expect(errors).toEqual([])
}

test.beforeAll(async () => {
  app = await launchApp({ actor: 'alice', viewport: { width: 1360, height: 860 } })
  page = app.page
})
test.afterAll(async () => {
  expect(app.pageErrors).toEqual([])
  await app?.close()
})

test('first run: an empty state that says what to do', async () => {
  await expect(page.getByRole('heading', { level: 1, name: 'API keys' })).toBeVisible()
  await expect(page.getByText('No API keys yet')).toBeVisible()
  await expect(page.getByRole('button', { name: 'Create your first key' })).toBeEnabled()
  for (const name of ['Keys', 'Owners', 'Policy', 'Audit log'])
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true })).toBeVisible()
  await shot('01-empty')
})

let created: { accessId: string; accessKey: string }

test('create a key: field errors at the field, then the one-time panel and its CSV, verified by the CLI', async () => {
  const opener = page.getByRole('button', { name: 'Create API key' })
  await opener.click()
  const dialog = page.getByRole('dialog', { name: 'Create API key' })
  await expect(dialog).toBeVisible()
  const name = dialog.getByRole('textbox', { name: 'Name', exact: true })
  await expect(name).toBeFocused()

  // Field errors appear at the field as the admin types.
  await name.fill('=HYPERLINK("x")')
  await expect(name).toHaveAttribute('aria-invalid', 'true')
  await errorAt(name, 'must not begin with =, +, -, @')
  await dialog.getByRole('textbox', { name: 'Scopes' }).fill('read:invoices bad scope!')
  await errorAt(dialog.getByRole('textbox', { name: 'Scopes' }), 'Scope "scope!" is not valid')
  // Expiry: policy default preselected; a custom date reveals a bounded date input.
  const expires = dialog.getByRole('combobox', { name: 'Expires in' })
  await expect(expires).toHaveValue('30d')
  await expires.selectOption({ label: 'Custom date' })
  const date = dialog.getByLabel('Expiration date')
  await expect(date).toBeVisible()
  expect(await date.getAttribute('max')).toMatch(/^\d{4}-\d{2}-\d{2}$/)
  await date.fill('2001-01-01')
  await errorAt(date, 'or later')
  await shot('02-create-errors', { target: dialog })

  await name.fill('payments/stripe-webhook')
  await dialog.getByRole('textbox', { name: 'Scopes' }).fill('read:invoices write:refunds')
  await expires.selectOption({ label: '90 days' })
  await expect(date).toBeHidden()
  await dialog.getByRole('textbox', { name: 'Description' }).fill('Receives Stripe events in the payments service')
  await expect(dialog.getByRole('combobox', { name: 'Owner' })).toHaveValue('alice')
  await expect(dialog.locator('[aria-invalid="true"]')).toHaveCount(0)
  await shot('03-create-filled', { target: dialog })
  await dialog.getByRole('button', { name: 'Create key' }).click()

  const panel = secretDialog()
  await expect(panel).toBeVisible()
  const accessId = await panel.getByRole('textbox', { name: 'Access ID' }).inputValue()
  const accessKey = await panel.getByRole('textbox', { name: 'Access Key', exact: true }).inputValue()
  expect(accessId).toMatch(/^kdid_[0-9A-Za-z]{16}$/)
  expect(accessKey).toMatch(/^kdsk_[0-9A-Za-z]{38}$/)
  await expect(panel.getByRole('textbox', { name: 'Access Key', exact: true })).toHaveAttribute('readonly', '')
  const done = panel.getByRole('button', { name: 'Done' })
  await expect(done).toBeDisabled()
  // Esc does not dismiss an unsaved secret.
  await page.keyboard.press('Escape')
  await expect(panel).toBeVisible()
  await shot('04-one-time-panel')

  await panel.getByRole('button', { name: 'Copy access key' }).click()
  await expect(panel.getByRole('status')).toContainText('clears it from the clipboard in 30 seconds')
  expect(app.clipboard.text).toBe(accessKey)

  await panel.getByRole('button', { name: 'Download CSV' }).click()
  await expect(panel.getByRole('status')).toContainText('Saved to')
  await expect(done).toBeEnabled()
  const files = readdirSync(app.downloadsDir).filter((f) => f.includes(accessId))
  expect(files).toHaveLength(1)
  const csvPath = join(app.downloadsDir, files[0]!)
  expect(statSync(csvPath).mode & 0o777).toBe(0o600)
  const csv = Papa.parse<string[]>(readFileSync(csvPath, 'utf8').replace(/^\ufeff/, ''), { skipEmptyLines: true }).data
  expect(csv[0]).toEqual(['Name', 'Access ID', 'Access Key', 'Owner', 'Scopes', 'Expires At'])
  expect(csv).toHaveLength(2)
  const [csvName, csvId, csvKey, csvOwner, csvScopes] = csv[1]!
  expect({ csvName, csvId, csvKey, csvOwner, csvScopes }).toEqual({
    csvName: 'payments/stripe-webhook',
    csvId: accessId,
    csvKey: accessKey,
    csvOwner: 'alice',
    csvScopes: 'read:invoices write:refunds',
  })
  // The real CLI, on the same store, accepts the key from the CSV.
  const v = cliVerify(csvKey!)
  expect(v.status).toBe(0)
  expect(v.json).toMatchObject({ valid: true, accessId, owner: 'alice', scopes: ['read:invoices', 'write:refunds'] })
  await shot('05-one-time-saved', { dark: false })

  await done.click()
  await expect(panel).toBeHidden()
  // The secret is gone from the renderer, and focus is back on the opener.
  expect(await page.content()).not.toContain(accessKey)
  await expect(opener).toBeFocused()
  await expect(row('payments/stripe-webhook')).toBeVisible()
  await expect(statusOf('payments/stripe-webhook')).toHaveText('Active')
  created = { accessId, accessKey }
})

test('seed more keys and owners for the list, bulk and owner flows', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Owners', exact: true }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Owners' })).toBeVisible()
  // Add an owner through the screen.
  await page.getByRole('button', { name: 'Add owner' }).click()
  const add = page.getByRole('dialog', { name: 'Add owner' })
  await add.getByRole('textbox', { name: 'Name' }).fill('ci/deployer')
  await add.getByRole('radio', { name: /Service account/ }).check()
  await shot('06-add-owner', { target: add, dark: false })
  await add.getByRole('button', { name: 'Add owner' }).click()
  await expect(add).toBeHidden()
  await expect(page.getByRole('row', { name: /ci\/deployer/ })).toContainText('Service account')
  const other = await page.evaluate(() => window.keydesk.ownersAdd({ name: 'billing-svc', kind: 'service' }))
  expect(other.ok).toBe(true)

  await seed([
    ...[1, 2, 3, 4, 5].map((i) => ({ name: `batch/job-${i}`, owner: 'billing-svc', scopes: ['jobs:run'] })),
    { name: 'deploy/production', owner: 'ci/deployer', scopes: ['deploy:prod'], expiresIn: '3d' },
    { name: 'deploy/staging', owner: 'ci/deployer', scopes: ['deploy:staging'], expiresIn: '200d' },
    { name: 'deploy/preview-environments-for-every-pull-request-in-the-monorepo', owner: 'ci/deployer', scopes: ['deploy:preview'] },
    { name: 'reports/nightly', scopes: ['read:reports'], expiresIn: '2d' },
    { name: 'analytics/ingest', scopes: ['write:events', 'read:events'], expiresIn: '300d' },
  ])
  await page.reload()
  await expect(row('deploy/production')).toBeVisible()
  await expect(page.getByRole('grid', { name: 'API keys' }).getByRole('row')).toHaveCount(12) // header + 11
  await shot('07-keys-list')
})

test('find keys: search as you type, filters, sort by column', async () => {
  const search = page.getByRole('searchbox', { name: 'Search keys' })
  await page.locator('h1').click()
  await page.keyboard.press('/')
  await expect(search).toBeFocused()
  await search.pressSequentially('deploy', { delay: 20 })
  await expect(page.getByRole('grid', { name: 'API keys' }).getByRole('row')).toHaveCount(4)
  await search.fill('')
  await (await expiringToggle()).check()
  await expect(page.getByRole('grid', { name: 'API keys' }).getByRole('row')).toHaveCount(3)
  await expect(row('deploy/production')).toContainText('in 3 days')
  await shot('08-expiring-soon', { dark: false })
  await (await expiringToggle()).uncheck()
  await page.getByRole('button', { name: /^More filters/ }).click()

  const nameHeader = page.getByRole('columnheader', { name: 'Name' })
  await nameHeader.getByRole('button').click()
  await expect(nameHeader).toHaveAttribute('aria-sort', 'ascending')
  await expect(page.getByRole('grid', { name: 'API keys' }).getByRole('row').nth(1)).toContainText('analytics/ingest')
  await nameHeader.getByRole('button').click()
  await expect(nameHeader).toHaveAttribute('aria-sort', 'descending')
  await expect(page.getByRole('grid', { name: 'API keys' }).getByRole('row').nth(1)).toContainText('reports/nightly')
  await page.getByRole('columnheader', { name: 'Expires' }).getByRole('button').click()
  await expect(page.getByRole('columnheader', { name: 'Expires' })).toHaveAttribute('aria-sort', 'ascending')
  await expect(page.getByRole('grid', { name: 'API keys' }).getByRole('row').nth(1)).toContainText('reports/nightly')
  await shot('09-sorted-by-expiry', { dark: false })
  await page.getByRole('combobox', { name: 'Status' }).selectOption({ label: 'Revoked' })
  await expect(page.getByText('No keys match')).toBeVisible()
  await shot('10-no-match', { dark: false })
  await page.getByRole('button', { name: 'Clear all filters' }).click()
  await expect(row('payments/stripe-webhook')).toBeVisible()
})

test('reset: a wrong confirmation keeps the button disabled; the right one issues a new key, the old one works through the grace', async () => {
  await row('payments/stripe-webhook').getByRole('button', { name: 'payments/stripe-webhook' }).click()
  const details = page.getByRole('region', { name: 'Key details' })
  await expect(details).toBeVisible()
  await expect(details).toContainText(created.accessId)
  await expect(details).toContainText('read:invoices')
  await expect(details).toContainText('Receives Stripe events')
  await shot('11-details')

  const opener = details.getByRole('button', { name: 'Reset access key' })
  await opener.click()
  const dialog = page.getByRole('dialog', { name: 'Reset access key' })
  await expect(dialog).toContainText('alice')
  await expect(dialog).toContainText('write:refunds')
  const confirm = dialog.getByRole('textbox', { name: 'Type the key name to confirm' })
  const button = dialog.getByRole('button', { name: 'Reset access key' })
  await confirm.fill('payments/Stripe-webhook')
  await expect(button).toBeDisabled()
  await confirm.fill('payments/stripe-webhook ')
  await expect(button).toBeDisabled()
  await shot('12-reset-wrong', { target: dialog })
  await confirm.fill('payments/stripe-webhook')
  await expect(button).toBeEnabled()
  await dialog.getByRole('combobox', { name: 'Old access key keeps working for' }).selectOption({ label: '1 hour' })
  await shot('13-reset-right', { target: dialog, dark: false })
  await button.click()

  const panel = secretDialog()
  await expect(panel).toBeVisible()
  const newKey = await panel.getByRole('textbox', { name: 'Access Key', exact: true }).inputValue()
  expect(await panel.getByRole('textbox', { name: 'Access ID' }).inputValue()).toBe(created.accessId)
  expect(newKey).not.toBe(created.accessKey)
  await expect(panel).toContainText('works until')
  expect(cliVerify(newKey)).toMatchObject({ status: 0, json: { valid: true, accessId: created.accessId } })
  expect(cliVerify(created.accessKey)).toMatchObject({ status: 0, json: { valid: true } }) // grace: 1 hour
  await panel.getByRole('checkbox', { name: 'I have saved this access key' }).check()
  await panel.getByRole('button', { name: 'Done' }).click()
  await expect(panel).toBeHidden()
  await expect(opener).toBeFocused()
  expect(await page.content()).not.toContain(newKey)
  await expect(details).toContainText('Previous key')
  created.accessKey = newKey
})

test('revoke one key from its details', async () => {
  const details = page.getByRole('region', { name: 'Key details' })
  await details.getByRole('button', { name: 'Revoke key' }).click()
  const dialog = page.getByRole('dialog', { name: /^Revoke/ })
  await expect(dialog).toContainText('payments/stripe-webhook')
  await expect(dialog).toContainText('cannot be')
  await dialog.getByRole('textbox', { name: 'Reason' }).fill('Stripe account closed')
  await shot('14-revoke-one', { target: dialog })
  await dialog.getByRole('button', { name: 'Revoke', exact: true }).click()
  await expect(dialog).toBeHidden()
  await expect(statusOf('payments/stripe-webhook')).toHaveText('Revoked')
  await expect(details).toContainText('Stripe account closed')
  await expect(details.getByRole('button', { name: 'Reset access key' })).toBeDisabled()
  expect(cliVerify(created.accessKey)).toMatchObject({ status: 1, json: { valid: false, reason: 'revoked' } })
  await shot('15-revoked')
  await details.getByRole('button', { name: 'Close details' }).click()
})

test('bulk revoke: picked rows with names in the confirmation, then select-all on a filtered view', async () => {
  await page.getByRole('searchbox', { name: 'Search keys' }).fill('batch')
  await expect(page.getByRole('grid', { name: 'API keys' }).getByRole('row')).toHaveCount(6)
  await page.getByRole('checkbox', { name: 'Select batch/job-1' }).check()
  await page.getByRole('checkbox', { name: 'Select batch/job-2' }).check()
  const bulk = page.getByRole('button', { name: /^Revoke selected/ })
  await expect(bulk).toHaveText('Revoke selected (2)')
  await shot('16-bulk-selected')
  await bulk.click()
  let dialog = page.getByRole('dialog', { name: /^Revoke/ })
  await expect(dialog.getByRole('heading')).toHaveText('Revoke 2 keys?')
  await expect(dialog.getByRole('group', { name: 'Keys to revoke' }).getByRole('listitem')).toHaveText([/batch\/job-1/, /batch\/job-2/])
  // Two keys that work now: the number is typed first.
  await expect(dialog.getByRole('button', { name: 'Revoke', exact: true })).toBeDisabled()
  await dialog.getByRole('textbox', { name: 'Type the number of keys to confirm' }).fill('2')
  await shot('17-bulk-confirm', { target: dialog })
  await dialog.getByRole('button', { name: 'Revoke', exact: true }).click()
  await expect(dialog).toBeHidden()
  await expect(statusOf('batch/job-1')).toHaveText('Revoked')
  await expect(statusOf('batch/job-2')).toHaveText('Revoked')
  await expect(statusOf('batch/job-3')).toHaveText('Active')

  // Select all on the filtered view: only the three keys not yet revoked count.
  await page.getByRole('checkbox', { name: 'Select all keys in this view' }).check()
  await expect(bulk).toHaveText('Revoke selected (3)')
  await bulk.click()
  dialog = page.getByRole('dialog', { name: /^Revoke/ })
  await expect(dialog.getByRole('heading')).toHaveText('Revoke 3 keys?')
  await expect(dialog.getByRole('group', { name: 'Keys to revoke' }).getByRole('listitem')).toHaveText([/batch\/job-3/, /batch\/job-4/, /batch\/job-5/])
  await dialog.getByRole('textbox', { name: 'Type the number of keys to confirm' }).fill('3')
  await dialog.getByRole('textbox', { name: 'Reason' }).fill('batch system retired')
  await shot('18-select-all-confirm', { target: dialog, dark: false })
  await dialog.getByRole('button', { name: 'Revoke', exact: true }).click()
  await expect(dialog).toBeHidden()
  for (const i of [1, 2, 3, 4, 5]) await expect(statusOf(`batch/job-${i}`)).toHaveText('Revoked')
  await expect(page.getByRole('button', { name: /^Revoke selected/ })).toHaveCount(0)
  await page.getByRole('searchbox', { name: 'Search keys' }).fill('')
})

test('owner revoke-all after typing the owner name', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Owners', exact: true }).click()
  const ownerRow = page.getByRole('row', { name: /ci\/deployer/ })
  await expect(ownerRow.getByRole('cell').nth(1)).toHaveText('3') // active
  await shot('19-owners')
  await ownerRow.getByRole('button', { name: 'Revoke all keys of ci/deployer' }).click()
  const dialog = page.getByRole('dialog', { name: 'Revoke all keys of ci/deployer?' })
  const confirm = dialog.getByRole('textbox', { name: 'Type the owner name to confirm' })
  const button = dialog.getByRole('button', { name: 'Revoke all keys' })
  await confirm.fill('ci/Deployer')
  await expect(button).toBeDisabled()
  await shot('20-owner-revoke-all', { target: dialog })
  await confirm.fill('ci/deployer')
  await expect(button).toBeEnabled()
  await button.click()
  await expect(dialog).toBeHidden()
  await expect(ownerRow.getByRole('cell').nth(1)).toHaveText('0')
  await expect(ownerRow.getByRole('cell').nth(3)).toHaveText('3') // revoked
  // Disable an owner: a plain confirmation, then the owner is marked and its row muted.
  const billing = page.getByRole('row', { name: /billing-svc/ })
  await billing.getByRole('button', { name: 'Disable billing-svc' }).click()
  const disable = page.getByRole('dialog', { name: 'Disable billing-svc?' })
  await expect(disable).toContainText('none of its keys verify')
  await disable.getByRole('button', { name: 'Disable owner' }).click()
  await expect(disable).toBeHidden()
  await expect(billing).toContainText('Disabled')
  await expect(billing.getByRole('button', { name: 'Disable billing-svc' })).toHaveCount(0)
  await shot('20b-owners-after')
  // Enable undoes it (the owner's revoked keys stay revoked), and disabling works again.
  await billing.getByRole('button', { name: 'Enable billing-svc' }).click()
  await expect(billing).not.toContainText('Disabled')
  await expect(billing.getByRole('button', { name: 'Disable billing-svc' })).toBeEnabled()
  await billing.getByRole('button', { name: 'Disable billing-svc' }).click()
  await page.getByRole('dialog', { name: 'Disable billing-svc?' }).getByRole('button', { name: 'Disable owner' }).click()
  await expect(billing).toContainText('Disabled')
  await keysNav().click()
  await page.getByRole('combobox', { name: 'Belongs to' }).selectOption('ci/deployer')
  await expect(statusOf('deploy/production')).toHaveText('Revoked')
  await expect(statusOf('deploy/staging')).toHaveText('Revoked')
  await page.getByRole('combobox', { name: 'Belongs to' }).selectOption('')
})

test('policy what-if: the preview lists what a tighter policy would catch before Save policy', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policy', exact: true }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Policy' })).toBeVisible()
  const save = page.getByRole('button', { name: 'Save policy' })
  await expect(save).toBeDisabled()
  await page.getByRole('textbox', { name: 'Maximum key age' }).fill('60')
  await page.getByRole('textbox', { name: 'Maximum keys per owner' }).fill('4')
  const preview = page.getByRole('region', { name: 'What these values would catch' })
  // analytics/ingest (300 days) is the only active key over 60 days; billing-svc holds 5 keys.
  await expect(preview).toContainText('1 active key lives longer than 60 days')
  await expect(preview.getByRole('table')).toContainText('analytics/ingest')
  await expect(preview).toContainText('1 owner holds more than 4 keys')
  await expect(preview).toContainText('billing-svc')
  // The preview comes before the button that saves.
  const previewBox = (await preview.boundingBox())!
  const saveBox = (await save.boundingBox())!
  expect(previewBox.y).toBeLessThan(saveBox.y)
  await expect(save).toBeEnabled()
  // A rule the policy refuses is shown at its field, and saving waits.
  await page.getByRole('textbox', { name: 'Default expiry' }).fill('90')
  await errorAt(page.getByRole('textbox', { name: 'Default expiry' }), 'cannot be longer than the maximum key age')
  await expect(save).toBeDisabled()
  await page.getByRole('textbox', { name: 'Default expiry' }).fill('14')
  await expect(save).toBeEnabled()
  await shot('21-policy-what-if')
  await save.click()
  await expect(page.getByRole('status').filter({ hasText: 'Policy saved' })).toBeVisible()
  await expect(save).toBeDisabled()
  const policy = await page.evaluate(() => window.keydesk.policyGet({}))
  expect(policy).toMatchObject({ ok: true, value: { maxKeyAgeDays: 60, maxKeysPerOwner: 4, defaultExpiryDays: 14 } })
  // The create dialog now follows it: default 14 days, nothing beyond 60.
  await keysNav().click()
  await page.getByRole('button', { name: 'Create API key' }).click()
  const create = page.getByRole('dialog', { name: 'Create API key' })
  await expect(create.getByRole('combobox', { name: 'Expires in' })).toHaveValue('14d')
  await expect(create.getByRole('combobox', { name: 'Expires in' }).getByRole('option')).toHaveText(['7 days', '14 days', '30 days', 'Custom date'])
  await page.keyboard.press('Escape')
  await expect(create).toBeHidden()
  await expect(page.getByRole('button', { name: 'Create API key' })).toBeFocused()
})

test('audit log: newest first, filter, verify integrity, export CSV', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log', exact: true }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible()
  const rows = page.getByRole('table').getByRole('row')
  await expect(rows.nth(1)).toContainText('Policy changed')
  await page.getByRole('combobox', { name: 'Action' }).selectOption({ label: 'Key reset' })
  await expect(rows).toHaveCount(2)
  await expect(rows.nth(1)).toContainText(created.accessId)
  await page.getByRole('combobox', { name: 'Action' }).selectOption('')
  await page.getByRole('searchbox', { name: 'Target' }).fill(created.accessId)
  await expect(rows.nth(1)).toContainText(created.accessId)
  // Newest first: revoke, reset, the credential CSV saved (its file name carries the access ID), create.
  await expect(rows).toHaveCount(5)
  await expect(rows.nth(1)).toContainText('Key revoked')
  await expect(rows.nth(2)).toContainText('Key reset')
  await expect(rows.nth(3)).toContainText('Credential CSV saved')
  await expect(rows.nth(4)).toContainText('Key created')
  await page.getByRole('searchbox', { name: 'Target' }).fill('')
  await expect(rows).not.toHaveCount(5)
  await page.getByRole('button', { name: 'Verify integrity' }).click()
  await expect(page.getByRole('status').filter({ hasText: 'The audit log is intact' })).toBeVisible()
  await page.getByRole('button', { name: 'Check whole store' }).click()
  await expect(page.getByRole('status').filter({ hasText: 'The whole store is intact' })).toBeVisible()
  await shot('22-audit-verified')
  await page.getByRole('button', { name: 'Export CSV' }).click()
  await expect(page.getByRole('status').filter({ hasText: 'Audit log saved to' })).toBeVisible()
  const audit = readdirSync(app.downloadsDir).find((f) => f.startsWith('keydesk-audit-log'))
  expect(audit).toBeTruthy()
  const csv = Papa.parse<string[]>(readFileSync(join(app.downloadsDir, audit!), 'utf8'), { skipEmptyLines: true }).data
  expect(csv[0]).toEqual(['ID', 'Time', 'Actor', 'Action', 'Target', 'Detail'])
  expect(csv.some((r) => r[3] === 'key.revoke' && r[4] === created.accessId)).toBe(true)
  // The CLI agrees with the verdict.
  const r = spawnSync(NODE, [CLI, '--data-dir', app.dataDir, 'audit', '--verify', '--json'], { encoding: 'utf8', timeout: 30_000 })
  expect(r.status).toBe(0)
})

test('keyboard: every dialog closes with Esc and returns focus to its opener', async () => {
  await keysNav().click()
  await row('deploy/preview-environments-for-every-pull-request-in-the-monorepo').getByRole('button').first().focus()
  await page.keyboard.press('Enter')
  const details = page.getByRole('region', { name: 'Key details' })
  await expect(details).toBeVisible()
  await expect(details.getByRole('heading', { level: 2 })).toBeFocused()
  await shot('23-long-name-details', { dark: false })
  // Esc in the panel closes it and puts focus back on the row it came from.
  await page.keyboard.press('Escape')
  await expect(details).toBeHidden()
  await expect(row('deploy/preview-environments-for-every-pull-request-in-the-monorepo').getByRole('button').first()).toBeFocused()
  await row('analytics/ingest').getByRole('button', { name: 'analytics/ingest' }).click()
  const revoke = details.getByRole('button', { name: 'Revoke key' })
  await revoke.focus()
  await page.keyboard.press('Enter')
  await expect(page.getByRole('dialog', { name: /^Revoke/ })).toBeVisible()
  await page.keyboard.press('Escape')
  await expect(page.getByRole('dialog')).toHaveCount(0)
  await expect(revoke).toBeFocused()
  // Tab stays inside an open dialog.
  await details.getByRole('button', { name: 'Reset access key' }).click()
  const dialog = page.getByRole('dialog', { name: 'Reset access key' })
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => !!document.activeElement?.closest('dialog'))).toBe(true)
  }
  await page.keyboard.press('Escape')
  await expect(dialog).toBeHidden()
})

test('bulk issue from a CSV of names: one panel, one credential CSV with every key', async () => {
  const restored = await page.evaluate(() => window.keydesk.policySet({ maxKeysPerOwner: 100, maxKeyAgeDays: 365 }))
  expect(restored.ok).toBe(true)
  const input = join(app.downloadsDir, 'names-to-import.csv')
  writeFileSync(input, 'Name,Scopes,Expires In\nimport/alpha,read,30d\nimport/beta,read write,30d\nimport/gamma,,7d\n')
  app.setNextOpenFile(input)
  await keysNav().click()
  await page.getByRole('button', { name: 'Import CSV' }).click()
  const panel = secretDialog()
  await expect(panel).toBeVisible()
  await expect(panel.getByRole('group', { name: 'Issued keys' }).getByRole('row')).toHaveCount(4)
  await expect(panel.getByRole('button', { name: 'Done' })).toBeDisabled()
  await shot('24-import-panel')
  await panel.getByRole('button', { name: 'Download CSV' }).click()
  await expect(panel.getByRole('button', { name: 'Done' })).toBeEnabled()
  const file = readdirSync(app.downloadsDir).find((f) => f.startsWith('keydesk-credentials-3-keys'))
  expect(file).toBeTruthy()
  const rows = Papa.parse<string[]>(readFileSync(join(app.downloadsDir, file!), 'utf8'), { skipEmptyLines: true }).data
  expect(rows.map((r) => r[0])).toEqual(['Name', 'import/alpha', 'import/beta', 'import/gamma'])
  for (const r of rows.slice(1)) expect(cliVerify(r[2]!)).toMatchObject({ status: 0, json: { valid: true, accessId: r[1] } })
  await panel.getByRole('button', { name: 'Done' }).click()
  await expect(panel).toBeHidden()
  for (const r of rows.slice(1)) expect(await page.content()).not.toContain(r[2]!)
  await expect(row('import/beta')).toBeVisible()
})
