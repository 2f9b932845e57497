/**
 * The `keydesk` command: every admin action on the same store the app uses.
 * Contract (users' scripts rely on it): see README "CLI". Exit codes: 0 done;
 * 1 verify failed or not found; 2 bad usage or invalid input; 3 keychain or
 * store unavailable. Errors are one line on stderr, never a stack trace.
 * Secrets appear only in create/reset output and the CSV they were asked to write.
 */
import { readFileSync, statfsSync } from 'node:fs'
import { Command, CommanderError, Option } from 'commander'
import { systemErrorDetail } from '../main/core/errors'
import {
  KeydeskError,
  openKeyStore,
  inspectBackup,
  restoreBackup,
  resolveDataDir,
  type StoreLocation,
  type IssuedKey,
  type KeyStore,
  type KeyView,
  type Policy,
} from '../main/core/index'
import { addServeCommand } from './serve'
import { adminIdentity, CLI_PAGE_CACHE_KIB, storeOf } from './where'
import { addAttentionCommands, parseDays } from './commands-attention'
import { addTeamCommands } from './team'
import { EXIT, exitCodeFor } from './exit'
import { esc, t } from './text'

/** Thrown inside commands to end with a given exit code and an optional one-line message. */
class Exit extends Error {
  constructor(readonly code: number, message = '') {
    super(message)
  }
}

/** Thrown by out() once stdout is gone (EPIPE: `keydesk list | head -1`): ends the command quietly. */
class StdoutClosed extends Error {}

let stdoutClosed = false
/** A secret (create/reset output) was written to stdout: if stdout then turns out closed, say so. */
let secretWritten = false
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') stdoutClosed = true
  else fatal(e)
})
process.stderr.on('error', () => {
  /* nowhere left to report to */
})

function out(s: string): void {
  if (stdoutClosed) throw new StdoutClosed()
  process.stdout.write(s.endsWith('\n') ? s : s + '\n')
}
function json(v: unknown): void {
  out(JSON.stringify(v))
}
/** Write without a newline (streamed JSON). */
function raw(s: string): void {
  if (stdoutClosed) throw new StdoutClosed()
  process.stdout.write(s)
}

/** Let a pending stdout 'error' (EPIPE) be seen before writing more. */
const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

/** One line for any error that is not a KeydeskError: no stack trace, disk full named. */
function describeUnexpected(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code
  if (typeof code === 'string' && /^(E[A-Z]+|SQLITE_[A-Z_]+)$/.test(code)) {
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') return systemErrorDetail(code === 'SQLITE_FULL' ? 'ENOSPC' : code)
    const msg = e instanceof Error ? e.message.split('\n')[0]! : ''
    return msg.includes(code) ? msg : `${msg} (${code})`
  }
  return e instanceof Error ? e.message.split('\n')[0]! : String(e)
}

function fatal(e: unknown): never {
  try {
    process.stderr.write(`keydesk: unexpected error: ${esc(describeUnexpected(e))}\n`)
  } catch {
    /* stderr gone too */
  }
  process.exit(EXIT.unavailable)
}
process.on('uncaughtException', fatal)
process.on('unhandledRejection', fatal)

/** Largest key accepted on stdin. */
const MAX_STDIN_KEY = 4096

/**
 * Read the key from stdin: waits for a slow writer (no EAGAIN), stops after
 * MAX_STDIN_KEY + 1 bytes and refuses "too long" (closing stdin, so a writer of
 * 400 MB gets EPIPE instead of filling our memory).
 */
