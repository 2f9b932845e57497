/**
 * The credential report CSV and the expiry calendar (ICS), from a real store on
 * a test clock. The report is read back with papaparse, the calendar with
 * ical.js (a separate, well-kept RFC 5545 parser).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Papa from 'papaparse'
import ICAL from 'ical.js'
import { REPORT_FIELDS, credentialReportCsv, writeCredentialReport } from '../../src/main/core/report'
import { expiryCalendar, writeExpiryCalendar } from '../../src/main/core/calendar'
import { KeydeskError } from '../../src/main/core/errors'
import { DAY, T0, openTestStore, type TestStore } from './support'

let t: TestStore
let out: string
const secrets: string[] = []
beforeAll(async () => {
  t = await openTestStore()
  out = mkdtempSync(join(tmpdir(), 'keydesk-report-'))
  t.store.addOwner('ci-bot', 'service')
  secrets.push(t.store.create({ name: 'svc/payments', owner: 'ci-bot', scopes: ['read', 'write'], expiresIn: '90d' }).accessKey)
  secrets.push(t.store.create({ name: 'short-lived', owner: 'ci-bot', expiresIn: '11d' }).accessKey)
  t.clock.advance(3 * DAY)
  const used = t.store.create({ name: 'used', expiresIn: '30d' })
  secrets.push(used.accessKey)
  t.clock.advance(2 * DAY)
  expect(t.store.verify({ accessKey: used.accessKey }).valid).toBe(true)
  t.store.flushLastUsed()
  secrets.push(t.store.reset('used', { confirm: 'used' }).accessKey)
  const gone = t.store.create({ name: 'gone' })
  secrets.push(gone.accessKey)
  t.store.revoke([gone.accessId], 'done')
  t.clock.advance(5 * DAY) // now = T0 + 10 days
})
afterAll(async () => {
  rmSync(out, { recursive: true, force: true })
  await t.cleanup()
})

function rowsOf(path: string): Record<string, string>[] {
  return Papa.parse<Record<string, string>>(readFileSync(path, 'utf8'), { header: true, skipEmptyLines: true }).data
}

describe('credential report', () => {
  it('one row per key in the AWS credential report shape: no secret, formula-safe, owner-only', () => {
    const path = join(out, 'report.csv')
    const r = writeCredentialReport(t.store, path, t.clock.now())
    expect(r).toEqual({ path, rows: 4 })
    const text = readFileSync(path, 'utf8')
    expect(text.split('\r\n')[0]).toBe(REPORT_FIELDS.join(','))
    expect(REPORT_FIELDS).toEqual(['Name', 'Access ID', 'Owner', 'Owner Kind', 'Status', 'Created', 'Last Reset', 'Last Used', 'Expires', 'Age Days', 'Days Until Expiry', 'Scopes'])
    expect(text.includes('\r\n\r\n')).toBe(false)
    expect(secrets.some((s) => text.includes(s))).toBe(false)
    expect(/kdsk_[0-9A-Za-z]{5,}/.test(text)).toBe(false) // not even a hint
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const rows = rowsOf(path)
    const by = Object.fromEntries(rows.map((x) => [x.Name, x]))
    expect(by['svc/payments']).toMatchObject({ Owner: 'ci-bot', 'Owner Kind': 'service', Status: 'active', 'Age Days': '10', 'Days Until Expiry': '80', Scopes: 'read write', 'Last Reset': '', 'Last Used': '' })
    expect(by['svc/payments']!.Created).toBe(new Date(T0).toISOString())
    expect(by['used']).toMatchObject({ 'Owner Kind': 'user', Status: 'active', 'Age Days': '7', 'Days Until Expiry': '23' })
    expect(by['used']!['Last Used']).toBe(new Date(T0 + 5 * DAY).toISOString())
    expect(by['used']!['Last Reset']).toBe(new Date(T0 + 5 * DAY).toISOString())
    expect(by['gone']).toMatchObject({ Status: 'revoked', 'Days Until Expiry': '' })
    expect(by['short-lived']).toMatchObject({ Status: 'active', 'Days Until Expiry': '1' })
  })

  it('cells that would run as formulas (a row edited outside KeyDesk) are escaped', () => {
    const k = t.store.list({ limit: 1 }).items[0]!
    const evil = { ...k, name: '=HYPERLINK("http://x")', owner: '+cmd|x', scopes: ['@SUM(1)'], tampered: true }
    const source = { *iterateKeys() { yield evil } }
    const rows = Papa.parse<Record<string, string>>(credentialReportCsv(source, t.clock.now()).text, { header: true, skipEmptyLines: true }).data
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ Name: `'=HYPERLINK("http://x")`, Owner: `'+cmd|x`, Scopes: `'@SUM(1)`, Status: 'tampered' })
  })

  it('an expired key shows negative days until expiry', () => {
    t.clock.advance(5 * DAY)
    const path = join(out, 'later.csv')
    writeCredentialReport(t.store, path, t.clock.now())
    const row = rowsOf(path).find((x) => x.Name === 'short-lived')!
    expect(row).toMatchObject({ Status: 'expired', 'Days Until Expiry': '-4' })
    t.clock.advance(-5 * DAY)
  })

  it('refuses an existing file or symlink, naming the field, and leaves it as it was', () => {
    const existing = join(out, 'exists.csv')
    writeFileSync(existing, 'keep me')
    const link = join(out, 'link.csv')
    symlinkSync(join(out, 'nowhere.csv'), link)
    for (const p of [existing, link]) {
      let err: unknown
      try {
        writeCredentialReport(t.store, p)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(KeydeskError)
      expect((err as KeydeskError).field).toBe('csv')
      expect((err as KeydeskError).message).toMatch(/already exists/)
    }
    expect(readFileSync(existing, 'utf8')).toBe('keep me')
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(() => lstatSync(join(out, 'nowhere.csv'))).toThrow()
  })
})

describe('expiry calendar (RFC 5545)', () => {
  it('one event per key expiry with display alarms at the reminder thresholds; ical.js parses it', () => {
    const keys = t.store.list({ status: 'active', sort: 'expires', order: 'asc' }).items
    const path = join(out, 'expiry.ics')
    const r = writeExpiryCalendar(keys, [30, 7, 1], path)
    expect(r.events).toBe(keys.length)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const text = readFileSync(path, 'utf8')
    expect(secrets.some((s) => text.includes(s))).toBe(false)
    const cal = new ICAL.Component(ICAL.parse(text))
    expect(cal.getFirstPropertyValue('version')).toBe('2.0')
    expect(String(cal.getFirstPropertyValue('prodid'))).toContain('KeyDesk')
    const events = cal.getAllSubcomponents('vevent').map((c) => new ICAL.Event(c))
    expect(events).toHaveLength(keys.length)
    for (const k of keys) {
      const e = events.find((x) => x.uid.startsWith(k.accessId))!
      expect(e.summary).toBe(`KeyDesk key "${k.name}" (${k.owner}) expires`)
      expect(e.startDate.toJSDate().getTime()).toBe(Math.floor(Date.parse(k.expiresAt) / 1000) * 1000)
      expect(e.description).toContain(k.accessId)
      const alarms = e.component.getAllSubcomponents('valarm')
      expect(alarms.map((a) => a.getFirstPropertyValue('action'))).toEqual(['DISPLAY', 'DISPLAY', 'DISPLAY'])
      const triggers = alarms.map((a) => (a.getFirstPropertyValue('trigger') as ICAL.Duration).toSeconds())
      expect(triggers).toEqual([-30 * 86400, -7 * 86400, -86400])
    }
    expect(() => writeExpiryCalendar(keys, [30], path)).toThrow(/already exists/)
  })

  it('an empty calendar is still a valid VCALENDAR', () => {
    const cal = new ICAL.Component(ICAL.parse(expiryCalendar([], [30])))
    expect(cal.name).toBe('vcalendar')
    expect(cal.getAllSubcomponents('vevent')).toEqual([])
  })
})
