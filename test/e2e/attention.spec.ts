/// <reference lib="dom" />
/// <reference path="../../src/renderer/src/keydesk.d.ts" />
/**
 * Issue 13 end to end through the built renderer (harness.ts) on a real store:
 * expiry reminders through the harness's notification port (threshold crossed →
 * one notification; many at once → one grouped; restart → none), the "Needs
 * attention" screen (expiring, stale with the counted bulk revoke, tampered), the
 * credential report button, and "Scan a folder for leaked keys" (folder-picker
 * port) with a Revoke button. The planted key lives only in a temp dir removed
 * at the end, and the page never shows it.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import keytar from 'keytar'
import { expect, test, type Page } from '@playwright/test'
import { openKeyStore } from '../../src/main/core/index'
import { KEYCHAIN_SERVICE } from '../../src/main/core/keychain'
import { launchApp, type LaunchedApp } from './harness'

const DAY = 86_400_000
const SHOTS = fileURLToPath(new URL('../../test-results/screens/', import.meta.url))

test.describe.configure({ mode: 'serial' })

let root: string
let dataDir: string
let storeId: string
let leaked: { accessId: string; accessKey: string }
let app: LaunchedApp | undefined
let page: Page

test.beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'keydesk-e2e-attn-'))
  dataDir = join(root, 'data')
  // The store before the app starts: one key 5 days from expiry, a stale one issued
  // 60 days ago and never used, one whose row is edited outside KeyDesk, and one
  // whose secret sits in a project folder.
  const past = { t: Date.now() - 60 * DAY }
  const old = await openKeyStore({ dataDir, actor: 'alice', now: () => past.t })
  try {
    storeId = old.health().storeId
    old.create({ name: 'forgotten', expiresIn: '200d' })
  } finally {
    old.close()
  }
  const s = await openKeyStore({ dataDir, actor: 'alice' })
  try {
    s.create({ name: 'deploy', expiresIn: '5d' })
    const edited = s.create({ name: 'edited', expiresIn: '90d' })
    const k = s.create({ name: 'leaky', expiresIn: '90d' })
    leaked = { accessId: k.accessId, accessKey: k.accessKey }
    s.verify({ accessKey: k.accessKey }) // used: not stale
    s.verify({ accessKey: edited.accessKey })
    s.flushLastUsed()
    const db = s.database
    db.prepare('UPDATE keys SET scopes = ? WHERE access_id = ?').run('admin', edited.accessId)
  } finally {
    s.close()
  }
  writeFileSync(join(root, 'project.env'), `# planted by attention.spec.ts\nKEYDESK_KEY=${leaked.accessKey}\n`)
})

test.afterAll(async () => {
  if (app) {
    expect(app.pageErrors).toEqual([])
    await app.close()
  }
  rmSync(root, { recursive: true, force: true })
  if (storeId) await keytar.deletePassword(KEYCHAIN_SERVICE, storeId).catch(() => false)
})

test('reminders: a crossed threshold makes one notification at start; many at once one grouped; a restart none', async () => {
  app = await launchApp({ dataDir, actor: 'alice', viewport: { width: 1360, height: 900 } })
  page = app.page
  expect(app.notifications).toEqual([{ title: 'Key "deploy" expires in 4 days', body: expect.stringMatching(/^Owner alice; expires \d{4}-\d{2}-\d{2} /) }])
  expect(await app.checkReminders()).toBe(0)

  const errors = await page.evaluate(async () => {
    const out: string[] = []
    for (let i = 1; i <= 4; i++) {
      const r = await window.keydesk.keysCreate({ name: `batch-${i}`, expiresIn: `${i + 1}d` })
      if (!r.ok) out.push(r.error.message)
      else await window.keydesk.credentialsDiscard({ handoffId: r.value.handoffId })
    }
    return out
  })
  expect(errors).toEqual([])
  expect(await app.checkReminders()).toBe(1)
  expect(app.notifications).toHaveLength(2)
  expect(app.notifications[1]!.title).toBe('4 keys expire within 7 days')
  expect(app.notifications[1]!.body).toMatch(/^"batch-1" \(alice\) within a day|^"batch-1" \(alice\) in 1 day/)

  await app.close()
  app = await launchApp({ dataDir, actor: 'alice', viewport: { width: 1360, height: 900 } })
  page = app.page
  expect(app.notifications).toEqual([])
  expect(await app.checkReminders()).toBe(0)
})

test('Needs attention lists expiring, stale and tampered keys', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Needs attention' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Needs attention' })).toBeVisible()
  const expiring = page.getByRole('region', { name: /Expiring within 30 days/ })
  await expect(expiring.getByRole('row')).toHaveCount(6) // header + deploy + 4 batch keys
  await expect(expiring.getByRole('button', { name: 'deploy', exact: true })).toBeVisible()
  const stale = page.getByRole('region', { name: /Unused for 45 days or more/ })
  await expect(stale.getByRole('button', { name: 'forgotten', exact: true })).toBeVisible()
  await expect(stale.getByRole('row')).toHaveCount(2)
  const tampered = page.getByRole('region', { name: /Edited outside KeyDesk/ })
  await expect(tampered.getByRole('button', { name: 'edited', exact: true })).toBeVisible()
  await page.screenshot({ path: join(SHOTS, 'attention.png') })
})

test('"Show in Keys" filters the key list to the stale set; the filter and the badge are in the Keys screen', async () => {
  await page.getByRole('region', { name: /Unused for 45 days or more/ }).getByRole('button', { name: 'Show in Keys' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'API keys' })).toBeVisible()
  // The filter is among the folded ones, and the button counts it, so an admin sees it is on.
  const more = page.getByRole('button', { name: /More filters/ })
  if (await more.isVisible()) {
    await expect(more).toHaveText(/More filters \(1\)/)
    await more.click()
  }
  const toggle = page.getByRole('checkbox', { name: 'Unused for 45+ days' })
  await expect(toggle).toBeChecked()
  const rows = page.getByRole('row').filter({ has: page.getByRole('button', { name: 'forgotten', exact: true }) })
  await expect(rows).toHaveCount(1)
  await expect(rows.first()).toContainText('Active · unused')
  await expect(page.getByRole('row').filter({ has: page.getByRole('button', { name: 'deploy', exact: true }) })).toHaveCount(0)
  await toggle.uncheck()
  await expect(page.getByRole('row').filter({ has: page.getByRole('button', { name: 'deploy', exact: true }) })).toHaveCount(1)
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Needs attention' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Needs attention' })).toBeVisible()
})

test('the stale set is revoked through the counted revoke-matching confirmation', async () => {
  const stale = page.getByRole('region', { name: /Unused for 45 days or more/ })
  await stale.getByRole('button', { name: 'Revoke 1 stale key…' }).click()
  const dialog = page.getByRole('dialog', { name: 'Revoke 1 key?' })
  await expect(dialog).toContainText('unused for 45 days or more')
  await expect(dialog.getByText('forgotten')).toBeVisible()
  await dialog.getByRole('button', { name: 'Revoke' }).click()
  await expect(page.getByRole('status').filter({ hasText: 'Revoked 1 key.' })).toBeVisible()
  await expect(stale).toContainText('Every active key was used within 45 days.')
  const forgotten = await page.evaluate(() => window.keydesk.keysList({ search: 'forgotten', status: 'all' }))
  expect(forgotten.ok && forgotten.value.items.map((k) => k.status)).toEqual(['revoked'])
})

test('the credential report button saves an owner-only CSV without secrets', async () => {
  await page.getByRole('button', { name: 'Credential report' }).click()
  await expect(page.getByRole('status').filter({ hasText: 'Credential report saved to' })).toBeVisible()
  const path = app!.savedFiles.at(-1)!
  expect(path.endsWith('keydesk-credential-report.csv')).toBe(true)
  expect(statSync(path).mode & 0o777).toBe(0o600)
  const text = readFileSync(path, 'utf8')
  expect(text.split('\r\n')[0]).toBe('Name,Access ID,Owner,Owner Kind,Status,Created,Last Reset,Last Used,Expires,Age Days,Days Until Expiry,Scopes')
  expect(text.includes(leaked.accessKey)).toBe(false)
  expect(text).toContain(',tampered,')
})

test('scan a folder for leaked keys: cancel does nothing; a found live key is named (never shown) and revoked', async () => {
  app!.setNextFolder(null)
  await page.getByRole('button', { name: 'Scan a folder for leaked keys' }).click()
  await expect(page.getByRole('button', { name: 'Scan a folder for leaked keys' })).toBeEnabled()
  await expect(page.getByRole('region', { name: /Leak scan of/ })).toHaveCount(0)

  app!.setNextFolder(root)
  await page.getByRole('button', { name: 'Scan a folder for leaked keys' }).click()
  const results = page.getByRole('region', { name: `Leak scan of ${root}` })
  await expect(results).toBeVisible()
  const item = results.getByRole('listitem').filter({ hasText: 'leaky' }).first()
  await expect(item).toContainText('Live')
  await expect(item).toContainText('project.env:2')
  await expect(item).toContainText(`${leaked.accessKey.slice(0, 9)}…`)
  expect((await page.content()).includes(leaked.accessKey)).toBe(false)
  await page.screenshot({ path: join(SHOTS, 'attention-scan.png') })

  await item.getByRole('button', { name: 'Revoke leaky' }).click()
  const dialog = page.getByRole('dialog', { name: 'Revoke “leaky”?' })
  await expect(dialog).toContainText(`leaked in ${root}/project.env:2`)
  await dialog.getByRole('button', { name: 'Revoke' }).click()
  await expect(page.getByRole('status').filter({ hasText: 'Revoked “leaky”.' })).toBeVisible()
  await expect(item).toContainText('Revoked')
  await expect(item.getByRole('button', { name: 'Revoke leaky' })).toHaveCount(0)

  const db = new Database(join(dataDir, 'keydesk.sqlite'), { readonly: true })
  try {
    expect(db.prepare('SELECT status, revoked_reason FROM keys WHERE access_id = ?').get(leaked.accessId)).toEqual({ status: 'revoked', revoked_reason: `leaked in ${root}/project.env:2` })
  } finally {
    db.close()
  }
})

test('policy: reminder thresholds and stale-after-days are settings, checked at the field', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policy', exact: true }).click()
  const reminders = page.getByRole('textbox', { name: 'Expiry reminders' })
  await expect(reminders).toHaveValue('30, 7, 1')
  await expect(page.getByRole('textbox', { name: 'Flag keys unused for' })).toHaveValue('45')
  await reminders.fill('7, 7')
  await expect(reminders).toHaveAttribute('aria-invalid', 'true')
  await expect(reminders).toHaveAccessibleDescription(/1 to 5 different numbers of days/)
  const save = page.getByRole('button', { name: 'Save policy' })
  await expect(save).toBeDisabled()
  await reminders.fill('3 14')
  await page.getByRole('textbox', { name: 'Flag keys unused for' }).fill('30')
  await expect(save).toBeEnabled()
  await save.click()
  await expect(page.getByRole('status').filter({ hasText: 'Policy saved' })).toBeVisible()
  const policy = await page.evaluate(() => window.keydesk.policyGet({}))
  expect(policy).toMatchObject({ ok: true, value: { reminderDays: [14, 3], staleAfterDays: 30 } })
  await expect(reminders).toHaveValue('14, 3')
})