function readStdinKey(): Promise<string> {
  return new Promise((res, rej) => {
    const stdin = process.stdin
    const chunks: Buffer[] = []
    let size = 0
    const done = (err: KeydeskError | null, value = '') => {
      stdin.off('data', onData)
      stdin.off('end', onEnd)
      stdin.off('error', onError)
      stdin.on('error', () => {}) // late errors after we stopped reading
      if (err) {
        stdin.destroy()
        rej(err)
      } else {
        stdin.pause()
        res(value)
      }
    }
    const onData = (c: Buffer | string) => {
      const b = typeof c === 'string' ? Buffer.from(c) : c
      size += b.length
      if (size > MAX_STDIN_KEY) return done(new KeydeskError('invalid_input', `The key on stdin is too long: at most ${MAX_STDIN_KEY} bytes.`, 'key'))
      chunks.push(b)
    }
    const onEnd = () => done(null, Buffer.concat(chunks).toString('utf8'))
    const onError = (e: NodeJS.ErrnoException) =>
      done(new KeydeskError('invalid_input', `Cannot read the key from stdin: ${systemErrorDetail(e.code)}.`, 'key'))
    stdin.on('data', onData)
    stdin.on('end', onEnd)
    stdin.on('error', onError)
  })
}

const program = new Command()
program
  .name('keydesk')
  .description('Issue, reset, revoke and verify API keys (access ID + access key pairs).')
  .option('--data-dir <dir>', 'key store directory (default: $KEYDESK_DATA_DIR, else the app user-data dir)')
  .option('--store <url>', 'a team store: postgres://user@host/db (default: $KEYDESK_STORE; else the local store in --data-dir)')
  .option('--json', 'machine-readable output')
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(`keydesk: ${esc(str.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' '))} (see keydesk --help)\n`) })

function globals(): { where: StoreLocation; dataDir: string; json: boolean } {
  const where = storeOf(program)
  return { where, dataDir: where.dataDir, json: program.opts<{ json?: boolean }>().json === true }
}

/**
 * Open the store, run fn, always close (which flushes last-used times and waits for
 * the keychain anchor to catch up). Only write commands may create a store: a read
 * command on a directory without one is refused, never given a new empty store.
 */
async function withStore<T>(fn: (store: KeyStore, g: { json: boolean }) => T | Promise<T>, mode: { write: boolean } = { write: true }): Promise<T> {
  const g = globals()
  const store = await openKeyStore({ ...g.where, create: mode.write, actor: adminIdentity(g.where), pageCacheKiB: CLI_PAGE_CACHE_KIB })
  let result: T
  try {
    result = await fn(store, g)
  } catch (e) {
    store.close()
    throw e
  }
  await store.closeAsync()
  return result
}
const READ = { write: false }



function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

function printIssued(k: IssuedKey, asJson: boolean, verb: string, csv?: string): void {
  secretWritten = true
  if (asJson) {
    json({ accessId: k.accessId, accessKey: k.accessKey, name: k.name, owner: k.owner, expiresAt: k.expiresAt })
    return
  }
  out(
    [
      t`${verb} key "${k.name}" for ${k.owner}.`,
      t`  Access ID:   ${k.accessId}`,
      t`  Access Key:  ${k.accessKey}`,
      t`  Scopes:      ${k.scopes.join(' ') || '(none)'}`,
      t`  Expires at:  ${k.expiresAt}`,
      csv ? t`  Credential CSV written to ${csv} (owner-only).` : '',
      'The access key is shown only once: store it now. A lost key can only be reset.',
    ]
      .filter(Boolean)
      .join('\n'),
  )
}

function listItem(k: KeyView) {
  return {
    accessId: k.accessId,
    name: k.name,
    owner: k.owner,
    status: k.status,
    scopes: k.scopes,
    createdAt: k.createdAt,
    expiresAt: k.expiresAt,
    lastUsedAt: k.lastUsedAt,
    ...(k.tampered ? { tampered: true } : {}),
    ...(k.stale ? { stale: true } : {}),
  }
}

/** Escaped (esc) and padded to n columns. */
function pad(v: string, n: number): string {
  const s = esc(v)
  return s.length >= n ? s : s + ' '.repeat(n - s.length)
}

function statusWord(k: KeyView): string {
  return k.tampered ? 'TAMPERED' : k.stale ? 'stale' : k.status
}

