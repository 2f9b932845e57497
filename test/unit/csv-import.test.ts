import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Papa from 'papaparse'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CREDENTIAL_FIELDS, INVENTORY_FIELDS, parseImportCsv, toCsv } from '../../src/main/core/csv'
import { KeyStore, credentialCsvText } from '../../src/main/core/keystore'
import { DAY, T0, expectKd, openTestStore, snapshot, type TestStore, rawAll } from './support'

const parse = (text: string) => Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true })

describe('toCsv', () => {
  it('escapes cells that a spreadsheet would run as a formula', () => {
    const cells = ['=1+2', '+SUM(A1)', '-2+3', '@cmd', '\t=x', '\r=x', '=HYPERLINK("http://evil")\nsecond line', 'safe', 'a=b']
    const text = toCsv(['v'], cells.map((c) => [c]))
    const rows = Papa.parse<string[]>(text, { skipEmptyLines: true }).data.slice(1).map((r) => r[0])
    expect(rows).toEqual(["'=1+2", "'+SUM(A1)", "'-2+3", "'@cmd", "'\t=x", "'\r=x", '\'=HYPERLINK("http://evil")\nsecond line', 'safe', 'a=b'])
  })

  it('uses CRLF and quotes what needs quoting', () => {
    expect(toCsv(['a', 'b'], [['x,y', 'q"q']])).toBe('a,b\r\n"x,y","q""q"\r\n')
  })
})

describe('credential CSV', () => {
  it('header has Name, Access ID, Access Key, Expires At (contract), with owner and scopes', () => {
    for (const f of ['Name', 'Access ID', 'Access Key', 'Expires At']) expect(CREDENTIAL_FIELDS).toContain(f)
    const text = credentialCsvText([{ accessId: 'kdid_x', accessKey: 'kdsk_y', name: 'n', owner: 'o', scopes: ['a', 'b'], expiresAt: '2031-01-01T00:00:00.000Z' }])
    expect(text.split('\r\n')[0]).toBe(CREDENTIAL_FIELDS.join(','))
    expect(parse(text).data).toEqual([{ Name: 'n', 'Access ID': 'kdid_x', 'Access Key': 'kdsk_y', Owner: 'o', Scopes: 'a b', 'Expires At': '2031-01-01T00:00:00.000Z' }])
  })
})

describe('parseImportCsv', () => {
  it('reads Name and the optional columns, case-insensitively, with a BOM', () => {
    const rows = parseImportCsv('\ufeffNAME,owner,Scopes,Expires In,Description\r\nk1,alice,"a, b;c",7d,hello\r\nk2,,,,\r\n')
    expect(rows).toEqual([
      { line: 2, name: 'k1', owner: 'alice', scopes: ['a', 'b', 'c'], expiresIn: '7d', description: 'hello' },
      { line: 3, name: 'k2', scopes: [] },
    ])
  })

  it('refuses an unknown column, naming it', () => {
    const e = expectKd(() => parseImportCsv('Name,Secret\nk1,x\n'), 'invalid_input', 'csv')
    expect(e.message).toMatch(/unknown column "Secret" \(column 2\)/)
  })

  it('refuses a missing Name column, an empty file, a header only, and a ragged row (naming the row)', () => {
    expect(expectKd(() => parseImportCsv('Owner\nalice\n'), 'invalid_input', 'csv').message).toMatch(/Name column/)
    expectKd(() => parseImportCsv(''), 'invalid_input', 'csv')
    expect(expectKd(() => parseImportCsv('Name\n'), 'invalid_input', 'csv').message).toMatch(/no rows/)
    expect(expectKd(() => parseImportCsv('Name,Owner\nk1,alice\nk2\n'), 'invalid_input', 'csv').message).toMatch(/Row 3/)
  })
})

