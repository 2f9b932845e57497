import type { Input, StoreSettingsView, StoreTestOutcome } from '../../../shared/contract'
import { call, type BridgeError, type Result } from '../lib/api'
import type { Slice } from './index'

/** What the Store setting sends: the password only ever passes through here, never into the store's state. */
export type StoreChoice = Input<'storeSettingsSave'>

export interface StoreSettingsSlice {
  storeSettings: StoreSettingsView | null
  storeSettingsError: BridgeError | null
  loadStoreSettings(): Promise<void>
  /** Connect and count keys; nothing is switched. */
  testStore(choice: StoreChoice): Promise<Result<StoreTestOutcome>>
  /** Save the choice and switch to that store; every view is reloaded from it. */
  saveStore(choice: StoreChoice): Promise<Result<StoreSettingsView>>
}

export const createStoreSettingsSlice: Slice<StoreSettingsSlice> = (set, get) => ({
  storeSettings: null,
  storeSettingsError: null,
  async loadStoreSettings() {
    const r = await call('storeSettingsGet', {})
    if (r.ok) set({ storeSettings: r.value, storeSettingsError: null })
    else set({ storeSettingsError: r.error })
  },
  async testStore(choice) {
    return call('storeSettingsTest', choice)
  },
  async saveStore(choice) {
    const r = await call('storeSettingsSave', choice)
    if (!r.ok) return r
    // Another store: nothing shown from the previous one may stay.
    get().clearSelection()
    set({ storeSettings: r.value, storeSettingsError: null, activeKey: null, scopesInUse: null, summary: null, storeCheck: null, auditCheck: null })
    const s = get()
    void s.loadHealth()
    void s.loadKeys()
    void s.loadSummary()
    void s.loadPolicy()
    if (s.owners !== null) void s.loadOwners()
    if (s.auditEntries !== null) void s.loadAudit()
    return r
  },
})