// ── owners ──────────────────────────────────────────────────────────────

const owner = program.command('owner').description('manage key owners (users and service accounts)')
owner
  .command('add <name>')
  .description('add an owner')
  .option('--service', 'a service account (default: a user)')
  .action((name: string, o: { service?: boolean }) =>
    withStore((s, g) => {
      const v = s.addOwner(name, o.service ? 'service' : 'user')
      if (g.json) json(v)
      else out(t`Added ${v.kind === 'service' ? 'service account' : 'user'} "${v.name}".`)
    }),
  )
owner
  .command('list')
  .description('list owners with key counts')
  .action(() =>
    withStore((s, g) => {
      const owners = s.listOwners()
      if (g.json) return json(owners)
      if (owners.length === 0) return out('No owners yet. Add one with: keydesk owner add NAME [--service]')
      const w = Math.max(5, ...owners.map((o) => esc(o.name).length))
      out(`${pad('OWNER', w)}  KIND     STATE     ACTIVE  EXPIRED  REVOKED`)
      for (const o of owners)
        out(
          `${pad(o.name, w)}  ${pad(o.kind, 7)}  ${pad(o.tampered ? 'TAMPERED' : o.disabledAt ? 'disabled' : 'enabled', 8)}  ${pad(String(o.keys.active), 6)}  ${pad(String(o.keys.expired), 7)}  ${o.keys.revoked}`,
        )
    }, READ),
  )
owner
  .command('disable <name>')
  .description("disable an owner: its keys stop verifying")
  .action((name: string) =>
    withStore((s, g) => {
      const v = s.disableOwner(name)
      if (g.json) json(v)
      else out(t`Disabled "${v.name}"; its ${v.keys.active} active keys no longer verify.`)
    }),
  )
owner
  .command('enable <name>')
  .description('undo a disable: its unrevoked, unexpired keys verify again')
  .action((name: string) =>
    withStore((s, g) => {
      const v = s.enableOwner(name)
      if (g.json) json(v)
      else out(t`Enabled "${v.name}"; its ${v.keys.active} active keys verify again.`)
    }),
  )

// ── keys ────────────────────────────────────────────────────────────────

program
  .command('create')
  .description('issue a key; the access key is printed once')
  .option('--name <name>', 'key name; "/" makes folders (blank: generated)')
  .option('--owner <name>', 'owner (default: the current OS user)')
  .option('--scope <scope>', 'scope (repeatable)', collect)
  .option('--expires-in <duration>', 'e.g. 90m, 12h, 30d (default: policy default)')
  .option('--expires-at <iso>', 'ISO-8601 date or date-time')
  .option('--description <text>', 'free text')
  .option('--csv <file>', 'also write a credential CSV (owner-only permissions)')
  .action((o: { name?: string; owner?: string; scope?: string[]; expiresIn?: string; expiresAt?: string; description?: string; csv?: string }) =>
    withStore((s, g) => {
      const k = s.create(
        { name: o.name, owner: o.owner, scopes: o.scope, expiresIn: o.expiresIn, expiresAt: o.expiresAt, description: o.description },
        o.csv,
      )
      printIssued(k, g.json, 'Created', o.csv)
    }),
  )

