/**
 * Bridge handlers for the Store setting: show it, test a choice, save it and switch
 * the handlers to that store. The file and keychain rules live in core/settings.ts;
 * here: open, count, swap. They work while the store is down (that is when another
 * one is most needed), and a save is never interleaved with another save.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { KeydeskError, keytarKeychain, openKeyStore, type KeyStore, type OpenOptions } from '../core/index'
import { DB_FILE } from '../core/db'
import type { KeychainPort } from '../core/keychain'
import { connectionUrl, hasSavedPassword, readStoreSettings, resolveStoreChoice, saveStoreChoice, teamActor, type StoreChoice } from '../core/settings'
import type { StoreSettingsView, StoreTestOutcome } from '../../shared/contract'
import type { ApiContext, Handlers, StoreSetup } from './handlers'

type StoreSettingsHandlers = Pick<Handlers, 'storeSettingsGet' | 'storeSettingsTest' | 'storeSettingsSave'>

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`
}

export function storeSettingsHandlers(ctx: ApiContext, describeUnexpected: (e: unknown) => string): StoreSettingsHandlers {
  const setup = (): StoreSetup => ctx.setup ?? { dataDir: ctx.dataDir }
  const keychain = (): KeychainPort => setup().keychain ?? keytarKeychain()
  const openOptions = (choice: StoreChoice, create: boolean): OpenOptions => {
    const { dataDir, actor, keychain: kc, now, allowNonEmptyDir } = setup()
    // On a team store the audit actor is user@host (as the CLI writes it), unless the host names one.
    const who = actor ?? (choice.kind === 'team' ? teamActor() : undefined)
    return {
      dataDir,
      create,
      ...(who !== undefined ? { actor: who } : {}),
      ...(kc !== undefined ? { keychain: kc } : {}),
      ...(now !== undefined ? { now } : {}),
      ...(allowNonEmptyDir !== undefined ? { allowNonEmptyDir } : {}),
      ...(choice.kind === 'team' ? { store: connectionUrl(choice.url, choice.password) } : {}),
    }
  }
  const where = (choice: StoreChoice): string => (choice.kind === 'team' ? choice.url : join(setup().dataDir, DB_FILE))

  async function view(): Promise<StoreSettingsView> {
    const settings = readStoreSettings(setup().dataDir)
    const open = ctx.store.ok ? ctx.store.store : null
    return {
      kind: settings.kind,
      url: settings.kind === 'team' ? settings.url : null,
      passwordSaved: settings.kind === 'team' ? await hasSavedPassword(settings.url, keychain()) : false,
      dataDir: setup().dataDir,
      storeId: open?.storeId ?? null,
      engine: open ? (open.engine === 'postgres' ? 'postgres' : 'sqlite') : null,
    }
  }

  // One save at a time; a test may run beside it (it switches nothing).
  let saving: Promise<unknown> = Promise.resolve()
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = saving.then(fn, fn)
    saving = run.catch(() => undefined)
    return run
  }

  return {
    async storeSettingsGet() {
      return view()
    },

    async storeSettingsTest(input): Promise<StoreTestOutcome> {
      const choice = await resolveStoreChoice(input, keychain())
      if (choice.kind === 'local' && !existsSync(where(choice)))
        return { ok: true, keys: 0, message: `There is no store on this computer yet; saving creates a new, empty one in ${setup().dataDir}.` }
      let store: KeyStore
      try {
        store = await openKeyStore(openOptions(choice, false))
      } catch (e) {
        if (e instanceof KeydeskError) {
          if (e.kind === 'invalid_input') throw e
          return { ok: false, message: e.message }
        }
        ctx.log.error(`store connection test failed: ${describeUnexpected(e)}`)
        return { ok: false, message: 'The connection test failed unexpectedly; see the log. Nothing was switched.' }
      }
      try {
        const keys = store.list({ status: 'all', limit: 1 }).total
        const what = choice.kind === 'team' ? `Connected to the team store at ${choice.url}` : `The store on this computer (${where(choice)}) opened`
        const pw = choice.kind === 'team' && choice.passwordFrom === 'keychain' ? ' (with the password saved in the OS keychain)' : ''
        return { ok: true, storeId: store.storeId, keys, message: `${what}${pw}: it holds ${plural(keys, 'key')}. Nothing is switched until you save.` }
      } finally {
        await store.closeAsync().catch(() => undefined)
      }
    },

    async storeSettingsSave(input) {
      return serial(async () => {
        const choice = await resolveStoreChoice(input, keychain())
        // Tested again by opening it for real: this is the store the handlers switch to.
        const next = await openKeyStore(openOptions(choice, true))
        try {
          await saveStoreChoice(setup().dataDir, keychain(), choice)
        } catch (e) {
          await next.closeAsync().catch(() => undefined)
          throw e
        }
        const old = ctx.store
        ctx.store = { ok: true, store: next }
        ctx.integrity = null
        // One-time secrets were issued by the old store; its audit log is the one that would record their export.
        ctx.handoffs.clear()
        if (old.ok && old.store !== next) {
          await old.store.closeAsync().catch((e: unknown) => ctx.log.warn(`closing the previous store: ${e instanceof Error ? e.message.split('\n')[0] : 'failed'}`))
        }
        return view()
      })
    },
  }
}
