/**
 * CLI commands for keys that need attention: `expiring` (cron and mail scripts,
 * an ICS calendar), `stale` (unused keys, bulk revoke through the counted
 * confirmation), `report` (the credential report CSV) and `scan` (leaked keys
 * in files and git history). Registered from main.ts with addAttentionCommands.
 *
 * Same contract as the rest of the CLI: exit 0 done; 1 something is due / a live
 * key leaked / not found; 2 bad usage or input; 3 keychain or store unavailable.
 * No secret is ever printed: scan names a key by name, owner and hint.
 */
import type { Command } from 'commander'
import { KeydeskError, openKeyStore, type KeyStore, type KeyView, type StoreLocation } from '../main/core/index'
import { adminIdentity, CLI_PAGE_CACHE_KIB, storeOf } from './where'
// The calendar (ics), the report and the scanner (ignore, git) load when their command
// runs: every other command starts without them.
import type { LeakedKey, ScanResult } from '../main/core/scan'
import { SCAN_MAX_FILE_BYTES } from '../shared/domain'
import { EXIT } from './exit'
import { esc } from './text'

/** main.ts's Exit: ends the command with this code and an optional one-line message. */
export type ExitFactory = new (code: number, message?: string) => Error

const DAY_MS = 86_400_000

/**
 * One line of text output. No line here means to carry a control character, and
 * several carry data from outside the store (a scanned file's path, a path the admin
 * typed), so the whole line is escaped (text.ts): a file named with a terminal escape
 * cannot recolour the terminal or forge a line.
 */
function out(s: string): void {
  process.stdout.write(esc(s) + '\n')
}
function json(v: unknown): void {
  process.stdout.write(JSON.stringify(v) + '\n')
}
function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length)
}

/** "30d" or "30" → 30 (whole days, 0–3650). */
export function parseDays(raw: string, option: string, field: string): number {
  const m = /^\s*(\d{1,4})\s*d?\s*$/.exec(raw)
  const n = m ? Number(m[1]) : NaN
  if (!m || n > 3650) throw new KeydeskError('invalid_input', `${option} "${raw.slice(0, 40)}" must be a number of days from 0 to 3650, e.g. 30d.`, field)
  return n
}

function daysLeft(k: KeyView, now: number): number {
  return Math.floor((Date.parse(k.expiresAt) - now) / DAY_MS)
}

/** Every key a query matches, page by page. */
function* allMatching(s: KeyStore, q: Parameters<KeyStore['list']>[0]): Generator<KeyView> {
  for (let offset = 0; ; ) {
    const page = s.list({ ...q, offset, limit: 1000 })
    yield* page.items
    offset += page.items.length
    if (page.items.length < 1000) return
  }
}

async function ask(question: string): Promise<string> {
  const { createInterface } = await import('node:readline')
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return await new Promise<string>((res) => rl.question(question, res))
  } finally {
    rl.close()
  }
}

/**
 * The counted confirmation for bulk revokes: `--confirm N` must equal the number
 * of keys about to be revoked, or, in a terminal, the admin types it when asked.
 */
async function confirmCount(n: number, given: string | undefined, what: string): Promise<void> {
  const keys = `${n} ${what}${n === 1 ? '' : 's'}`
  let answer = given
  if (answer === undefined) {
    if (!process.stdin.isTTY)
      throw new KeydeskError('invalid_input', `Revoking ${keys} needs --confirm ${n} (the number of keys to revoke), or run it in a terminal to be asked. Nothing was revoked.`, 'confirm')
    answer = await ask(`Revoke ${keys}? This cannot be undone. Type ${n} to confirm: `)
  }
  if (answer.trim() !== String(n))
    throw new KeydeskError('invalid_input', `The confirmation does not match: ${keys} would be revoked, so confirm with ${n}. Nothing was revoked.`, 'confirm')
}

function keyLine(k: Pick<KeyView, 'name' | 'accessId' | 'owner'>): string {
  return `"${k.name}" (${k.accessId}, ${k.owner})`
}