program
  .command('list')
  .description('list keys (never secrets)')
  .addOption(new Option('--status <status>', 'filter by status').choices(['active', 'disabled', 'expired', 'revoked', 'all']).default('all'))
  .option('--owner <name>', 'filter by owner')
  .option('--scope <scope>', 'filter by scope')
  .option('--search <text>', 'text in name, access ID or description')
  .option('--expiring-within <duration>', 'active keys expiring within e.g. 7d')
  .option('--unused-for <duration>', 'active keys not used for e.g. 45d (never used counts from creation)')
  .addOption(new Option('--sort <field>', 'sort order').choices(['created', 'name', 'accessId', 'owner', 'status', 'expires', 'lastUsed']).default('created'))
  .option('--limit <n>', 'at most n keys (default: all)')
  .action((o: { status: 'all'; owner?: string; scope?: string; search?: string; expiringWithin?: string; unusedFor?: string; sort: 'created'; limit?: string }) =>
    withStore(async (s, g) => {
      let expiringWithinDays: number | undefined
      if (o.expiringWithin !== undefined) {
        const m = /^\s*(\d{1,4})\s*d?\s*$/.exec(o.expiringWithin)
        if (!m) throw new KeydeskError('invalid_input', `--expiring-within "${o.expiringWithin}" must be a number of days, e.g. 7d.`, 'expiringWithin')
        expiringWithinDays = Number(m[1])
      }
      const limit = o.limit === undefined ? Infinity : Number(o.limit)
      if (o.limit !== undefined && (!Number.isInteger(limit) || limit < 1))
        throw new KeydeskError('invalid_input', '--limit must be a whole number, 1 or more.', 'limit')
      const unusedForDays = o.unusedFor === undefined ? undefined : parseDays(o.unusedFor, '--unused-for', 'unusedFor')
      const q = { status: o.status, owner: o.owner, scope: o.scope, search: o.search, expiringWithinDays, unusedForDays, sort: o.sort }
      // Stream page by page so a million keys never sit in memory at once.
      let offset = 0
      let first = true
      let total = 0
      if (g.json) raw('[')
      for (;;) {
        const pageSize = Math.min(1000, limit - offset)
        if (pageSize <= 0) break
        const page = s.list({ ...q, offset, limit: pageSize })
        total = page.total
        for (const k of page.items) {
          if (g.json) {
            raw((first ? '' : ',') + JSON.stringify(listItem(k)))
          } else {
            if (first) out(`${pad('NAME', 28)}  ${pad('ACCESS ID', 21)}  ${pad('OWNER', 16)}  ${pad('STATUS', 8)}  EXPIRES`)
            out(`${pad(k.name, 28)}  ${esc(k.accessId)}  ${pad(k.owner, 16)}  ${pad(statusWord(k), 8)}  ${esc(k.expiresAt)}`)
          }
          first = false
        }
        offset += page.items.length
        if (page.items.length < pageSize) break
        await tick() // a reader that went away (EPIPE) is noticed here, not after a million rows
      }
      if (g.json) out(']')
      else if (first) out('No keys match.')
      else if (offset < total) out(`(${offset} of ${total} shown)`)
    }, READ),
  )

program
  .command('show <idOrName>')
  .description('show one key (never its secret)')
  .option('--owner <name>', 'owner, when the name is used by several owners')
  .action((ref: string, o: { owner?: string }) =>
    withStore((s, g) => {
      const k = s.get(ref, o.owner)
      if (g.json) return json(k)
      out(
        [
          t`Name:         ${k.name}`,
          t`Access ID:    ${k.accessId}`,
          t`Owner:        ${k.owner} (${k.ownerKind}${k.ownerDisabled ? ', disabled' : ''})`,
          t`Status:       ${k.status}${k.revokedReason ? ` (${k.revokedReason})` : ''}`,
          t`Scopes:       ${k.scopes.join(' ') || '(none)'}`,
          t`Description:  ${k.description || '(none)'}`,
          t`Key hint:     ${k.hint}…`,
          t`Created at:   ${k.createdAt}`,
          t`Expires at:   ${k.expiresAt}`,
          t`Last reset:   ${k.resetAt ?? 'never'}`,
          t`Last used:    ${k.lastUsedAt ?? 'never'}`,
          k.graceUntil ? t`Old key valid until ${k.graceUntil} (grace period)` : '',
          k.revokedAt ? t`Revoked at:   ${k.revokedAt}` : '',
          k.tampered ? 'WARNING: this key was edited outside KeyDesk (MAC mismatch); it will not verify.' : '',
        ]
          .filter(Boolean)
          .join('\n'),
      )
    }, READ),
  )

