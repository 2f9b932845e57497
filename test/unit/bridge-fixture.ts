/**
 * Shared by the bridge-*.test.ts files (not a test itself): the real api
 * (createApi) on a real store in a temp dir with the real keychain, test
 * ports that record what they are asked, and a manual clock for handoffs.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import keytar from 'keytar'
import { KEYCHAIN_SERVICE } from '../../src/main/core/keychain'
import { createApi, openStoreState, HandoffRegistry, readImportFile, type Api, type Clock, type Logger, type PlatformPorts, type StoreState } from '../../src/main/api/index'

export class ManualClock implements Clock {
  t = Date.UTC(2031, 0, 15, 12, 0, 0)
  private timers: { at: number; fn: () => void; live: boolean }[] = []
  now = (): number => this.t
  setTimer = (fn: () => void, ms: number): (() => void) => {
    const timer = { at: this.t + ms, fn, live: true }
    this.timers.push(timer)
    return () => {
      timer.live = false
    }
  }
  advance(ms: number): void {
    this.t += ms
    for (const timer of this.timers.filter((x) => x.live && x.at <= this.t)) {
      timer.live = false
      timer.fn()
    }
  }
}

export interface Recorder {
  saves: { defaultName: string; title: string; path: string | null }[]
  opens: string[]
  copies: { text: string; clearAfterMs: number }[]
  logs: string[]
  folders: string[]
  notifications: { title: string; body: string }[]
}

export interface BridgeFixture {
  api: Api
  store: StoreState
  handoffs: HandoffRegistry
  clock: ManualClock
  dir: string
  downloads: string
  rec: Recorder
  /** The next save dialog answers this (undefined: downloads/<default name>; null: cancel). */
  nextSave: { path?: string | null }
  nextOpen: { path: string | null }
  /** The next folder picker answers this (default: cancel). */
  nextFolder: { path: string | null }
  cleanup(): Promise<void>
}

export async function bridgeFixture(opts: { store?: StoreState; ports?: Partial<PlatformPorts> } = {}): Promise<BridgeFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'keydesk-bridge-'))
  const downloads = join(dir, 'downloads')
  const { mkdirSync } = await import('node:fs')
  mkdirSync(downloads)
  const rec: Recorder = { saves: [], opens: [], copies: [], logs: [], folders: [], notifications: [] }
  const nextFolder: { path: string | null } = { path: null }
  const nextSave: { path?: string | null } = {}
  const nextOpen: { path: string | null } = { path: null }
  const clock = new ManualClock()
  const log: Logger = { error: (m) => rec.logs.push(m), warn: (m) => rec.logs.push(m) }
  const ports: PlatformPorts = {
    async chooseSavePath(defaultName, title) {
      const path = nextSave.path === undefined ? join(downloads, defaultName) : nextSave.path
      delete nextSave.path
      rec.saves.push({ defaultName, title, path })
      return path
    },
    async chooseOpenFile(title) {
      rec.opens.push(title)
      const p = nextOpen.path
      nextOpen.path = null
      return p === null ? null : readImportFile(p)
    },
    copySecret(text, clearAfterMs) {
      rec.copies.push({ text, clearAfterMs })
    },
    async chooseFolder(title) {
      rec.folders.push(title)
      const p = nextFolder.path
      nextFolder.path = null
      return p
    },
    notify(n) {
      rec.notifications.push(n)
    },
    ...opts.ports,
  }
  const store = opts.store ?? (await openStoreState({ dataDir: join(dir, 'data'), actor: 'tester', now: clock.now }, log))
  const storeId = store.ok && !opts.store ? store.store.health().storeId : null
  const handoffs = new HandoffRegistry(clock)
  const api = createApi({ dataDir: join(dir, 'data'), store, ports, handoffs, log })
  return {
    api,
    store,
    handoffs,
    clock,
    dir,
    downloads,
    rec,
    nextSave,
    nextOpen,
    nextFolder,
    async cleanup() {
      api.close()
      rmSync(dir, { recursive: true, force: true })
      if (storeId) await keytar.deletePassword(KEYCHAIN_SERVICE, storeId).catch(() => false)
    },
  }
}

/** What a bad request must not change: keys, owners, audit, policy, handoffs, ports. */
export function snapshot(f: BridgeFixture): string {
  if (!f.store.ok) return 'no store'
  const s = f.store.store
  return JSON.stringify({
    keys: s.list({ status: 'all', limit: 1 }).total,
    owners: s.listOwners().map((o) => [o.name, o.disabledAt, o.keys]),
    audit: s.listAudit({ limit: 1 })[0]?.id ?? 0,
    policy: s.getPolicy(),
    revoked: s.list({ status: 'revoked', limit: 1 }).total,
    handoffs: f.handoffs.size,
    saves: f.rec.saves.length,
    opens: f.rec.opens.length,
    copies: f.rec.copies.length,
  })
}
