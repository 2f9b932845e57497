/**
 * The API handlers: one per contract operation, plain Node (no electron). Each
 * takes input the contract schema has already accepted, calls core, and returns
 * the output; domain failures are thrown as KeydeskError and turned into values
 * by `invoke`, which is the only entry point hosts use (Electron IPC, the
 * end-to-end harness, tests). Nothing throws across the bridge.
 */
import { userInfo } from 'node:os'
import { KeyStore, KeydeskError, invalid, keytarKeychain, openKeyStore } from '../core'
import type { KeychainPort } from '../core/keychain'
import { configuredStore, teamActor } from '../core/settings'
import { redactUrl } from '../core/storage/postgres'
import {
  SECRET_CLIPBOARD_CLEAR_MS,
  contract,
  type AppHealth,
  type BridgeError,
  type Output,
  type ParsedInput,
  type Result,
  type SaveOutcome,
} from '../../shared/contract'
import { OPERATION_NAMES, type OperationName } from '../../shared/operations'
import type { IssuedKey, StoreCheck } from '../../shared/domain'
import { HandoffRegistry } from './handoffs'
import type { PlatformPorts } from './ports'
import { parseInput } from './validate'
import { attentionHandlers } from './attention'
import { storeSettingsHandlers } from './store-settings'

/** The store, or why it could not be opened (then every operation but health answers with that). */
export type StoreState = { ok: true; store: KeyStore } | { ok: false; problem: BridgeError }

export interface Logger {
  error(message: string): void
  warn(message: string): void
}

export const consoleLogger: Logger = {
  error: (m) => console.error(`[keydesk] ${m}`),
  warn: (m) => console.warn(`[keydesk] ${m}`),
}

/** How a host opens its store: the Store setting reopens another one the same way. */
export interface StoreSetup {
  /** The local store's folder; the Store setting's file lives there too. */
  dataDir: string
  actor?: string
  keychain?: KeychainPort
  now?: () => number
  allowNonEmptyDir?: boolean
}

export interface ApiContext {
  dataDir: string
  /** The store the handlers use; storeSettingsSave replaces it. */
  store: StoreState
  /** How the host opened it (default: { dataDir }). */
  setup?: StoreSetup
  ports: PlatformPorts
  handoffs: HandoffRegistry
  log: Logger
  /** The last full integrity check (the app runs one in the background after start). */
  integrity?: (StoreCheck & { checkedAt: string }) | null
}

export type Handlers = { [K in OperationName]: (input: ParsedInput<K>) => Promise<Output<K>> }

/** A failure the handlers raise that is already a bridge error (store not open, handoff gone). */
export class BridgeFailure extends Error {
  constructor(readonly error: BridgeError) {
    super(error.message)
    this.name = 'BridgeFailure'
  }
}

export const INTERNAL_ERROR: BridgeError = { kind: 'internal', message: 'Unexpected error; see the log.' }

/** Open the store in dataDir (or the team database `store`); a failure becomes a problem to report, not a crash. */
export async function openStoreState(opts: StoreSetup & { store?: string }, log: Logger = consoleLogger): Promise<StoreState> {
  try {
    return { ok: true, store: await openKeyStore(opts) }
  } catch (e) {
    if (e instanceof KeydeskError) return { ok: false, problem: toBridgeError(e) }
    log.error(`opening the key store failed: ${describeUnexpected(e)}`)
    const where = opts.store !== undefined ? `at ${redactUrl(opts.store)}` : `in ${opts.dataDir}`
    return { ok: false, problem: { kind: 'store_unavailable', message: `The key store ${where} could not be opened; see the log.` } }
  }
}

/**
 * Open the store the Store setting names (core/settings.ts: the local store when
 * there is no settings file; a team database with its password from the keychain).
 * A settings file that is not valid is a problem to report, like a store that fails.
 */
export async function openConfiguredStoreState(setup: StoreSetup, log: Logger = consoleLogger): Promise<StoreState> {
  let store: string | undefined
  try {
    store = (await configuredStore(setup.dataDir, setup.keychain ?? keytarKeychain())).store
  } catch (e) {
    if (e instanceof KeydeskError) return { ok: false, problem: toBridgeError(e) }
    log.error(`reading the store setting failed: ${describeUnexpected(e)}`)
    return { ok: false, problem: { kind: 'store_unavailable', message: `The store setting in ${setup.dataDir} could not be read; see the log.` } }
  }
  return openStoreState({ ...setup, ...(store !== undefined ? { store, actor: setup.actor ?? teamActor() } : {}) }, log)
}