program
  .command('reset <idOrName>')
  .description("issue a new secret for a key; --confirm must equal the key's name")
  .requiredOption('--confirm <name>', "the key's name, typed exactly")
  .option('--grace <duration>', 'keep the old secret valid this long, e.g. 24h (default: dies at once)')
  .addOption(new Option('--previous <choice>', 'a previous secret still in grace: keep it until its grace ends, or end it now').choices(['keep', 'end']))
  .option('--owner <name>', 'owner, when the name is used by several owners')
  .option('--csv <file>', 'also write a credential CSV (owner-only permissions)')
  .action((ref: string, o: { confirm: string; grace?: string; previous?: 'keep' | 'end'; owner?: string; csv?: string }) =>
    withStore((s, g) => {
      const k = s.reset(ref, { confirm: o.confirm, grace: o.grace, owner: o.owner, previous: o.previous }, o.csv)
      printIssued(k, g.json, 'Reset', o.csv)
    }),
  )

program
  .command('revoke [idOrName...]')
  .description('revoke keys, or every key of an owner (--owner without keys); irreversible')
  .option('--owner <name>', 'the owner (alone: revoke all its keys)')
  .option('--reason <text>', 'why, for the audit log')
  .action((refs: string[], o: { owner?: string; reason?: string }) =>
    withStore((s, g) => {
      if (refs.length === 0) {
        if (!o.owner) throw new KeydeskError('invalid_input', 'Name the keys to revoke, or give --owner NAME to revoke all keys of an owner.', 'keys')
        const r = s.revokeOwnerKeys(o.owner, o.reason)
        if (g.json) return json(r)
        return out(t`Revoked ${r.revoked} keys of "${r.owner}".`)
      }
      const revoked = s.revoke(refs, o.reason, o.owner)
      if (g.json) return json(revoked.map(listItem))
      for (const k of revoked) out(t`Revoked ${k.accessId} ("${k.name}", ${k.owner}).`)
    }),
  )

program
  .command('disable <idOrName>')
  .description('switch a key off (reversible with enable); verify answers "disabled"')
  .option('--owner <name>', 'owner, when the name is used by several owners')
  .option('--reason <text>', 'why, for the audit log')
  .action((ref: string, o: { owner?: string; reason?: string }) =>
    withStore((s, g) => {
      const k = s.disableKey(ref, o.reason, o.owner)
      if (g.json) return json(listItem(k))
      out(`Disabled ${k.accessId} ("${k.name}", ${k.owner}); it does not verify until enabled.`)
    }),
  )

program
  .command('enable <idOrName>')
  .description('switch a disabled key on again')
  .option('--owner <name>', 'owner, when the name is used by several owners')
  .action((ref: string, o: { owner?: string }) =>
    withStore((s, g) => {
      const k = s.enableKey(ref, o.owner)
      if (g.json) return json(listItem(k))
      out(`Enabled ${k.accessId} ("${k.name}", ${k.owner}).`)
    }),
  )

program
  .command('edit <idOrName>')
  .description("change a key's name, description, scopes or expiry (its secret is untouched)")
  .option('--owner <name>', 'owner, when the name is used by several owners')
  .option('--name <name>', 'new name')
  .option('--description <text>', 'new description')
  .option('--scope <scope>', 'the new scopes (repeatable; replaces the old ones)', collect)
  .option('--no-scopes', 'remove every scope')
  .option('--expires-in <duration>', 'new expiry from now, e.g. 30d (within the policy max age)')
  .option('--expires-at <iso>', 'new expiry date or date-time')
  .action((ref: string, o: { owner?: string; name?: string; description?: string; scope?: string[]; scopes?: boolean; expiresIn?: string; expiresAt?: string }) =>
    withStore((s, g) => {
      const changes = {
        ...(o.name !== undefined ? { name: o.name } : {}),
        ...(o.description !== undefined ? { description: o.description } : {}),
        ...(o.scope !== undefined ? { scopes: o.scope } : o.scopes === false ? { scopes: [] } : {}),
        ...(o.expiresIn !== undefined ? { expiresIn: o.expiresIn } : {}),
        ...(o.expiresAt !== undefined ? { expiresAt: o.expiresAt } : {}),
      }
      if (Object.keys(changes).length === 0)
        throw new KeydeskError('invalid_input', 'Nothing to change: give --name, --description, --scope, --no-scopes, --expires-in or --expires-at.', 'changes')
      const k = s.updateKey(ref, changes, o.owner)
      if (g.json) return json(listItem(k))
      out(`Updated ${k.accessId} ("${k.name}", ${k.owner}): scopes ${k.scopes.join(' ') || '(none)'}, expires ${k.expiresAt}.`)
    }),
  )