describe('store: import and exports', () => {
  let t: TestStore
  beforeEach(async () => {
    t = await openTestStore()
    t.store.addOwner('alice')
    t.store.addOwner('svc-ci', 'service')
  })
  afterEach(() => t.cleanup())

  const tenRows = [
    'Name,Owner,Scopes,Expires At,Expires In,Description',
    'ci/deploy,svc-ci,deploy,,30d,Deploy key',
    'ci/read,svc-ci,"read, list",,,',
    'alice/laptop,alice,,2031-06-30,,Alice laptop',
    'alice/phone,alice,mobile,,12h,',
    'shared/a,,a b,,,',
    'shared/b,,,2031-02-01T00:00:00Z,,',
    'report-1,alice,reports:read,,90d,"quarterly, with comma"',
    'report-2,alice,reports:read,,90d,',
    'svc/metrics,svc-ci,metrics:write,,1d,',
    ',,misc,,,',
  ].join('\r\n')

  it('imports 10 rows with owners, scopes and expiry, and writes one credential CSV (0600) whose keys verify', () => {
    const out = join(t.dir, 'issued.csv')
    const keys = t.store.importCsv(tenRows, out)
    expect(keys).toHaveLength(10)
    expect(keys.map((k) => k.name).slice(0, 9)).toEqual(['ci/deploy', 'ci/read', 'alice/laptop', 'alice/phone', 'shared/a', 'shared/b', 'report-1', 'report-2', 'svc/metrics'])
    expect(keys[9]).toMatchObject({ name: expect.stringMatching(/^key-[0-9A-Za-z]{8}$/), scopes: ['misc'] }) // blank name → generated
    expect(keys[0]).toMatchObject({ owner: 'svc-ci', scopes: ['deploy'], expiresAt: new Date(T0 + 30 * DAY).toISOString() })
    expect(keys[1]!.scopes).toEqual(['list', 'read'])
    expect(keys[2]).toMatchObject({ owner: 'alice', expiresAt: '2031-06-30T23:59:59.999Z' })
    expect(keys[4]).toMatchObject({ owner: 'tester', scopes: ['a', 'b'], expiresAt: new Date(T0 + 30 * DAY).toISOString() })
    expect(keys[5]!.expiresAt).toBe('2031-02-01T00:00:00.000Z')
    expect(t.store.get(keys[6]!.accessId).description).toBe('quarterly, with comma')

    expect(statSync(out).mode & 0o777).toBe(0o600)
    const rows = parse(readFileSync(out, 'utf8')).data
    expect(rows).toHaveLength(10)
    for (const [i, k] of keys.entries()) {
      expect(rows[i]).toMatchObject({ Name: k.name, 'Access ID': k.accessId, 'Access Key': k.accessKey, Owner: k.owner, 'Expires At': k.expiresAt })
      expect(t.store.verify({ accessKey: rows[i]!['Access Key']!, accessId: rows[i]!['Access ID'] })).toMatchObject({ valid: true, owner: k.owner, scopes: k.scopes })
    }
    expect(t.store.listAudit({ action: 'key.create', limit: 100 })).toHaveLength(10)
    expect(t.store.listAudit({ action: 'credentials.export' })[0]).toMatchObject({ target: out, detail: { keys: 10 } })
  })

  it('is all-or-nothing: one bad row issues nothing, names the row, writes no file', () => {
    const out = join(t.dir, 'issued.csv')
    const before = snapshot(t.store)
    const bad = (row: string, at = 5) => {
      const lines = tenRows.split('\r\n')
      lines.splice(at, 0, row)
      return lines.join('\r\n')
    }
    const cases: [string, string, string][] = [
      [bad('=cmd|calc,alice,,,,'), 'invalid_input', 'Row 6'],
      [bad('x,nobody,,,,'), 'not_found', 'Row 6'],
      [bad('y,alice,bad scope!,,,'), 'invalid_input', 'Row 6'],
      [bad('z,alice,,yesterday,,'), 'invalid_input', 'Row 6'],
      [bad('w,alice,,,999d,'), 'policy', 'Row 6'],
      [bad('ci/deploy,svc-ci,,,,', 11), 'conflict', 'Row 12'], // duplicate of row 2, at the end
    ]
    for (const [text, kind, row] of cases) {
      const e = expectKd(() => t.store.importCsv(text, out), kind as never)
      expect(e.message).toContain(`${row} of the import CSV`)
      expect(existsSync(out)).toBe(false)
      expect(readdirSync(t.dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
      expect(snapshot(t.store)).toEqual(before)
    }
  })

  it('a CSV of just names works; blank lines are skipped but rows keep their numbers in errors', () => {
    const keys = t.store.importCsv('Name\nk1\n\nk2\n', join(t.dir, 'names.csv'))
    expect(keys.map((k) => [k.name, k.owner])).toEqual([['k1', 'tester'], ['k2', 'tester']])
    const before = snapshot(t.store)
    const e = expectKd(() => t.store.importCsv('Name\r\nk3\r\n\r\n\r\n@bad\r\n', join(t.dir, 'x.csv')), 'invalid_input', 'name')
    expect(e.message).toMatch(/^Row 5 of the import CSV: Name must not begin with/)
    expect(snapshot(t.store)).toEqual(before)
  })

  it('an unknown column refuses the whole import', () => {
    const before = snapshot(t.store)
    expectKd(() => t.store.importCsv('Name,Color\nk1,red\n', join(t.dir, 'o.csv')), 'invalid_input', 'csv')
    expect(snapshot(t.store)).toEqual(before)
  })

  it('the inventory export has no secrets or hashes, and escapes a description that looks like a formula', () => {
    const k = t.store.create({ name: 'inv', owner: 'alice', scopes: ['s1'], description: '=HYPERLINK("http://evil","x")\nline 2' })
    const r = t.store.create({ name: 'inv-2', owner: 'svc-ci', description: '-- legacy' })
    t.store.revoke([r.accessId])
    const out = join(t.dir, 'inventory.csv')
    expect(t.store.exportInventory(out)).toEqual({ path: out, rows: 2 })
    expect(statSync(out).mode & 0o777).toBe(0o600)
    const text = readFileSync(out, 'utf8')
    const parsed = parse(text)
    expect(parsed.meta.fields).toEqual([...INVENTORY_FIELDS])
    expect(parsed.data[0]).toMatchObject({ Name: 'inv', 'Access ID': k.accessId, Owner: 'alice', Status: 'active', Scopes: 's1', Description: '\'=HYPERLINK("http://evil","x")\nline 2' })
    expect(parsed.data[1]).toMatchObject({ Name: 'inv-2', Status: 'revoked', Description: "'-- legacy" })
    for (const key of [k, r]) {
      expect(text).not.toContain(key.accessKey)
      expect(text).not.toContain(key.accessKey.slice(5, 37))
    }
    for (const h of rawAll(t.store, 'SELECT hash FROM keys').map((r) => r.hash as Buffer)) {
      expect(text).not.toContain(h.toString('hex'))
      expect(text).not.toContain(h.toString('base64'))
    }
    expect(t.store.listAudit({ limit: 1 })[0]).toMatchObject({ action: 'inventory.export', target: out, detail: { rows: 2 } })
  })

  it('writeCredentialCsv writes the one-time CSV owner-only, replacing nothing half-way', () => {
    const k = t.store.create({ name: 'handoff' })
    const out = join(t.dir, 'handoff.csv')
    KeyStore.writeCredentialCsv(out, [k])
    expect(statSync(out).mode & 0o777).toBe(0o600)
    expect(parse(readFileSync(out, 'utf8')).data[0]!['Access Key']).toBe(k.accessKey)
    expectKd(() => KeyStore.writeCredentialCsv(join(t.dir, 'missing', 'x.csv'), [k]), 'invalid_input', 'csv')
  })
})