export function toBridgeError(e: KeydeskError): BridgeError {
  return { kind: e.kind, message: e.message, ...(e.field !== undefined ? { field: e.field } : {}) }
}

/** For the log: the error's class, code and stack, never the operation's input. */
export function describeUnexpected(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code
    const stack = (e.stack ?? `${e.name}: ${e.message}`).split('\n')
    stack[0] = `${e.name}${typeof code === 'string' ? ` (${code})` : ''}: ${e.message.slice(0, 300)}`
    return stack.slice(0, 12).join('\n')
  }
  return `non-error thrown (${typeof e})`
}

function safeFilePart(s: string): string {
  return s.replace(/[^0-9A-Za-z._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'key'
}

/** Default file names offered in save dialogs (deterministic, so tests can find them). */
export const defaultFileNames = {
  credentials: (keys: readonly IssuedKey[]): string =>
    keys.length === 1 ? `keydesk-credentials-${safeFilePart(keys[0]!.name)}-${keys[0]!.accessId}.csv` : `keydesk-credentials-${keys.length}-keys.csv`,
  audit: 'keydesk-audit-log.csv',
  inventory: 'keydesk-inventory.csv',
}

function actorName(): string {
  try {
    return userInfo().username || 'admin'
  } catch {
    return process.env.USER || 'admin'
  }
}

export function createHandlers(ctx: ApiContext): Handlers {
  const store = (): KeyStore => {
    if (!ctx.store.ok) throw new BridgeFailure(ctx.store.problem)
    return ctx.store.store
  }
  const handoffKeys = (id: string): readonly IssuedKey[] => {
    const keys = ctx.handoffs.get(id)
    if (!keys || keys.length === 0)
      throw new BridgeFailure({
        kind: 'handoff_expired',
        message: 'This access key is no longer held (the dialog was closed or 10 minutes passed). Reset the key to get a new one.',
        field: 'handoffId',
      })
    return keys
  }
  const save = async (defaultName: string, title: string, write: (path: string) => string): Promise<SaveOutcome> => {
    const chosen = await ctx.ports.chooseSavePath(defaultName, title)
    if (chosen === null) return { saved: false, path: null }
    return { saved: true, path: write(chosen) }
  }

  return {
    async health(): Promise<AppHealth> {
      if (!ctx.store.ok) {
        const p = ctx.store.problem
        return {
          ok: false,
          problem: p,
          dataDir: ctx.dataDir,
          dbPath: null,
          schemaVersion: null,
          keychain: p.kind === 'keychain_unavailable' ? 'unavailable' : 'unknown',
          actor: actorName(),
        }
      }
      const h = ctx.store.store.health()
      return { ok: true, problem: null, dataDir: h.dataDir, dbPath: h.dbPath, schemaVersion: h.schemaVersion, keychain: 'ok', actor: ctx.store.store.actor }
    },
    async keysList(q) {
      return store().list(q)
    },
    async keysGet({ accessId }) {
      return store().get(accessId)
    },
    async keysCreate(input) {
      return ctx.handoffs.put([store().create(input)])
    },
    async keysImport() {
      const s = store()
      const file = await ctx.ports.chooseOpenFile('Import keys from a CSV of names')
      if (file === null) return null
      return ctx.handoffs.put(s.importCsv(file.content))
    },
    async keysReset({ accessId, confirm, grace, previous }) {
      return ctx.handoffs.put([store().reset(accessId, { confirm, ...(grace !== undefined ? { grace } : {}), ...(previous !== undefined ? { previous } : {}) })])
    },
    async keysUpdate({ accessId, ...changes }) {
      return store().updateKey(accessId, changes)
    },
    async keysDisable({ accessId, reason }) {
      return store().disableKey(accessId, reason)
    },
    async keysEnable({ accessId }) {
      return store().enableKey(accessId)
    },
    async scopesInUse() {
      return store().scopesInUse()
    },
    async keysRevoke({ accessIds, reason }) {
      return { revoked: store().revoke(accessIds, reason).length }
    },
    async keysRevokeMatching({ query, expectedCount, reason }) {
      return store().revokeMatching(query, expectedCount, reason)
    },
    async keysPurge() {
      return store().purge()
    },
    ...attentionHandlers(ctx.ports, store, save),
    ...storeSettingsHandlers(ctx, describeUnexpected),
    async ownersList() {
      return store().listOwners()
    },
    async ownersAdd({ name, kind }) {
      return store().addOwner(name, kind)
    },
    async ownersDisable({ name }) {
      return store().disableOwner(name)
    },
    async ownersEnable({ name }) {
      return store().enableOwner(name)
    },
    async ownersRevokeAll({ name, confirm, reason }) {
      const s = store()
      if (confirm !== name.normalize('NFC').trim())
        throw invalid('confirm', `The confirmation does not match the owner's name exactly; type "${name.normalize('NFC').trim().slice(0, 128)}" to revoke all of its keys.`)
      return s.revokeOwnerKeys(name, reason)
    },
    async storeCheck() {
      // Pauses between pages of keys, so the window stays responsive during a long check.
      const r = await store().check({ yieldEvery: 1 })
      ctx.integrity = { ...r, checkedAt: new Date().toISOString() }
      if (!r.ok) ctx.log.warn(`integrity check found ${r.problems.length} problem(s)`)
      return r
    },
    async policyGet() {
      return store().getPolicy()
    },
    async policySet(changes) {
      return store().setPolicy(changes)
    },
    async policyPreview(changes) {
      return store().previewPolicy(changes)
    },
    async auditList(q) {
      return store().listAudit(q)
    },
    async auditVerify() {
      return store().verifyAudit()
    },
    async auditExport() {
      const s = store()
      return save(defaultFileNames.audit, 'Export the audit log', (p) => s.exportAudit(p).path)
    },
    async inventoryExport() {
      const s = store()
      return save(defaultFileNames.inventory, 'Export the key inventory', (p) => s.exportInventory(p).path)
    },
    async credentialsSave({ handoffId }) {
      const s = store()
      const keys = handoffKeys(handoffId)
      return save(defaultFileNames.credentials(keys), 'Save the credential CSV', (p) => {
        const path = KeyStore.writeCredentialCsv(p, keys)
        s.noteCredentialExport(path, keys.length)
        return path
      })
    },
    async credentialsDiscard({ handoffId }) {
      return { discarded: ctx.handoffs.discard(handoffId) }
    },
    async secretCopy({ handoffId, accessId }) {
      store()
      const key = handoffKeys(handoffId).find((k) => k.accessId === accessId)
      if (!key) throw new KeydeskError('not_found', `Key ${accessId} is not part of this one-time dialog.`, 'accessId')
      await ctx.ports.copySecret(key.accessKey, SECRET_CLIPBOARD_CLEAR_MS)
      return { clearsAfterMs: SECRET_CLIPBOARD_CLEAR_MS }
    },
  }
}

export function isOperationName(name: unknown): name is OperationName {
  return typeof name === 'string' && (OPERATION_NAMES as readonly string[]).includes(name)
}

export interface Api {
  readonly handlers: Handlers
  /** The store the handlers use now (the Store setting can switch it). */
  readonly store: StoreState
  /** Parse, call, and answer with a Result; never throws, never rejects. */
  invoke<K extends OperationName>(name: K, rawInput: unknown): Promise<Result<Output<K>>>
  invoke(name: string, rawInput: unknown): Promise<Result<unknown>>
  /** Forget every handoff and close the store. */
  close(): void
}

export function createApi(ctx: ApiContext): Api {
  const handlers = createHandlers(ctx)
  const invoke = async (name: string, rawInput: unknown): Promise<Result<unknown>> => {
    try {
      if (!isOperationName(name)) return { ok: false, error: { kind: 'invalid_input', message: 'Unknown operation.', field: 'operation' } }
      const parsed = parseInput(contract[name].input, rawInput)
      if (!parsed.ok) return parsed
      const fn = handlers[name] as (input: unknown) => Promise<unknown>
      return { ok: true, value: await fn(parsed.value) }
    } catch (e) {
      if (e instanceof KeydeskError) return { ok: false, error: toBridgeError(e) }
      if (e instanceof BridgeFailure) return { ok: false, error: { ...e.error } }
      ctx.log.error(`operation ${isOperationName(name) ? name : '?'} failed: ${describeUnexpected(e)}`)
      return { ok: false, error: { ...INTERNAL_ERROR } }
    }
  }
  return {
    handlers,
    get store() {
      return ctx.store
    },
    invoke: invoke as Api['invoke'],
    close() {
      ctx.handoffs.clear()
      if (ctx.store.ok) ctx.store.store.close()
    },
  }
}