program
  .command('verify')
  .description('check a key: --access-id + --access-key, --key, or the key on stdin')
  .option('--access-id <id>', 'access ID (with --access-key)')
  .option('--access-key <key>', 'access key (with --access-id)')
  .option('--key <key>', 'access key alone')
  .action(async (o: { accessId?: string; accessKey?: string; key?: string }) => {
    if (o.key !== undefined && (o.accessKey !== undefined || o.accessId !== undefined))
      throw new KeydeskError('invalid_input', 'Give either --key, or --access-id with --access-key.', 'key')
    if ((o.accessId === undefined) !== (o.accessKey === undefined))
      throw new KeydeskError('invalid_input', '--access-id and --access-key go together.', o.accessId === undefined ? 'accessId' : 'accessKey')
    let key = o.key ?? o.accessKey
    if (key === undefined) {
      if (process.stdin.isTTY) throw new KeydeskError('invalid_input', 'Give --key KEY, or pipe the key on stdin.', 'key')
      key = (await readStdinKey()).trim()
    }
    const accessKey = key
    return withStore((s, g) => {
      const r = s.verify({ accessKey, accessId: o.accessId })
      if (g.json) json(r)
      else if (r.valid) out(t`valid: ${r.accessId} owner=${r.owner} scopes=${r.scopes.join(' ') || '(none)'}`)
      else out(t`invalid: ${r.reason}`)
      if (!r.valid) throw new Exit(EXIT.failed)
    }, READ)
  })

program
  .command('export')
  .description('write an inventory CSV of every key (no secrets)')
  .requiredOption('--csv <file>', 'output file')
  .action((o: { csv: string }) =>
    withStore((s, g) => {
      const r = s.exportInventory(o.csv)
      if (g.json) json(r)
      else out(t`Wrote ${r.rows} keys to ${r.path}.`)
    }, READ),
  )

program
  .command('import')
  .description('issue keys from a CSV of names (Name, Owner, Scopes, Expires At|Expires In, Description): all or none')
  .requiredOption('--csv <file>', 'input CSV')
  .requiredOption('--out <file>', 'credential CSV to write (owner-only)')
  .action((o: { csv: string; out: string }) =>
    withStore((s, g) => {
      let text: string
      try {
        text = readFileSync(o.csv, 'utf8')
      } catch (e) {
        throw new KeydeskError('invalid_input', `Cannot read ${o.csv} (${(e as { code?: string }).code ?? 'error'}).`, 'csv')
      }
      const issued = s.importCsv(text, o.out)
      if (g.json) json({ issued: issued.length, out: o.out, accessIds: issued.map((k) => k.accessId) })
      else out(t`Issued ${issued.length} keys; credentials written to ${o.out} (owner-only). Keep it safe and delete it once distributed.`)
    }),
  )

// ── policy, purge, backup, audit ────────────────────────────────────────

const POLICY_NAMES: Record<string, keyof Policy> = {
  'max-key-age-days': 'maxKeyAgeDays',
  'max-keys-per-owner': 'maxKeysPerOwner',
  'default-expiry-days': 'defaultExpiryDays',
  'allow-creation': 'allowCreation',
  'retention-days': 'retentionDays',
  'reminder-days': 'reminderDays',
  'stale-after-days': 'staleAfterDays',
}

