/**
 * `keydesk team …`: set up a TEAM store (PostgreSQL) and move its secret (pepper +
 * MAC key) between admins and to gateways — never through the shared database.
 *
 * - `team init --store URL`: creates the store in an EMPTY database; its secret goes
 *   into this admin's OS keychain.
 * - `team export-secret FILE`: the secret sealed with a passphrase (age, ASCII armor)
 *   for another admin; `--gateway`: the unsealed JSON for `keydesk serve --secret-file`.
 *   Both files are new, 0600, and every export is in the audit log.
 * - `team join FILE --store URL`: opens a sealed file into this admin's keychain, but
 *   only if it belongs to that database's store and matches its keychain fingerprint
 *   (a wrong file is never written to the keychain; an existing entry never replaced).
 *
 * Same contract as the rest of the CLI: exit 0 done; 2 bad usage or input; 3 keychain
 * or store unavailable; one-line errors. No secret and no passphrase is ever printed.
 */
import { closeSync, openSync, readSync, unlinkSync } from 'node:fs'
import type { Command } from 'commander'
import { KeydeskError, openKeyStore, keytarKeychain, KEYCHAIN_SERVICE, type KeyStore, type StoreLocation } from '../main/core/index'
import { StoreCrypto, decodeKeyMaterial } from '../main/core/crypto'
import { checkTarget, writePrivateFile } from '../main/core/files'
import { fingerprintV2 } from '../main/core/services/integrity'
import { openPostgres, redactUrl } from '../main/core/storage/postgres'
import { joinTeam, openTeamSecret, sealTeamSecret, teamSecretPayload, writeTeamSecretFile } from '../main/core/team-secret'
import { adminIdentity, CLI_PAGE_CACHE_KIB, storeOf } from './where'
import type { ExitFactory } from './commands-attention'

/** What main.ts lends: its Exit, its stdout writer (EPIPE-aware) and its escaping of user data. */
export interface TeamIo {
  Exit: ExitFactory
  out: (s: string) => void
  esc: (v: unknown) => string
}

/** Largest passphrase file read (its first line is the passphrase) and largest sealed file. */
const MAX_PASSPHRASE_FILE = 4096
const MAX_SECRET_FILE = 64 * 1024

/**
 * The store as named in a secret file: the URL without its password (not even "***"),
 * and without a password given as a query parameter (?password=, ?sslpassword=).
 */
export function storeLabel(url: string): string {
  const redacted = redactUrl(url)
  try {
    const u = new URL(redacted)
    u.password = ''
    for (const k of [...u.searchParams.keys()]) if (/pass/i.test(k)) u.searchParams.delete(k)
    return u.toString()
  } catch {
    return redacted
  }
}

/** Read at most `max` bytes of a file; refuse a longer one. */
function readSmall(path: string, max: number, what: string, field: string): string {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (e) {
    throw new KeydeskError('invalid_input', `Cannot read the ${what} ${path} (${(e as { code?: string }).code ?? 'error'}).`, field)
  }
  try {
    const buf = Buffer.alloc(max + 1)
    let n = 0
    for (;;) {
      let got: number
      try {
        got = readSync(fd, buf, n, buf.length - n, null)
      } catch (e) {
        throw new KeydeskError('invalid_input', `Cannot read the ${what} ${path} (${(e as { code?: string }).code ?? 'error'}).`, field)
      }
      if (got === 0) break
      n += got
      if (n > max) throw new KeydeskError('invalid_input', `The ${what} ${path} is too large (more than ${max} bytes).`, field)
    }
    return buf.subarray(0, n).toString('utf8')
  } finally {
    closeSync(fd)
  }
}

/** --passphrase-file: its first line, without the line ending. */
function readPassphraseFile(path: string): string {
  const text = readSmall(path, MAX_PASSPHRASE_FILE, 'passphrase file', 'passphraseFile')
  const first = text.split('\n')[0]!.replace(/\r$/, '')
  if (first === '') throw new KeydeskError('invalid_input', `The passphrase file ${path} is empty: its first line is the passphrase.`, 'passphraseFile')
  return first
}

/** Ask in the terminal without echoing; Ctrl-C cancels. */
function askHidden(question: string): Promise<string> {
  const stdin = process.stdin
  return new Promise((res, rej) => {
    let value = ''
    const wasRaw = stdin.isRaw
    const finish = (err?: KeydeskError) => {
      stdin.off('data', onData)
      stdin.setRawMode(wasRaw)
      stdin.pause()
      process.stderr.write('\n')
      if (err) rej(err)
      else res(value)
    }
    const onData = (chunk: Buffer | string) => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish()
        if (ch === '\u0003') return finish(new KeydeskError('invalid_input', 'Cancelled; nothing was written.', 'passphrase'))
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('')
        else if (ch >= ' ') value += ch
      }
    }
    stdin.setRawMode(true) // before the question: what is typed after it is never echoed
    stdin.setEncoding('utf8')
    process.stderr.write(question)
    stdin.on('data', onData)
    stdin.resume()
  })
}

