/**
 * The bridge operations of issue 13 through the real api (createApi) on a real
 * store: scanFolder through the folder-picker port, attentionList, reportSave
 * through the save port; and the reminder scheduler through the notify port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createReminderScheduler } from '../../src/main/api/index'
import { bridgeFixture, type BridgeFixture } from './bridge-fixture'

const DAY = 86_400_000
let f: BridgeFixture
let folder: string
let leaked: { accessId: string; accessKey: string }
beforeAll(async () => {
  f = await bridgeFixture()
  if (!f.store.ok) throw new Error(f.store.problem.message)
  const s = f.store.store
  const k = s.create({ name: 'leaky', expiresIn: '90d' })
  leaked = { accessId: k.accessId, accessKey: k.accessKey }
  s.create({ name: 'soon', expiresIn: '3d' })
  folder = mkdtempSync(join(tmpdir(), 'keydesk-scan-bridge-'))
  writeFileSync(join(folder, 'app.env'), `# planted by scan-bridge.test.ts\nKEY=${k.accessKey}\n`)
})
afterAll(async () => {
  rmSync(folder, { recursive: true, force: true })
  await f?.cleanup()
})

describe('scanFolder', () => {
  it('a cancelled folder picker scans nothing', async () => {
    const r = await f.api.invoke('scanFolder', {})
    expect(r).toMatchObject({ ok: true, value: { scanned: false, folder: null, found: [] } })
    expect(f.rec.folders).toEqual(['Scan a folder for leaked keys'])
  })

  it('names a live key found in the picked folder by hint and location, never the secret', async () => {
    f.nextFolder.path = folder
    const r = await f.api.invoke('scanFolder', { git: false })
    if (!r.ok) throw new Error(r.error.message)
    expect(r.value).toMatchObject({ scanned: true, folder, live: true })
    expect(r.value.found).toEqual([
      { accessId: leaked.accessId, name: 'leaky', owner: 'tester', status: 'active', hint: leaked.accessKey.slice(0, 9), previous: false, live: true, locations: ['app.env:2'] },
    ])
    expect(JSON.stringify(r.value).includes(leaked.accessKey)).toBe(false)
  })

  it('git must be true or false; a folder outside a repository with git: true is one clear error', async () => {
    expect(await f.api.invoke('scanFolder', { git: 'yes' })).toEqual({ ok: false, error: { kind: 'invalid_input', message: '"git" must be true or false.', field: 'git' } })
    f.nextFolder.path = folder
    const r = await f.api.invoke('scanFolder', { git: true })
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error).toMatchObject({ kind: 'invalid_input', field: 'path' })
  })
})

describe('attentionList and reportSave', () => {
  it('lists the key expiring within the widest threshold, with the policy numbers', async () => {
    const r = await f.api.invoke('attentionList', {})
    if (!r.ok) throw new Error(r.error.message)
    expect(r.value).toMatchObject({ reminderDays: [30, 7, 1], staleAfterDays: 45, expiringTotal: 1, staleTotal: 0, tamperedTotal: 0 })
    expect(r.value.expiring.map((k) => k.name)).toEqual(['soon'])
  })

  it('saves the credential report owner-only; an existing file is refused naming the field', async () => {
    const r = await f.api.invoke('reportSave', {})
    if (!r.ok) throw new Error(r.error.message)
    expect(r.value.saved).toBe(true)
    const path = r.value.path!
    expect(path.endsWith('keydesk-credential-report.csv')).toBe(true)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(readFileSync(path, 'utf8').includes(leaked.accessKey)).toBe(false)
    f.nextSave.path = path
    const again = await f.api.invoke('reportSave', {})
    expect(again).toMatchObject({ ok: false, error: { kind: 'invalid_input', field: 'csv' } })
    f.nextSave.path = null
    expect(await f.api.invoke('reportSave', {})).toEqual({ ok: true, value: { saved: false, path: null } })
  })
})

describe('reminders through the notify port', () => {
  it('one notification for the crossed threshold, none on the next check', async () => {
    if (!f.store.ok) throw new Error('no store')
    const reminders = createReminderScheduler({ store: f.store, ports: portsOf(f), log: { error() {}, warn() {} }, now: () => f.clock.now() })
    expect(await reminders.check()).toHaveLength(1)
    expect(f.rec.notifications).toEqual([{ title: 'Key "soon" expires in 3 days', body: expect.stringContaining('Owner tester;') }])
    expect(await reminders.check()).toEqual([])
    f.clock.advance(2 * DAY + 1)
    await reminders.check()
    expect(f.rec.notifications.map((n) => n.title)).toEqual(['Key "soon" expires in 3 days', 'Key "soon" expires within a day'])
  })
})

/** The fixture's recording ports (its notify records into rec.notifications). */
function portsOf(fx: BridgeFixture) {
  return {
    chooseSavePath: async () => null,
    chooseOpenFile: async () => null,
    copySecret: () => {},
    chooseFolder: async () => null,
    notify: (n: { title: string; body: string }) => void fx.rec.notifications.push(n),
  }
}
