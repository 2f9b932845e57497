import type { OneTimeSecret, SaveOutcome } from '../../../shared/contract'
import type { KeyQuery, KeyStatus, KeyView, SortField } from '../../../shared/domain'
import { call, isHealthError, type BridgeError, type Result } from '../lib/api'
import { EXPIRING_SOON_DAYS } from '../lib/format'
import type { Slice } from './index'

/** Rows fetched per request. The list never holds more than MAX_PAGES_KEPT pages. */
export const PAGE_SIZE = 200
const MAX_PAGES_KEPT = 12

export type StatusFilter = KeyStatus | 'all'

export interface KeyFilters {
  search: string
  status: StatusFilter
  owner: string
  scope: string
  expiringSoon: boolean
  /** Stale keys: active keys unused for this many days (never used counts from creation); null = off. */
  unusedForDays?: number | null
}

export interface KeySort {
  /** 'created' + 'desc' is "Newest first", the store's default order. */
  field: SortField
  order: 'asc' | 'desc'
}

export const NEWEST_FIRST: KeySort = { field: 'created', order: 'desc' }

export const EMPTY_FILTERS: KeyFilters = { search: '', status: 'all', owner: '', scope: '', expiringSoon: false, unusedForDays: null }

export interface KeyUpdate {
  accessId: string
  name?: string
  description?: string
  scopes?: string[]
  expiresIn?: string
  expiresAt?: string
}

export interface CreateKeyInput {
  name?: string
  owner?: string
  scopes?: string[]
  description?: string
  expiresIn?: string
  expiresAt?: string
}

export interface KeysSlice {
  filters: KeyFilters
  sort: KeySort
  /** Rows matching the filters; null until the first page of a query arrives. */
  total: number | null
  /** Loaded pages by page index (PAGE_SIZE rows each). */
  pages: Record<number, KeyView[]>
  /** Bumped on every new query or reload; answers for an older version are dropped. */
  listVersion: number
  /** A new query is on its way; the rows shown belong to the previous one. */
  listStale: boolean
  listError: BridgeError | null
  visibleRange: readonly [number, number]
  summary: { all: number; active: number; expiringSoon: number } | null
  activeKey: KeyView | null
  /** Scopes of live keys, for the scopes picker; null until asked. */
  scopesInUse: string[] | null

  setFilters(patch: Partial<KeyFilters>): void
  clearFilters(): void
  /** Start from no filters and apply these. */
  replaceFilters(f: Partial<KeyFilters>): void
  toggleSort(field: SortField): void
  setSort(sort: KeySort): void
  loadKeys(): Promise<void>
  reloadKeys(): Promise<void>
  loadSummary(): Promise<void>
  ensureRows(start: number, end: number): void
  openKey(key: KeyView): void
  /** From elsewhere (an audit entry's target): go to Keys and open this key's details. */
  openKeyById(accessId: string): Promise<void>
  closeKey(): void
  refreshActiveKey(): Promise<void>

  createKey(input: CreateKeyInput): Promise<Result<OneTimeSecret>>
  importKeys(): Promise<Result<OneTimeSecret | null>>
  resetKey(input: { accessId: string; confirm: string; grace?: string; previous?: 'keep' | 'end' }): Promise<Result<OneTimeSecret>>
  updateKey(input: KeyUpdate): Promise<Result<KeyView>>
  disableKey(accessId: string): Promise<Result<KeyView>>
  enableKey(accessId: string): Promise<Result<KeyView>>
  loadScopesInUse(): Promise<void>
  revokeKeys(accessIds: string[], reason: string): Promise<Result<{ revoked: number }>>
  revokeMatching(expectedCount: number, reason: string): Promise<Result<{ revoked: number }>>
  exportInventory(): Promise<Result<SaveOutcome>>
  saveCredentials(handoffId: string): Promise<Result<SaveOutcome>>
  copySecret(handoffId: string, accessId: string): Promise<Result<{ clearsAfterMs: number }>>
  discardCredentials(handoffId: string): Promise<void>
}

/** The query for the current filters, without sort or paging (what revoke-matching takes). */
export function filterQuery(f: KeyFilters): Omit<KeyQuery, 'offset' | 'limit' | 'sort' | 'order'> {
  const q: Omit<KeyQuery, 'offset' | 'limit' | 'sort' | 'order'> = { status: f.status }
  if (f.search.trim() !== '') q.search = f.search.trim()
  if (f.owner !== '') q.owner = f.owner
  if (f.scope.trim() !== '') q.scope = f.scope.trim()
  if (f.expiringSoon) q.expiringWithinDays = EXPIRING_SOON_DAYS
  if (typeof f.unusedForDays === 'number') q.unusedForDays = f.unusedForDays
  return q
}

