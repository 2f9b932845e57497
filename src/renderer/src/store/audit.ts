import type { SaveOutcome } from '../../../shared/contract'
import type { AuditCheck, AuditEntry, StoreCheck } from '../../../shared/domain'
import { call, isHealthError, type BridgeError, type Result } from '../lib/api'
import type { Slice } from './index'

export const AUDIT_PAGE = 100

export interface AuditFilter {
  action: string
  target: string
}

export interface AuditSlice {
  auditEntries: AuditEntry[] | null
  auditFilter: AuditFilter
  auditHasMore: boolean
  auditLoading: boolean
  auditError: BridgeError | null
  auditCheck: { result: AuditCheck; at: string } | null
  /** The last full store check (`keydesk check`): pages, row MACs, tombstones, audit chain, anchor. */
  storeCheck: { result: StoreCheck; at: string } | null
  checkStore(): Promise<Result<StoreCheck>>
  setAuditFilter(patch: Partial<AuditFilter>): void
  loadAudit(): Promise<void>
  loadOlderAudit(): Promise<void>
  verifyAudit(): Promise<Result<AuditCheck>>
  exportAudit(): Promise<Result<SaveOutcome>>
}

export const createAuditSlice: Slice<AuditSlice> = (set, get) => {
  let version = 0
  const query = (beforeId?: number) => {
    const f = get().auditFilter
    return {
      ...(f.action ? { action: f.action } : {}),
      ...(f.target.trim() ? { target: f.target.trim() } : {}),
      ...(beforeId !== undefined ? { beforeId } : {}),
      limit: AUDIT_PAGE,
    }
  }
  return {
    auditEntries: null,
    auditFilter: { action: '', target: '' },
    storeCheck: null,
    auditHasMore: false,
    auditLoading: false,
    auditError: null,
    auditCheck: null,
    setAuditFilter(patch) {
      set((s) => ({ auditFilter: { ...s.auditFilter, ...patch } }))
      void get().loadAudit()
    },
    async loadAudit() {
      const v = ++version
      set({ auditLoading: true })
      const r = await call('auditList', query())
      if (v !== version) return
      if (r.ok) set({ auditEntries: r.value, auditHasMore: r.value.length === AUDIT_PAGE, auditError: null, auditLoading: false })
      else {
        set({ auditError: r.error, auditLoading: false })
        if (isHealthError(r.error)) void get().loadHealth()
      }
    },
    async loadOlderAudit() {
      const entries = get().auditEntries
      const last = entries?.[entries.length - 1]
      if (!entries || !last) return
      const v = version
      set({ auditLoading: true })
      const r = await call('auditList', query(last.id))
      if (v !== version) return
      if (r.ok) set({ auditEntries: [...entries, ...r.value], auditHasMore: r.value.length === AUDIT_PAGE, auditLoading: false })
      else set({ auditError: r.error, auditLoading: false })
    },
    async verifyAudit() {
      const r = await call('auditVerify', {})
      if (r.ok) set({ auditCheck: { result: r.value, at: new Date().toISOString() } })
      else if (isHealthError(r.error)) void get().loadHealth()
      return r
    },
    async checkStore() {
      const r = await call('storeCheck', {})
      if (r.ok) set({ storeCheck: { result: r.value, at: new Date().toISOString() } })
      else if (isHealthError(r.error)) void get().loadHealth()
      return r
    },
    async exportAudit() {
      const r = await call('auditExport', {})
      if (r.ok && r.value.saved) void get().loadAudit()
      return r
    },
  }
}
