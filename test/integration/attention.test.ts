/**
 * Issue 13 through the real `keydesk` CLI process, real SQLite files, the real
 * Secret Service and real git repositories in temp dirs: expiring (exit codes,
 * JSON, --ics parsed with ical.js), list --unused-for and stale, the credential
 * report, and scan finding a live key in a file and in an old commit, naming it
 * without printing it, and revoking it with --revoke.
 *
 * Secrets are planted only in temp dirs removed at the end; assertions about
 * them are booleans, so a failing run cannot print one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import Papa from 'papaparse'
import ICAL from 'ical.js'
import keytar from 'keytar'
import { openKeyStore } from '../../src/main/core/index'
import { KEYCHAIN_SERVICE } from '../../src/main/core/keychain'
import { tempDir } from '../helpers'
import { BIN, cli, createJson, verifyKey } from './cli-helpers'

const DAY = 86_400_000
const cleanups: (() => void | Promise<unknown>)[] = []
afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
})
function freshDir(prefix = 'keydesk-attn-'): string {
  const t = tempDir(prefix)
  cleanups.push(t.cleanup)
  return t.dir
}
/** Remove the store's keychain entry when the tests end (the data dir goes with its temp dir). */
function dropKeychainOf(dataDir: string): void {
  cleanups.push(async () => {
    let id: string | undefined
    try {
      const db = new Database(join(dataDir, 'keydesk.sqlite'), { readonly: true })
      try {
        id = db.prepare(`SELECT value FROM meta WHERE key = 'store_id'`).pluck().get() as string | undefined
      } finally {
        db.close()
      }
    } catch {
      id = undefined
    }
    if (id) await keytar.deletePassword(KEYCHAIN_SERVICE, id).catch(() => false)
  })
}
const noneOf = (text: string, secrets: string[]) => secrets.every((s) => !text.includes(s))

function git(repo: string, ...args: string[]): string {
  const r = spawnSync('git', ['-C', repo, ...args], {
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', GIT_CONFIG_GLOBAL: '/dev/null' },
  })
  if (r.status !== 0) throw new Error(`git ${args[0]} failed: ${r.stderr}`)
  return r.stdout.trim()
}