function printPolicy(p: Policy, asJson: boolean): void {
  if (asJson) return json(p)
  for (const [name, field] of Object.entries(POLICY_NAMES)) out(`${pad(name, 20)} ${esc(String(p[field]))}`) // arrays print as 30,7,1
}

const policy = program.command('policy').description('show or change the key policy')
policy.command('show').action(() => withStore((s, g) => printPolicy(s.getPolicy(), g.json), READ))
policy
  .command('set <name> <value>')
  .description(`set one of: ${Object.keys(POLICY_NAMES).join(', ')}`)
  .action((name: string, value: string) =>
    withStore((s, g) => {
      const field = POLICY_NAMES[name]
      if (!field) throw new KeydeskError('invalid_input', `Unknown policy "${name}"; use one of ${Object.keys(POLICY_NAMES).join(', ')}.`, 'name')
      let v: number | boolean | number[]
      if (field === 'allowCreation') {
        if (value !== 'true' && value !== 'false') throw new KeydeskError('invalid_input', 'allow-creation must be true or false.', name)
        v = value === 'true'
      } else if (field === 'reminderDays') {
        if (!/^\s*\d{1,3}\s*(,\s*\d{1,3}\s*)*$/.test(value)) throw new KeydeskError('invalid_input', 'reminder-days must be days separated by commas, e.g. 30,7,1.', name)
        v = value.split(',').map((d) => Number(d.trim()))
      } else {
        if (!/^\d{1,9}$/.test(value)) throw new KeydeskError('invalid_input', `${name} must be a whole number.`, name)
        v = Number(value)
      }
      printPolicy(s.setPolicy({ [field]: v }), g.json)
    }),
  )

program
  .command('purge')
  .description('delete revoked and expired keys older than the retention period')
  .action(() =>
    withStore((s, g) => {
      const r = s.purge()
      if (g.json) json(r)
      else out(`Purged ${r.purged} keys.`)
    }),
  )

program
  .command('backup <file>')
  .description('online backup of the store to a new file')
  .action((file: string) =>
    withStore(async (s, g) => {
      const r = await s.backup(file)
      if (g.json) json(r)
      else out(t`Backed up to ${r.path}. The backup is useless without this machine's keychain entry.`)
    }),
  )

program
  .command('audit')
  .description('show the audit log (newest first), or check its hash chain')
  .option('--verify', 'check the chain; exit 1 if broken')
  .option('--action <action>', 'filter by action, e.g. key.create')
  .option('--limit <n>', 'entries to show', '50')
  .action((o: { verify?: boolean; action?: string; limit: string }) =>
    withStore((s, g) => {
      if (o.verify) {
        const r = s.verifyAudit()
        if (g.json) json(r)
        else if (r.ok) out(`Audit log intact: ${r.checked} entries verified.`)
        else out(t`Audit log BROKEN at entry ${r.brokenAt}: ${r.problem} (${r.checked} entries verified before it).`)
        if (!r.ok) throw new Exit(EXIT.failed)
        return
      }
      const limit = Number(o.limit)
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new KeydeskError('invalid_input', '--limit must be a whole number from 1 to 1000.', 'limit')
      const entries = s.listAudit({ action: o.action, limit })
      if (g.json) return json(entries)
      for (const e of entries) out(`${esc(e.at)}  ${pad(e.actor, 10)}  ${pad(e.action, 18)}  ${esc(e.target)}  ${esc(JSON.stringify(e.detail))}`)
    }, READ),
  )

program
  .command('check')
  .description('full integrity check: every page, row MAC, tombstone, the audit chain and the keychain anchor')
  .action(() =>
    withStore(async (s, g) => {
      const r = await s.check()
      if (g.json) json(r)
      else if (r.ok) out(`Store intact: ${r.counts.keys} keys, ${r.counts.owners} owners, ${r.counts.tombstones} tombstones, ${r.counts.auditEntries} audit entries checked.`)
      else {
        out(`Store NOT intact (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}):`)
        for (const p of r.problems) out(`  - ${p}`)
      }
      if (!r.ok) throw new Exit(EXIT.unavailable)
    }, READ),
  )