const passphraseNeeded = (cmd: string): KeydeskError =>
  new KeydeskError(
    'invalid_input',
    `${cmd} needs a passphrase: give --passphrase-file FILE (its first line), or run it in a terminal to be asked.`,
    'passphraseFile',
  )

export function addTeamCommands(program: Command, io: TeamIo): void {
  const { out, esc } = io
  const json = (v: unknown): void => out(JSON.stringify(v))
  /** Template tag: every interpolated value is escaped; the literal text is kept. */
  const t = (strings: TemplateStringsArray, ...values: unknown[]): string =>
    strings.reduce((acc, str, i) => acc + str + (i < values.length ? esc(values[i]) : ''), '')
  const asJson = (): boolean => program.opts<{ json?: boolean }>().json === true

  /** The team store's URL, or exit 2 naming --store. */
  const teamWhere = (cmd: string): StoreLocation & { store: string } => {
    const where = storeOf(program)
    if (where.store === undefined)
      throw new KeydeskError('invalid_input', `${cmd} needs --store postgres://… (or KEYDESK_STORE): the team database.`, 'store')
    return where as StoreLocation & { store: string }
  }

  /** Open the team store, run fn, always close (waiting for the keychain anchor). */
  const withTeamStore = async <T>(where: StoreLocation, fn: (s: KeyStore) => T | Promise<T>): Promise<T> => {
    const store = await openKeyStore({ ...where, create: false, actor: adminIdentity(where), pageCacheKiB: CLI_PAGE_CACHE_KIB })
    let result: T
    try {
      result = await fn(store)
    } catch (e) {
      store.close()
      throw e
    }
    await store.closeAsync()
    return result
  }

  const keyCount = (s: KeyStore): number => s.list({ status: 'all', limit: 1 }).total

  const team = program.command('team').description('a team store (PostgreSQL): create it, and share its secret with other admins and gateways')

  // ── init ──────────────────────────────────────────────────────────────
  team
    .command('init')
    .description('create a team store in an EMPTY PostgreSQL database (--store URL); its secret goes into this computer\'s OS keychain')
    .action(async () => {
      const where = teamWhere('team init')
      const label = storeLabel(where.store)
      // A database that already holds a store is joined, never initialised again.
      const probe = openPostgres(where.store, { create: true })
      let existing: string | undefined
      try {
        existing = probe.getMeta('store_id') !== undefined && probe.getMeta('keychain_fingerprint') !== undefined ? probe.getMeta('store_id') : undefined
      } finally {
        probe.close()
      }
      if (existing !== undefined)
        throw new KeydeskError(
          'invalid_input',
          `The database at ${label} already holds KeyDesk team store ${existing}; nothing was changed. To use it from this computer, ask one of its admins for "keydesk team export-secret FILE" and run: keydesk team join FILE --store URL`,
          'store',
        )
      const store = await openKeyStore({ ...where, initTeam: true, actor: adminIdentity(where) })
      let storeId: string
      let backend: string
      try {
        ;({ storeId, keychain: backend } = store.health())
      } catch (e) {
        store.close()
        throw e
      }
      await store.closeAsync()
      if (asJson()) return json({ storeId, store: label, keychain: { backend, service: KEYCHAIN_SERVICE, account: storeId } })
      out(
        [
          t`Created team store ${storeId} in ${label}.`,
          t`Its secret (pepper and MAC key) is in this computer's OS keychain (service "${KEYCHAIN_SERVICE}", account ${storeId}); it is never stored in the database.`,
          'Next steps:',
          t`  Another admin:  keydesk --store ${label} team export-secret FILE   (sealed with a passphrase: hand over FILE and the passphrase separately)`,
          t`                  they run: keydesk --store URL team join FILE`,
          t`  A gateway:      keydesk --store ${label} team export-secret --gateway FILE   (unsealed: copy it to the gateway host, readable by its service user only)`,
          t`                  it runs: keydesk --store URL serve --secret-file FILE`,
        ].join('\n'),
      )
    })

  // ── export-secret ─────────────────────────────────────────────────────
  team
    .command('export-secret <file>')
    .description('write the team store\'s secret to a new file (0600): sealed with a passphrase for another admin, or --gateway for keydesk serve --secret-file')
    .option('--gateway', 'the unsealed gateway secret file (JSON), for keydesk serve --secret-file')
    .option('--passphrase-file <file>', 'read the passphrase from the first line of this file (default: ask in the terminal, twice)')
    .action(async (file: string, o: { gateway?: boolean; passphraseFile?: string }) => {
      const where = teamWhere('team export-secret')
      if (o.gateway && o.passphraseFile !== undefined)
        throw new KeydeskError('invalid_input', '--passphrase-file goes with a sealed export; a --gateway file is not sealed.', 'passphraseFile')
      checkTarget(file, 'file') // before the store is opened and before anyone types a passphrase
      let passphrase = o.gateway || o.passphraseFile === undefined ? undefined : readPassphraseFile(o.passphraseFile)
      if (!o.gateway && passphrase === undefined && !process.stdin.isTTY) throw passphraseNeeded('team export-secret')
      const kind: 'sealed' | 'gateway' = o.gateway ? 'gateway' : 'sealed'
      const label = storeLabel(where.store)
      const r = await withTeamStore(where, async (s) => {
        const entry = await keytarKeychain().get(s.storeId)
        if (entry === null)
          throw new KeydeskError('keychain_unavailable', `The OS keychain has no entry for team store ${s.storeId}; nothing was written.`)
        const material = decodeKeyMaterial(entry)
        let path: string
        if (kind === 'gateway') {
          path = writePrivateFile(file, teamSecretPayload(material, s.storeId, label), 'file')
        } else {
          if (passphrase === undefined) {
            passphrase = await askHidden('Passphrase for the team secret file (12 characters or more): ')
            const again = await askHidden('The same passphrase again: ')
            if (again !== passphrase) throw new KeydeskError('invalid_input', 'The two passphrases differ; nothing was written.', 'passphrase')
          }
          path = writeTeamSecretFile(file, await sealTeamSecret(material, s.storeId, label, passphrase))
        }
        try {
          s.noteTeamSecretExport(path, kind)
        } catch (e) {
          // An export the audit log does not show must not exist: take the file back.
          try {
            unlinkSync(path)
          } catch {
            /* reported below either way */
          }
          throw e
        }
        return { path, storeId: s.storeId }
      })
      if (asJson()) return json({ path: r.path, kind, storeId: r.storeId, store: label })
      if (kind === 'gateway')
        out(
          [
            t`Wrote the gateway secret file of team store ${r.storeId} to ${r.path} (owner-only, UNSEALED: it holds the store's secret in the clear).`,
            t`Copy it to the gateway host, readable only by the gateway's service user, and run: keydesk --store URL serve --secret-file FILE`,
          ].join('\n'),
        )
      else
        out(
          [
            t`Wrote the sealed secret of team store ${r.storeId} to ${r.path} (owner-only, sealed with your passphrase).`,
            t`Give the file and the passphrase to the other admin by separate channels; they run: keydesk --store ${label} team join FILE`,
          ].join('\n'),
        )
    })

  // ── join ──────────────────────────────────────────────────────────────
  team
    .command('join <file>')
    .description("put a team store's sealed secret (from team export-secret) into this computer's OS keychain; needs --store URL")
    .option('--passphrase-file <file>', 'read the passphrase from the first line of this file (default: ask in the terminal)')
    .action(async (file: string, o: { passphraseFile?: string }) => {
      const where = teamWhere('team join')
      const label = storeLabel(where.store)
      const armored = readSmall(file, MAX_SECRET_FILE, 'team secret file', 'file')
      let passphrase = o.passphraseFile === undefined ? undefined : readPassphraseFile(o.passphraseFile)
      if (passphrase === undefined && !process.stdin.isTTY) throw passphraseNeeded('team join')
      // Which store the database holds, and its keychain fingerprint (before anyone types a passphrase).
      const probe = openPostgres(where.store)
      let dbStoreId: string | undefined
      let fingerprint: string | undefined
      let macVersion: string | undefined
      try {
        dbStoreId = probe.getMeta('store_id')
        fingerprint = probe.getMeta('keychain_fingerprint')
        macVersion = probe.getMeta('mac_version')
      } finally {
        probe.close()
      }
      if (dbStoreId === undefined || fingerprint === undefined)
        throw new KeydeskError('store_unavailable', `The database at ${label} holds no initialised KeyDesk team store (keydesk team init creates one); nothing was added to the keychain.`)
      passphrase ??= await askHidden('Passphrase of the team secret file: ')
      const secret = await openTeamSecret(armored, passphrase)
      if (secret.storeId !== dbStoreId)
        throw new KeydeskError(
          'invalid_input',
          `${file} holds the secret of team store ${secret.storeId}, but the database at ${label} holds store ${dbStoreId}; nothing was added to the keychain.`,
          'file',
        )
      const crypto = new StoreCrypto(secret.material)
      const matches = macVersion === '2' ? fingerprintV2({ crypto }, dbStoreId) === fingerprint : crypto.fingerprint(dbStoreId) === fingerprint
      if (!matches)
        throw new KeydeskError(
          'invalid_input',
          `${file} names team store ${dbStoreId}, but its secret does not match that store's keychain fingerprint (an outdated or forged file?); nothing was added to the keychain.`,
          'file',
        )
      const result = await joinTeam(keytarKeychain(), secret)
      // Prove it works: open the store the normal way.
      const r = await withTeamStore(where, (s) => ({ storeId: s.storeId, keys: keyCount(s) }))
      if (asJson()) return json({ result: result === 'added' ? 'joined' : 'already-joined', storeId: r.storeId, store: label, keys: r.keys })
      out(
        result === 'added'
          ? t`Joined team store ${r.storeId} at ${label}: its secret is now in this computer's OS keychain; the store holds ${r.keys} key${r.keys === 1 ? '' : 's'}.`
          : t`Already joined team store ${r.storeId} at ${label} (this keychain holds the same secret); the store holds ${r.keys} key${r.keys === 1 ? '' : 's'}.`,
      )
    })
}