export function hasFilters(f: KeyFilters): boolean {
  return f.search.trim() !== '' || f.status !== 'all' || f.owner !== '' || f.scope.trim() !== '' || f.expiringSoon || typeof f.unusedForDays === 'number'
}

function sortQuery(s: KeySort): Pick<KeyQuery, 'sort' | 'order'> {
  return { sort: s.field, order: s.order }
}

/** Columns whose natural first direction is newest/most recent first. */
const DESC_FIRST = new Set<SortField>(['lastUsed', 'created'])

export const createKeysSlice: Slice<KeysSlice> = (set, get) => {
  const inflight = new Set<string>()

  async function fetchPage(page: number, version: number): Promise<{ items: KeyView[]; total: number } | null> {
    const tag = `${version}:${page}`
    if (inflight.has(tag)) return null
    inflight.add(tag)
    const { filters, sort } = get()
    const r = await call('keysList', { ...filterQuery(filters), ...sortQuery(sort), offset: page * PAGE_SIZE, limit: PAGE_SIZE })
    inflight.delete(tag)
    if (get().listVersion !== version) return null
    if (!r.ok) {
      set({ listError: r.error, listStale: false })
      if (isHealthError(r.error)) void get().loadHealth()
      return null
    }
    return r.value
  }

  function afterMutation(): void {
    if (get().scopesInUse !== null) void get().loadScopesInUse()
    void get().reloadKeys()
    void get().loadSummary()
    void get().refreshActiveKey()
    if (get().owners !== null) void get().loadOwners()
    if (get().auditEntries !== null) void get().loadAudit()
  }

  function healthCheck<T>(r: Result<T>): Result<T> {
    if (!r.ok && isHealthError(r.error)) void get().loadHealth()
    return r
  }

  return {
    filters: EMPTY_FILTERS,
    sort: NEWEST_FIRST,
    total: null,
    pages: {},
    listVersion: 0,
    listStale: false,
    listError: null,
    visibleRange: [0, 40],
    summary: null,
    activeKey: null,
    scopesInUse: null,

    // Ticked rows are kept by access ID across searches, filters and sorts (the bulk bar
    // says how many); only "all in this view" belongs to one query and ends with it.
    setFilters(patch) {
      set((s) => ({ filters: { ...s.filters, ...patch }, allMatching: null }))
      void get().loadKeys()
    },
    clearFilters() {
      set({ filters: EMPTY_FILTERS, allMatching: null })
      void get().loadKeys()
    },
    replaceFilters(f) {
      set({ filters: { ...EMPTY_FILTERS, ...f }, allMatching: null })
      void get().loadKeys()
    },
    toggleSort(field) {
      set((s) => {
        if (s.sort.field === field) return { sort: { field, order: s.sort.order === 'asc' ? 'desc' : 'asc' } }
        return { sort: { field, order: DESC_FIRST.has(field) ? 'desc' : 'asc' } }
      })
      void get().loadKeys()
    },
    setSort(sort) {
      const cur = get().sort
      if (cur.field === sort.field && cur.order === sort.order) return
      set({ sort })
      void get().loadKeys()
    },

    async loadKeys() {
      const version = get().listVersion + 1
      set({ listVersion: version, listStale: true, listError: null, visibleRange: [0, 40] })
      const page = await fetchPage(0, version)
      if (!page) return
      set({ pages: { 0: page.items }, total: page.total, listStale: false })
      const [start, end] = get().visibleRange
      get().ensureRows(start, end)
    },

    async reloadKeys() {
      const version = get().listVersion + 1
      const [start, end] = get().visibleRange
      const first = Math.floor(start / PAGE_SIZE)
      const last = Math.max(first, Math.floor(end / PAGE_SIZE))
      set({ listVersion: version, listError: null })
      const wanted: number[] = []
      for (let p = first; p <= last; p++) wanted.push(p)
      const got = await Promise.all(wanted.map((p) => fetchPage(p, version)))
      if (get().listVersion !== version || got.some((g) => g === null)) return
      const pages: Record<number, KeyView[]> = {}
      wanted.forEach((p, i) => (pages[p] = got[i]!.items))
      set({ pages, total: got[got.length - 1]!.total, listStale: false })
    },

    async loadSummary() {
      const [all, active, soon] = await Promise.all([
        call('keysList', { status: 'all', limit: 1 }),
        call('keysList', { status: 'active', limit: 1 }),
        call('keysList', { expiringWithinDays: EXPIRING_SOON_DAYS, limit: 1 }),
      ])
      if (all.ok && active.ok && soon.ok) set({ summary: { all: all.value.total, active: active.value.total, expiringSoon: soon.value.total } })
    },

    ensureRows(start, end) {
      const { listVersion, listStale, pages, total } = get()
      set({ visibleRange: [start, end] })
      if (listStale || total === null) return
      const first = Math.floor(start / PAGE_SIZE)
      const last = Math.floor(Math.min(end, Math.max(total - 1, 0)) / PAGE_SIZE)
      for (let p = first; p <= last; p++) {
        if (pages[p]) continue
        void fetchPage(p, listVersion).then((r) => {
          if (!r) return
          set((s) => {
            const next: Record<number, KeyView[]> = { ...s.pages, [p]: r.items }
            // Keep memory flat however far the admin scrolls: drop the pages farthest from view.
            const keys = Object.keys(next).map(Number)
            if (keys.length > MAX_PAGES_KEPT) {
              const mid = Math.floor((s.visibleRange[0] + s.visibleRange[1]) / 2 / PAGE_SIZE)
              keys.sort((a, b) => Math.abs(b - mid) - Math.abs(a - mid))
              for (const k of keys.slice(0, keys.length - MAX_PAGES_KEPT)) delete next[k]
            }
            return { pages: next, total: r.total }
          })
        })
      }
    },

    openKey(key) {
      set({ activeKey: key })
    },
    async openKeyById(accessId) {
      const r = await call('keysGet', { accessId })
      if (!r.ok) {
        get().notify('error', r.error.kind === 'not_found' ? `Key ${accessId} is no longer in the store (it was purged).` : r.error.message)
        return
      }
      set({ activeKey: r.value })
      get().go('keys')
    },
    closeKey() {
      set({ activeKey: null })
    },
    async refreshActiveKey() {
      const k = get().activeKey
      if (!k) return
      const r = await call('keysGet', { accessId: k.accessId })
      if (r.ok && get().activeKey?.accessId === k.accessId) set({ activeKey: r.value })
    },

    async createKey(input) {
      const r = healthCheck(await call('keysCreate', input))
      if (r.ok) afterMutation()
      return r
    },
    async importKeys() {
      const r = healthCheck(await call('keysImport', {}))
      if (r.ok && r.value) afterMutation()
      return r
    },
    async resetKey(input) {
      const r = healthCheck(
        await call('keysReset', {
          accessId: input.accessId,
          confirm: input.confirm,
          ...(input.grace ? { grace: input.grace } : {}),
          ...(input.previous ? { previous: input.previous } : {}),
        }),
      )
      if (r.ok) afterMutation()
      return r
    },
    async updateKey(input) {
      const r = healthCheck(await call('keysUpdate', input))
      if (r.ok) {
        if (get().activeKey?.accessId === r.value.accessId) set({ activeKey: r.value })
        afterMutation()
      }
      return r
    },
    async disableKey(accessId) {
      const r = healthCheck(await call('keysDisable', { accessId }))
      if (r.ok) {
        if (get().activeKey?.accessId === accessId) set({ activeKey: r.value })
        afterMutation()
      }
      return r
    },
    async enableKey(accessId) {
      const r = healthCheck(await call('keysEnable', { accessId }))
      if (r.ok) {
        if (get().activeKey?.accessId === accessId) set({ activeKey: r.value })
        afterMutation()
      }
      return r
    },
    async loadScopesInUse() {
      const r = await call('scopesInUse', {})
      if (r.ok) set({ scopesInUse: r.value })
    },
    async revokeKeys(accessIds, reason) {
      const r = healthCheck(await call('keysRevoke', reason.trim() ? { accessIds, reason: reason.trim() } : { accessIds }))
      if (r.ok) {
        // The list updates at once; the reload that follows confirms it.
        const gone = new Set(accessIds)
        const now = new Date().toISOString()
        set((s) => ({
          pages: Object.fromEntries(
            Object.entries(s.pages).map(([p, rows]) => [
              p,
              rows.map((k) => (gone.has(k.accessId) ? { ...k, status: 'revoked' as const, revokedAt: now, revokedReason: reason.trim() || null } : k)),
            ]),
          ),
        }))
        get().clearSelection()
        afterMutation()
      }
      return r
    },
    async revokeMatching(expectedCount, reason) {
      const query = filterQuery(get().filters)
      const r = healthCheck(await call('keysRevokeMatching', reason.trim() ? { query, expectedCount, reason: reason.trim() } : { query, expectedCount }))
      if (r.ok) {
        get().clearSelection()
        afterMutation()
      }
      return r
    },
    async exportInventory() {
      return healthCheck(await call('inventoryExport', {}))
    },
    async saveCredentials(handoffId) {
      const r = await call('credentialsSave', { handoffId })
      if (r.ok && r.value.saved && get().auditEntries !== null) void get().loadAudit()
      return r
    },
    async copySecret(handoffId, accessId) {
      return call('secretCopy', { handoffId, accessId })
    },
    async discardCredentials(handoffId) {
      await call('credentialsDiscard', { handoffId })
    },
  }
}
