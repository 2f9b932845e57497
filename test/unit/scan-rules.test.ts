/**
 * The scanner rules we ship (scanners/): the REAL secretlint from npm, run as a
 * process over a temp tree with a planted key (a real one, from newAccessKey), with
 * our rule package and with the zero-install pattern config; and gitleaks.toml,
 * parsed as TOML and its rule applied the way gitleaks applies it (regex, secret
 * group, entropy, allowlist, keywords). Planted keys live only in a temp dir that
 * is deleted; outputs are checked with booleans, never printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { newAccessId, newAccessKey } from '../../src/main/core/keyformat'

const ROOT = resolve(__dirname, '../..')
const NODE = process.execPath
const SECRETLINT = join(ROOT, 'node_modules/secretlint/bin/secretlint.js')
const RULE = join(ROOT, 'scanners/secretlint/secretlint-rule-keydesk/index.js')
const PATTERN_RC = join(ROOT, 'scanners/secretlint/.secretlintrc.json')
/** The documentation's example key (README "Scanner rules"): valid checksum, never issued, allowed by every rule. */
const DOCS_EXAMPLE = 'kdsk_EXAMPLE0EXAMPLE0EXAMPLE0EXAMPLE03s0tOr'

let dir: string
let key: string
let other: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keydesk-rules-'))
  key = newAccessKey()
  other = newAccessKey()
  mkdirSync(join(dir, 'deploy'))
  writeFileSync(join(dir, 'deploy/app.env'), `# planted by scan-rules.test.ts\nKEYDESK_KEY=${key}\n`)
  writeFileSync(join(dir, 'ids-only.txt'), `KEYDESK_ACCESS_ID=${newAccessId()}\nsee the docs: ${DOCS_EXAMPLE}\n`)
  // Same shape, wrong checksum: a typo, not a key.
  writeFileSync(join(dir, 'typo.txt'), `TOKEN=${other.slice(0, -1)}${other.endsWith('A') ? 'B' : 'A'}\n`)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface LintFile {
  filePath: string
  messages: { ruleId: string; message: string; loc: { start: { line: number } } }[]
}

function secretlint(config: string[]): { code: number | null; files: LintFile[]; raw: string } {
  const r = spawnSync(NODE, [SECRETLINT, ...config, '--format', 'json', `${dir}/**/*`], { encoding: 'utf8', cwd: ROOT, timeout: 60_000 })
  if (r.status !== 0 && r.status !== 1) throw new Error(`secretlint failed to run (${r.status}): ${r.stderr.slice(0, 300)}`)
  const files = (JSON.parse(r.stdout) as (LintFile & { sourceContent?: string })[]).map(({ filePath, messages }) => ({ filePath, messages }))
  return { code: r.status, files, raw: r.stdout }
}

const reported = (files: LintFile[]) =>
  files.filter((f) => f.messages.length > 0).map((f) => ({ file: f.filePath.slice(dir.length + 1), lines: f.messages.map((m) => m.loc.start.line) }))
/** secretlint masks secrets in its messages by default: no message may hold a full key. */
const messagesHoldNoKey = (files: LintFile[]) => files.every((f) => f.messages.every((m) => !/kdsk_[0-9A-Za-z]{38}/.test(m.message)))

describe('secretlint (real, from npm) with the shipped rules', () => {
  it('the rule package finds the planted key by file and line, and reports no access ID, docs example or bad checksum', () => {
    const r = secretlint(['--secretlintrcJSON', JSON.stringify({ rules: [{ id: RULE }] })])
    expect(r.code).toBe(1)
    expect(reported(r.files)).toEqual([{ file: 'deploy/app.env', lines: [2] }])
    expect(r.files.flatMap((f) => f.messages).every((m) => m.ruleId === RULE)).toBe(true)
    expect(messagesHoldNoKey(r.files)).toBe(true)
  })

  it('the rule package passes a tree with no key (exit 0)', () => {
    const clean = mkdtempSync(join(tmpdir(), 'keydesk-rules-clean-'))
    try {
      writeFileSync(join(clean, 'a.txt'), `id ${newAccessId()}\n`)
      const r = spawnSync(NODE, [SECRETLINT, '--secretlintrcJSON', JSON.stringify({ rules: [{ id: RULE }] }), `${clean}/**/*`], { encoding: 'utf8', cwd: ROOT, timeout: 60_000 })
      expect(r.status).toBe(0)
    } finally {
      rmSync(clean, { recursive: true, force: true })
    }
  })

  it('the zero-install pattern config (scanners/secretlint/.secretlintrc.json) finds the key and allows the docs example', () => {
    const r = secretlint(['--secretlintrc', PATTERN_RC])
    expect(r.code).toBe(1)
    const files = reported(r.files)
    // A pattern cannot check the CRC32: the look-alike in typo.txt is reported too (keydesk scan would not).
    expect(files).toEqual(expect.arrayContaining([{ file: 'deploy/app.env', lines: [2] }]))
    expect(files.map((f) => f.file)).not.toContain('ids-only.txt')
    expect(messagesHoldNoKey(r.files)).toBe(true)
  })
})

describe('scanners/gitleaks.toml', () => {
  interface Rule {
    id: string
    regex: string
    secretGroup: number
    entropy: number
    keywords: string[]
    allowlist: { regexes: string[]; regexTarget: string }
  }
  const config = parseToml(readFileSync(join(ROOT, 'scanners/gitleaks.toml'), 'utf8')) as unknown as { extend: { useDefault: boolean }; rules: Rule[] }
  const rule = config.rules.find((r) => r.id === 'keydesk-access-key')!

  /** gitleaks' Shannon entropy of the secret. */
  function entropy(s: string): number {
    const counts = new Map<string, number>()
    for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1)
    let e = 0
    for (const n of counts.values()) e -= (n / s.length) * Math.log2(n / s.length)
    return e
  }
  /** What gitleaks reports for this rule in a text (RE2 syntax used here is also valid JS). */
  function findings(text: string): string[] {
    if (!rule.keywords.some((k) => text.toLowerCase().includes(k.toLowerCase()))) return []
    const re = new RegExp(rule.regex, 'g')
    const allow = rule.allowlist.regexes.map((r) => new RegExp(r))
    const out: string[] = []
    for (const m of text.matchAll(re)) {
      const secret = m[rule.secretGroup]!
      if (entropy(secret) < rule.entropy) continue
      if (allow.some((a) => a.test(secret))) continue
      out.push(secret)
    }
    return out
  }

  it('extends the default rules and defines the KeyDesk rule with keywords, a secret group and an allowlist', () => {
    expect(config.extend.useDefault).toBe(true)
    expect(rule.keywords).toEqual(['kdsk_'])
    expect(rule.secretGroup).toBe(1)
    expect(rule.allowlist.regexTarget).toBe('secret')
  })

  it('matches a real key (at line start, in quotes, after =), never an access ID, the docs example or a longer run', () => {
    const k = newAccessKey()
    const text = `${k}\nA="${k}"\nB=${k}\nid=${newAccessId()}\n${DOCS_EXAMPLE}\nx${k}y\n`
    const f = findings(text)
    expect(f.length).toBe(3)
    expect(f.every((s) => s === k)).toBe(true)
    expect(findings(`KEYDESK_ACCESS_ID=${newAccessId()}`)).toEqual([])
    expect(findings(`placeholder kdsk_${'x'.repeat(38)}`)).toEqual([])
  })
})