export function addAttentionCommands(program: Command, Exit: ExitFactory): void {
  const globals = (): { where: StoreLocation; json: boolean } => ({ where: storeOf(program), json: program.opts<{ json?: boolean }>().json === true })
  const withStore = async <T>(fn: (s: KeyStore, g: { json: boolean }) => T | Promise<T>): Promise<T> => {
    const g = globals()
    const store = await openKeyStore({ ...g.where, actor: adminIdentity(g.where), pageCacheKiB: CLI_PAGE_CACHE_KIB })
    try {
      return await fn(store, g)
    } finally {
      store.close()
    }
  }

  // ── expiring ──────────────────────────────────────────────────────────
  program
    .command('expiring')
    .description('active keys expiring soon; exit 1 when any (for cron and mail scripts); --ics writes a calendar')
    .option('--within <days>', "window, e.g. 30d (default: the policy's widest reminder threshold)")
    .option('--ics <file>', 'write an RFC 5545 calendar: one event per active key expiry, alarms at the reminder thresholds')
    .action((o: { within?: string; ics?: string }) =>
      withStore(async (s, g) => {
        const policy = s.getPolicy()
        const within = o.within !== undefined ? parseDays(o.within, '--within', 'within') : Math.max(...policy.reminderDays)
        const now = Date.now()
        if (o.ics !== undefined) {
          // The calendar holds every active key (its alarms do the warning), or those within --within if given.
          const keys = [...allMatching(s, { status: 'active', sort: 'expires', order: 'asc', ...(o.within !== undefined ? { expiringWithinDays: within } : {}) })].filter((k) => !k.tampered)
          const { writeExpiryCalendar } = await import('../main/core/calendar')
          const r = writeExpiryCalendar(keys, policy.reminderDays, o.ics)
          if (g.json) return json({ path: r.path, events: r.events, reminderDays: policy.reminderDays })
          return out(`Wrote ${r.events} key expir${r.events === 1 ? 'y' : 'ies'} to ${r.path}, with alarms ${policy.reminderDays.join(', ')} days before each.`)
        }
        const due = [...allMatching(s, { status: 'active', expiringWithinDays: within, sort: 'expires', order: 'asc' })]
        if (g.json)
          json(
            due.map((k) => ({
              accessId: k.accessId,
              name: k.name,
              owner: k.owner,
              expiresAt: k.expiresAt,
              daysLeft: daysLeft(k, now),
              ...(k.ownerDisabled ? { ownerDisabled: true } : {}),
              ...(k.tampered ? { tampered: true } : {}),
            })),
          )
        else if (due.length === 0) out(`No active key expires within ${within} days.`)
        else {
          out(`${pad('NAME', 28)}  ${pad('ACCESS ID', 21)}  ${pad('OWNER', 16)}  ${pad('EXPIRES', 24)}  DAYS LEFT`)
          for (const k of due) out(`${pad(k.name, 28)}  ${k.accessId}  ${pad(k.owner, 16)}  ${pad(k.expiresAt, 24)}  ${daysLeft(k, now)}${k.tampered ? '  TAMPERED' : ''}`)
          out(`${due.length} key${due.length === 1 ? '' : 's'} expire${due.length === 1 ? 's' : ''} within ${within} days.`)
        }
        if (due.length > 0) throw new Exit(EXIT.failed)
      }),
    )

  // ── stale ─────────────────────────────────────────────────────────────
  program
    .command('stale')
    .description("active keys unused for N days (never used counts from creation); exit 1 when any; --revoke revokes them after --confirm N")
    .option('--unused-for <days>', "e.g. 45d (default: the policy's stale-after-days)")
    .option('--revoke', 'revoke every key listed (asks for, or needs --confirm with, their number)')
    .option('--confirm <n>', 'with --revoke: the number of keys, as a confirmation')
    .option('--reason <text>', 'with --revoke: why, for the audit log')
    .action((o: { unusedFor?: string; revoke?: boolean; confirm?: string; reason?: string }) =>
      withStore(async (s, g) => {
        const days = o.unusedFor !== undefined ? parseDays(o.unusedFor, '--unused-for', 'unusedFor') : s.getPolicy().staleAfterDays
        if (days === 0 && o.unusedFor === undefined)
          throw new KeydeskError('invalid_input', 'The policy does not flag stale keys (stale-after-days is 0); give --unused-for, e.g. 45d.', 'unusedFor')
        if (o.confirm !== undefined && !o.revoke) throw new KeydeskError('invalid_input', '--confirm goes with --revoke.', 'confirm')
        const q = { unusedForDays: days }
        const stale = [...allMatching(s, { ...q, sort: 'lastUsed', order: 'asc' })]
        if (!o.revoke) {
          if (g.json) json(stale.map((k) => ({ accessId: k.accessId, name: k.name, owner: k.owner, createdAt: k.createdAt, lastUsedAt: k.lastUsedAt, expiresAt: k.expiresAt })))
          else if (stale.length === 0) out(`No active key has gone unused for ${days} days.`)
          else {
            out(`${pad('NAME', 28)}  ${pad('ACCESS ID', 21)}  ${pad('OWNER', 16)}  LAST USED`)
            for (const k of stale) out(`${pad(k.name, 28)}  ${k.accessId}  ${pad(k.owner, 16)}  ${k.lastUsedAt ?? `never (created ${k.createdAt})`}`)
            out(`${stale.length} key${stale.length === 1 ? ' has' : 's have'} gone unused for ${days} days or more.`)
          }
          if (stale.length > 0) throw new Exit(EXIT.failed)
          return
        }
        if (stale.length === 0) return g.json ? json({ revoked: 0 }) : out(`No active key has gone unused for ${days} days; nothing to revoke.`)
        if (!g.json) for (const k of stale) out(`  ${keyLine(k)}, last used ${k.lastUsedAt ?? 'never'}`)
        await confirmCount(stale.length, o.confirm, 'stale key')
        // The same counted flow as the app's "revoke all matching": refused if the set changed meanwhile.
        const r = s.revokeMatching(q, stale.length, o.reason ?? `unused for ${days} days`)
        if (g.json) json(r)
        else out(`Revoked ${r.revoked} stale key${r.revoked === 1 ? '' : 's'}.`)
      }),
    )

  // ── report ────────────────────────────────────────────────────────────
  program
    .command('report')
    .description('write the credential report: one row per key (owner, status, created, last reset, last used, expiry, age, scopes); no secrets')
    .requiredOption('--csv <file>', 'new file to write (owner-only; an existing file is refused)')
    .action((o: { csv: string }) =>
      withStore(async (s, g) => {
        const { writeCredentialReport } = await import('../main/core/report')
        const r = writeCredentialReport(s, o.csv, Date.now())
        if (g.json) json(r)
        else out(`Wrote the credential report (${r.rows} key${r.rows === 1 ? '' : 's'}) to ${r.path} (owner-only).`)
      }),
    )

  // ── scan ──────────────────────────────────────────────────────────────
  program
    .command('scan <path...>')
    .description("look for this store's access keys in files (respects .gitignore; --git: every blob in the history too); exit 1 when a live key is found")
    .option('--git', 'also scan every blob in the git history of each path')
    .option('--revoke', 'revoke the live keys found (asks for, or needs --confirm with, their number)')
    .option('--confirm <n>', 'with --revoke: the number of live keys found, as a confirmation')
    .option('--max-file-size <bytes>', `skip files bigger than this (default ${SCAN_MAX_FILE_BYTES})`)
    .action((paths: string[], o: { git?: boolean; revoke?: boolean; confirm?: string; maxFileSize?: string }) =>
      withStore(async (s, g) => {
        if (o.confirm !== undefined && !o.revoke) throw new KeydeskError('invalid_input', '--confirm goes with --revoke.', 'confirm')
        const { formatLocation, scanPaths, scanSummary } = await import('../main/core/scan')
        let max = SCAN_MAX_FILE_BYTES
        if (o.maxFileSize !== undefined) {
          max = Number(o.maxFileSize)
          if (!/^\d{1,12}$/.test(o.maxFileSize) || max < 1) throw new KeydeskError('invalid_input', '--max-file-size must be a whole number of bytes, 1 or more.', 'maxFileSize')
        }
        const r = scanPaths(paths, (key) => s.findByKey(key), { git: o.git === true, maxFileBytes: max })
        const live = r.found.filter((k) => k.live)
        if (!g.json) printScan(r, formatLocation)
        let revoked: string[] = []
        if (o.revoke) {
          if (live.length === 0) {
            if (!g.json) out('No live key found; nothing to revoke.')
          } else {
            await confirmCount(live.length, o.confirm, 'live key')
            revoked = revokeLeaked(s, live, formatLocation)
            if (!g.json) for (const k of live) out(`Revoked ${keyLine(k)}: leaked in ${formatLocation(k.locations[0]!)}.`)
          }
        }
        if (g.json) json({ ...scanSummary(r), revoked })
        if (r.live) throw new Exit(EXIT.failed)
      }),
    )
}

