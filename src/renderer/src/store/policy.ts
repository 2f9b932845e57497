import type { Policy, PolicyPreview } from '../../../shared/domain'
import { call, isHealthError, type BridgeError, type Result } from '../lib/api'
import type { Slice } from './index'

export interface PolicySlice {
  policy: Policy | null
  policyError: BridgeError | null
  loadPolicy(): Promise<void>
  previewPolicy(changes: Partial<Policy>): Promise<Result<PolicyPreview>>
  savePolicy(changes: Partial<Policy>): Promise<Result<Policy>>
  purgeKeys(): Promise<Result<{ purged: number }>>
}

export const createPolicySlice: Slice<PolicySlice> = (set, get) => ({
  policy: null,
  policyError: null,
  async loadPolicy() {
    const r = await call('policyGet', {})
    if (r.ok) set({ policy: r.value, policyError: null })
    else {
      set({ policyError: r.error })
      if (isHealthError(r.error)) void get().loadHealth()
    }
  },
  async previewPolicy(changes) {
    return call('policyPreview', changes)
  },
  async savePolicy(changes) {
    const r = await call('policySet', changes)
    if (r.ok) {
      set({ policy: r.value, policyError: null })
      if (get().auditEntries !== null) void get().loadAudit()
    } else if (isHealthError(r.error)) void get().loadHealth()
    return r
  },
  async purgeKeys() {
    const r = await call('keysPurge', {})
    if (r.ok) {
      void get().reloadKeys()
      void get().loadSummary()
      if (get().owners !== null) void get().loadOwners()
      if (get().auditEntries !== null) void get().loadAudit()
    } else if (isHealthError(r.error)) void get().loadHealth()
    return r
  },
})