program
  .command('restore <file>')
  .description("go back to a backup: the one sanctioned way to an older state (close the app first); --confirm must equal the store's id")
  .option('--confirm <storeId>', "the store's id, as this command prints it")
  .action(async (file: string, o: { confirm?: string }) => {
    const g = globals()
    const info = await inspectBackup(file)
    if (o.confirm === undefined) {
      out(`${file} is a backup of store ${info.storeId}: ${info.keys} keys, audit log up to entry ${info.headId}${info.headAt ? ` (${info.headAt})` : ''}.`)
      out(`Restoring it discards every change made since then. To restore, run again with --confirm ${info.storeId}`)
      throw new Exit(EXIT.usage)
    }
    const r = await restoreBackup({ file, dataDir: g.dataDir, confirm: o.confirm })
    if (g.json) json(r)
    else out(`Restored ${r.keys} keys from ${file} (audit log up to entry ${r.headId}${r.headAt ? `, ${r.headAt}` : ''}); the keychain now expects this state.`)
  })

addServeCommand(program)
addAttentionCommands(program, Exit)
addTeamCommands(program, { Exit, out, esc })

// ── run ─────────────────────────────────────────────────────────────────

/**
 * Name a full disk in a store error: SQLite says SQLITE_FULL or only "disk I/O
 * error" (a WAL that cannot grow); when the data dir's filesystem has no room left,
 * say so instead of leaving the user to guess.
 */
function withDiskFull(message: string, storeError: boolean): string {
  if (/disk is full/.test(message)) return message
  if (/\((SQLITE_FULL|ENOSPC)\)/.test(message)) return message.replace(/\((SQLITE_FULL|ENOSPC)\)/, '(the disk is full, $1; free some space)')
  if (/\b(SQLITE_FULL|ENOSPC)\b|database or disk is full/.test(message)) return `${message.replace(/\.$/, '')}: the disk is full (ENOSPC); free some space.`
  if (!storeError) return message
  try {
    const dir = program.opts<{ dataDir?: string }>().dataDir
    const st = statfsSync(resolveDataDir(dir))
    if (st.bavail * st.bsize < 256 * 1024) return `${message.replace(/\.$/, '')}: the disk holding the key store is full (ENOSPC); free some space.`
  } catch {
    /* the data dir may not exist: nothing to add */
  }
  return message
}

async function run(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv)
    return EXIT.ok
  } catch (e) {
    if (e instanceof StdoutClosed) return EXIT.ok // the reader stopped reading: end quietly
    if (e instanceof Exit) {
      if (e.message) process.stderr.write(`keydesk: ${esc(e.message)}\n`)
      return e.code
    }
    if (e instanceof CommanderError) {
      // Help and version are not errors; everything else is bad usage (already printed).
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? EXIT.ok : EXIT.usage
    }
    if (e instanceof KeydeskError) {
      process.stderr.write(`keydesk: ${esc(withDiskFull(e.message, e.kind === 'store_unavailable'))}\n`)
      return exitCodeFor(e)
    }
    process.stderr.write(`keydesk: unexpected error: ${esc(withDiskFull(describeUnexpected(e), true))}\n`)
    return EXIT.unavailable
  }
}

async function main(argv = process.argv): Promise<number> {
  const code = await run(argv)
  await tick() // a write that failed with EPIPE reports it on a later turn
  if (stdoutClosed && secretWritten) {
    process.stderr.write(
      'keydesk: standard output was closed before the access key could be read; the key is issued, but its secret may be lost: reset the key to get a new one (or revoke it).\n',
    )
    return EXIT.unavailable
  }
  return code
}

main().then((code) => {
  process.exitCode = code
})