/** Each key with its own reason ("leaked in FILE:LINE"); one key's failure stops the rest and is reported. */
function revokeLeaked(s: KeyStore, live: readonly LeakedKey[], formatLocation: Where): string[] {
  const done: string[] = []
  for (const k of live) {
    try {
      s.revoke([k.accessId], `leaked in ${formatLocation(k.locations[0]!)}`)
      done.push(k.accessId)
    } catch (e) {
      if (e instanceof KeydeskError && done.length > 0)
        throw new KeydeskError(e.kind, `${e.message} (already revoked before this: ${done.join(', ')})`, e.field)
      throw e
    }
  }
  return done
}

type Where = (typeof import('../main/core/scan'))['formatLocation']

function printScan(r: ScanResult, formatLocation: Where): void {
  for (const k of r.found) {
    const what = `${k.live ? 'LIVE' : 'dead'} key ${keyLine(k)}, ${k.status}${k.previous ? ', previous secret' : ''}, hint ${k.hint}…`
    out(`${what} found at:`)
    for (const l of k.locations) out(`  ${formatLocation(l)}`)
  }
  for (const u of r.unknown) {
    out(`Access key ${u.hint}… (not a key of this store) found at:`)
    for (const l of u.locations) out(`  ${formatLocation(l)}`)
  }
  const st = r.stats
  const skipped = [st.skippedBinary && `${st.skippedBinary} binary`, st.skippedLarge && `${st.skippedLarge} too large`, st.skippedUnreadable && `${st.skippedUnreadable} unreadable`].filter(Boolean)
  out(
    `Scanned ${st.files} file${st.files === 1 ? '' : 's'}${st.blobs ? ` and ${st.blobs} history blob${st.blobs === 1 ? '' : 's'}` : ''}` +
      `${skipped.length ? ` (skipped ${skipped.join(', ')})` : ''}: ` +
      (r.found.length === 0 ? 'no key of this store found.' : `${r.found.filter((k) => k.live).length} live and ${r.found.filter((k) => !k.live).length} dead key(s) of this store found.`),
  )
}
