import type { AppHealth } from '../../../shared/contract'
import { call, type BridgeError } from '../lib/api'
import type { Slice } from './index'

export interface HealthSlice {
  health: AppHealth | null
  /** The health call itself failed (the bridge is broken). */
  healthError: BridgeError | null
  loadHealth(): Promise<void>
}

/** Issuing and resetting need a usable store and keychain. */
export function canIssue(h: AppHealth | null, e: BridgeError | null): boolean {
  return h !== null && e === null && h.ok && h.keychain === 'ok'
}

export const createHealthSlice: Slice<HealthSlice> = (set) => ({
  health: null,
  healthError: null,
  async loadHealth() {
    const r = await call('health', {})
    if (r.ok) set({ health: r.value, healthError: null })
    else set({ healthError: r.error })
  },
})

/** The store itself could not be opened (or the bridge is broken): nothing can be read or written. */
export function storeDown(h: AppHealth | null, e: BridgeError | null): boolean {
  return e !== null || (h !== null && !h.ok)
}