describe('keydesk expiring', () => {
  let dir: string
  let soon: ReturnType<typeof createJson>
  let later: ReturnType<typeof createJson>
  beforeAll(() => {
    dir = freshDir()
    soon = createJson(dir, ['--name', 'soon', '--expires-in', '5d'])
    dropKeychainOf(dir)
    later = createJson(dir, ['--name', 'later', '--expires-in', '90d'])
  })

  it('lists keys expiring within the widest reminder threshold and exits 1; --within narrows or widens it', () => {
    const r = cli(dir, ['--json', 'expiring'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('')
    const due = JSON.parse(r.stdout) as { accessId: string; name: string; daysLeft: number }[]
    expect(due.map((d) => [d.accessId, d.name])).toEqual([[soon.accessId, 'soon']])
    expect(due[0]!.daysLeft).toBe(4)
    const none = cli(dir, ['expiring', '--within', '3d'])
    expect(none.code).toBe(0)
    expect(none.stdout).toBe('No active key expires within 3 days.\n')
    const wide = cli(dir, ['expiring', '--within', '100d'])
    expect(wide.code).toBe(1)
    expect(wide.stdout).toMatch(/^NAME +ACCESS ID +OWNER +EXPIRES +DAYS LEFT\n/)
    expect(wide.stdout).toContain('2 keys expire within 100 days.')
    expect(noneOf(wide.stdout, [soon.accessKey, later.accessKey])).toBe(true)
  })

  it('bad --within: exit 2, one line naming the option', () => {
    const r = cli(dir, ['expiring', '--within', 'soon'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('keydesk: --within "soon" must be a number of days from 0 to 3650, e.g. 30d.\n')
  })

  it('--ics writes an RFC 5545 calendar: one event per active key expiry, alarms at the policy thresholds; exit 0', () => {
    const out = freshDir('keydesk-attn-ics-')
    const path = join(out, 'expiry.ics')
    const r = cli(dir, ['expiring', '--ics', path])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(`Wrote 2 key expiries to ${path}, with alarms 30, 7, 1 days before each.\n`)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const text = readFileSync(path, 'utf8')
    expect(noneOf(text, [soon.accessKey, later.accessKey])).toBe(true)
    const events = new ICAL.Component(ICAL.parse(text)).getAllSubcomponents('vevent').map((c) => new ICAL.Event(c))
    expect(events.map((e) => e.summary).sort()).toEqual(['KeyDesk key "later" (root) expires', 'KeyDesk key "soon" (root) expires'].map((s) => s.replace('root', soon.owner)).sort())
    const soonEvent = events.find((e) => e.uid.startsWith(soon.accessId))!
    expect(soonEvent.startDate.toJSDate().getTime()).toBe(Math.floor(Date.parse(soon.expiresAt) / 1000) * 1000)
    const triggers = (e: ICAL.Event) => e.component.getAllSubcomponents('valarm').map((a) => (a.getFirstPropertyValue('trigger') as ICAL.Duration).toSeconds() / 86400)
    expect(triggers(soonEvent)).toEqual([-30, -7, -1])

    // The thresholds follow the policy (CLI name reminder-days).
    expect(cli(dir, ['policy', 'set', 'reminder-days', '14,2']).code).toBe(0)
    const path2 = join(out, 'expiry-2.ics')
    expect(cli(dir, ['expiring', '--ics', path2, '--within', '10d']).code).toBe(0)
    const only = new ICAL.Component(ICAL.parse(readFileSync(path2, 'utf8'))).getAllSubcomponents('vevent').map((c) => new ICAL.Event(c))
    expect(only.map((e) => e.uid.split('-')[0])).toEqual([soon.accessId])
    expect(triggers(only[0]!)).toEqual([-14, -2])
    expect(cli(dir, ['policy', 'set', 'reminder-days', '30,7,1']).code).toBe(0)

    const again = cli(dir, ['expiring', '--ics', path])
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/already exists/)
    const bad = cli(dir, ['policy', 'set', 'reminder-days', '7,7'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^keydesk: .*reminder/i)
    expect(bad.stderr.split('\n')).toHaveLength(2) // one line
  })
})

describe('stale keys: list --unused-for, keydesk stale', () => {
  let dir: string
  const ids: Record<string, string> = {}
  const secrets: string[] = []
  beforeAll(async () => {
    dir = freshDir()
    // Keys issued 60 days ago, on a clock in the past (same store, same keychain entry as the CLI).
    const past = { t: Date.now() - 60 * DAY }
    const store = await openKeyStore({ dataDir: dir, actor: 'tester', now: () => past.t })
    try {
      for (const name of ['never-used', 'used-lately', 'used-long-ago']) {
        const k = store.create({ name, expiresIn: '200d' })
        ids[name] = k.accessId
        secrets.push(k.accessKey)
        if (name === 'used-long-ago') {
          past.t += DAY
          store.verify({ accessKey: k.accessKey })
          store.flushLastUsed()
        }
        if (name === 'used-lately') {
          past.t = Date.now() - 10 * DAY
          store.verify({ accessKey: k.accessKey })
          store.flushLastUsed()
          past.t = Date.now() - 60 * DAY
        }
      }
    } finally {
      store.close()
    }
    dropKeychainOf(dir)
    const fresh = createJson(dir, ['--name', 'fresh'])
    ids.fresh = fresh.accessId
    secrets.push(fresh.accessKey)
  })

  it('list --unused-for 45d: active keys whose last use (or creation, never used) is older than 45 days', () => {
    const r = cli(dir, ['--json', 'list', '--unused-for', '45d', '--sort', 'name'])
    expect(r.code).toBe(0)
    const items = JSON.parse(r.stdout) as { name: string; stale?: boolean }[]
    expect(items.map((k) => k.name)).toEqual(['never-used', 'used-long-ago'])
    // The policy's stale-after-days (45) flags the same keys in the plain list.
    const all = JSON.parse(cli(dir, ['--json', 'list', '--sort', 'name']).stdout) as { name: string; stale?: boolean }[]
    expect(all.filter((k) => k.stale).map((k) => k.name)).toEqual(['never-used', 'used-long-ago'])
    expect(cli(dir, ['--json', 'list', '--unused-for', '5d']).stdout).toContain('used-lately')
    const bad = cli(dir, ['list', '--unused-for', 'a while'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^keydesk: --unused-for "a while" must be a number of days/)
  })

  it('stale lists them (exit 1); --revoke needs --confirm with their number; then they are revoked with a reason', () => {
    const list = cli(dir, ['stale'])
    expect(list.code).toBe(1)
    expect(list.stdout).toContain('2 keys have gone unused for 45 days or more.')
    const noConfirm = cli(dir, ['stale', '--revoke'])
    expect(noConfirm.code).toBe(2)
    expect(noConfirm.stderr).toMatch(/needs --confirm 2/)
    const wrong = cli(dir, ['stale', '--revoke', '--confirm', '3'])
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toMatch(/Nothing was revoked/)
    // (Checked with show: a verify would count as a use and make the key not stale.)
    expect(JSON.parse(cli(dir, ['--json', 'show', ids['never-used']!]).stdout).status).toBe('active')
    const ok = cli(dir, ['--json', 'stale', '--revoke', '--confirm', '2'])
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.stdout.trim().split('\n').pop()!)).toEqual({ revoked: 2 })
    expect(JSON.parse(cli(dir, ['--json', 'show', ids['never-used']!]).stdout)).toMatchObject({ status: 'revoked', revokedReason: 'unused for 45 days' })
    expect(verifyKey(dir, secrets[0]!)).toEqual({ valid: false, reason: 'revoked' })
    expect(cli(dir, ['stale']).code).toBe(0)
  })
})

describe('keydesk report --csv', () => {
  it('the credential report: AWS shape, one row per key, no secret, 0600, an existing file refused', () => {
    const dir = freshDir()
    const a = createJson(dir, ['--name', 'svc/a', '--scope', 'read', '--scope', 'write', '--expires-in', '10d'])
    dropKeychainOf(dir)
    const b = createJson(dir, ['--name', 'b'])
    expect(cli(dir, ['revoke', b.accessId, '--reason', 'r']).code).toBe(0)
    const out = freshDir('keydesk-attn-report-')
    const path = join(out, 'report.csv')
    const r = cli(dir, ['report', '--csv', path])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(`Wrote the credential report (2 keys) to ${path} (owner-only).\n`)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const text = readFileSync(path, 'utf8')
    expect(noneOf(text, [a.accessKey, b.accessKey])).toBe(true)
    const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true })
    expect(parsed.meta.fields).toEqual(['Name', 'Access ID', 'Owner', 'Owner Kind', 'Status', 'Created', 'Last Reset', 'Last Used', 'Expires', 'Age Days', 'Days Until Expiry', 'Scopes'])
    const rows = Object.fromEntries(parsed.data.map((x) => [x.Name, x]))
    expect(rows['svc/a']).toMatchObject({ 'Access ID': a.accessId, 'Owner Kind': 'user', Status: 'active', 'Age Days': '0', 'Days Until Expiry': '9', Scopes: 'read write', Expires: a.expiresAt })
    expect(rows['b']).toMatchObject({ Status: 'revoked', 'Days Until Expiry': '' })
    const again = cli(dir, ['report', '--csv', path])
    expect(again.code).toBe(2)
    expect(again.stderr).toBe(`keydesk: ${path} already exists; choose a new file (KeyDesk never overwrites one).\n`)
  })
})

describe('keydesk scan', () => {
  let dir: string
  let repo: string
  let inFile: ReturnType<typeof createJson>
  let inHistory: ReturnType<typeof createJson>
  let leakCommit: string
  beforeAll(() => {
    dir = freshDir()
    inFile = createJson(dir, ['--name', 'web/checkout'])
    dropKeychainOf(dir)
    inHistory = createJson(dir, ['--name', 'ci/deploy'])
    repo = freshDir('keydesk-attn-repo-')
    git(repo, 'init', '-q', '-b', 'main')
    writeFileSync(join(repo, 'README.md'), '# app\n')
    git(repo, 'add', '.')
    git(repo, 'commit', '-q', '-m', 'init')
    mkdirSync(join(repo, 'ci'))
    writeFileSync(join(repo, 'ci/deploy.sh'), `#!/bin/sh\n# planted by attention.test.ts\nexport KEYDESK_KEY=${inHistory.accessKey}\n`)
    git(repo, 'add', '.')
    git(repo, 'commit', '-q', '-m', 'deploy script')
    leakCommit = git(repo, 'rev-parse', 'HEAD')
    writeFileSync(join(repo, 'ci/deploy.sh'), '#!/bin/sh\nexport KEYDESK_KEY="$DEPLOY_KEY"\n')
    git(repo, 'commit', '-q', '-am', 'read the key from the environment')
    mkdirSync(join(repo, 'web'))
    writeFileSync(join(repo, 'web/.env'), `CHECKOUT_KEY=${inFile.accessKey}\n`) // not committed
  })
  const secrets = () => [inFile.accessKey, inHistory.accessKey]

  it('a live key in a file: named by name, owner, status and file:line, never printed; exit 1', () => {
    const r = cli(dir, ['scan', repo])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('')
    expect(noneOf(r.stdout + r.stderr, secrets())).toBe(true)
    expect(r.stdout).toContain(`LIVE key "web/checkout" (${inFile.accessId}, ${inFile.owner}), active, hint ${inFile.accessKey.slice(0, 9)}… found at:\n  ${repo}/web/.env:1\n`)
    expect(r.stdout).not.toContain('ci/deploy')
  })

  it('--git: the key that only an old commit holds, by commit:path:line', () => {
    const r = cli(dir, ['--json', 'scan', repo, '--git'])
    expect(r.code).toBe(1)
    expect(noneOf(r.stdout, secrets())).toBe(true)
    const j = JSON.parse(r.stdout) as { live: boolean; found: { accessId: string; name: string; owner: string; status: string; live: boolean; hint: string; locations: string[] }[] }
    expect(j.live).toBe(true)
    const hist = j.found.find((k) => k.accessId === inHistory.accessId)!
    expect(hist).toMatchObject({ name: 'ci/deploy', owner: inHistory.owner, status: 'active', live: true, hint: inHistory.accessKey.slice(0, 9) })
    expect(hist.locations).toEqual([`${leakCommit.slice(0, 12)}:ci/deploy.sh:3`])
    expect(j.found.find((k) => k.accessId === inFile.accessId)!.locations).toEqual([`${repo}/web/.env:1`])
  })

  it('--revoke needs the count: without --confirm (no terminal) or with a wrong one nothing is revoked', () => {
    for (const extra of [[], ['--confirm', '1']]) {
      const r = cli(dir, ['scan', repo, '--git', '--revoke', ...extra])
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/Nothing was revoked\.\n$/)
      expect(noneOf(r.stdout + r.stderr, secrets())).toBe(true)
    }
    expect(verifyKey(dir, inFile.accessKey).valid).toBe(true)
    expect(verifyKey(dir, inHistory.accessKey).valid).toBe(true)
  })

  it('--revoke --confirm 2 revokes both with the reason "leaked in …"; a new scan finds them dead and exits 0', () => {
    const r = cli(dir, ['scan', repo, '--git', '--revoke', '--confirm', '2'])
    expect(r.code).toBe(1) // a live key was found (and is now revoked)
    expect(r.stdout).toContain(`Revoked "ci/deploy" (${inHistory.accessId}, ${inHistory.owner}): leaked in ${leakCommit.slice(0, 12)}:ci/deploy.sh:3.`)
    expect(noneOf(r.stdout + r.stderr, secrets())).toBe(true)
    expect(verifyKey(dir, inFile.accessKey)).toEqual({ valid: false, reason: 'revoked' })
    expect(verifyKey(dir, inHistory.accessKey)).toEqual({ valid: false, reason: 'revoked' })
    expect(JSON.parse(cli(dir, ['--json', 'show', inFile.accessId]).stdout).revokedReason).toBe(`leaked in ${repo}/web/.env:1`)
    const after = cli(dir, ['scan', repo, '--git'])
    expect(after.code).toBe(0)
    expect(after.stdout).toContain('dead key "ci/deploy"')
    const audit = cli(dir, ['--json', 'audit', '--action', 'key.revoke'])
    expect(noneOf(audit.stdout, secrets())).toBe(true)
  })

  it('in a terminal, --revoke asks for the count: a wrong answer revokes nothing, the right one revokes', () => {
    const k = createJson(dir, ['--name', 'tty-demo'])
    const folder = freshDir('keydesk-attn-tty-')
    writeFileSync(join(folder, 'a.env'), `K=${k.accessKey}\n`)
    // util-linux script(1) gives the CLI a pseudo-terminal, whose input is what we pipe in.
    const inTerminal = (answer: string) => {
      const cmd = [process.execPath, BIN, '--data-dir', dir, 'scan', folder, '--revoke'].map((a) => `'${a}'`).join(' ')
      const r = spawnSync('script', ['-q', '-e', '-c', cmd, '/dev/null'], { input: `${answer}\n`, encoding: 'utf8', timeout: 60_000 })
      return { code: r.status, out: r.stdout }
    }
    const wrong = inTerminal('2')
    expect(wrong.code).toBe(2)
    expect(wrong.out).toContain('Revoke 1 live key? This cannot be undone. Type 1 to confirm:')
    expect(wrong.out).toContain('Nothing was revoked.')
    expect(verifyKey(dir, k.accessKey).valid).toBe(true)
    const right = inTerminal('1')
    expect(right.code).toBe(1)
    expect(right.out).toContain(`Revoked "tty-demo" (${k.accessId}, ${k.owner}): leaked in ${folder}/a.env:1.`)
    expect(noneOf(wrong.out + right.out, [k.accessKey])).toBe(true)
    expect(verifyKey(dir, k.accessKey)).toEqual({ valid: false, reason: 'revoked' })
  })

  it('a scanned file whose name carries terminal escapes and a line break is shown escaped, never raw', () => {
    const k = createJson(dir, ['--name', 'escaped-path'])
    const folder = freshDir('keydesk-attn-esc-')
    const name = 'evil\x1b]0;pwned\x07\x1b[31m\nLIVE key "admin".env'
    writeFileSync(join(folder, name), `K=${k.accessKey}\n`)
    const r = cli(dir, ['scan', folder])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`  ${folder}/evil\\x1b]0;pwned\\x07\\x1b[31m\\nLIVE key "admin".env:1\n`)
    expect(r.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/)
    expect(r.stdout.split('\n').filter((l) => l.startsWith('LIVE key'))).toHaveLength(1)
    expect(noneOf(r.stdout, [k.accessKey])).toBe(true)
  })

  it('a clean folder: exit 0; a missing path: exit 2 naming it', () => {
    const clean = freshDir('keydesk-attn-clean-')
    writeFileSync(join(clean, 'notes.txt'), 'nothing here\n')
    const r = cli(dir, ['scan', clean])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('Scanned 1 file: no key of this store found.\n')
    const missing = cli(dir, ['scan', join(clean, 'nope')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toBe(`keydesk: ${join(clean, 'nope')} does not exist.\n`)
  })
})
