import type { OwnerKind, OwnerView } from '../../../shared/domain'
import { call, isHealthError, type BridgeError, type Result } from '../lib/api'
import type { Slice } from './index'

export interface OwnersSlice {
  owners: OwnerView[] | null
  ownersError: BridgeError | null
  loadOwners(): Promise<void>
  addOwner(name: string, kind: OwnerKind): Promise<Result<OwnerView>>
  disableOwner(name: string): Promise<Result<OwnerView>>
  enableOwner(name: string): Promise<Result<OwnerView>>
  revokeOwnerKeys(name: string, confirm: string, reason: string): Promise<Result<{ owner: string; revoked: number }>>
}

export const createOwnersSlice: Slice<OwnersSlice> = (set, get) => {
  function after<T>(r: Result<T>, keysChanged: boolean): Result<T> {
    if (r.ok) {
      void get().loadOwners()
      if (keysChanged) {
        void get().reloadKeys()
        void get().loadSummary()
        void get().refreshActiveKey()
      }
      if (get().auditEntries !== null) void get().loadAudit()
    } else if (isHealthError(r.error)) void get().loadHealth()
    return r
  }
  return {
    owners: null,
    ownersError: null,
    async loadOwners() {
      const r = await call('ownersList', {})
      if (r.ok) set({ owners: r.value, ownersError: null })
      else {
        set({ ownersError: r.error })
        if (isHealthError(r.error)) void get().loadHealth()
      }
    },
    async addOwner(name, kind) {
      return after(await call('ownersAdd', { name, kind }), false)
    },
    async disableOwner(name) {
      // Disabling stops the owner's keys from verifying: the key list's state changes too.
      return after(await call('ownersDisable', { name }), true)
    },
    async enableOwner(name) {
      return after(await call('ownersEnable', { name }), true)
    },
    async revokeOwnerKeys(name, confirm, reason) {
      return after(await call('ownersRevokeAll', reason.trim() ? { name, confirm, reason: reason.trim() } : { name, confirm }), true)
    },
  }
}
