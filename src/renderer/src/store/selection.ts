import type { KeyView } from '../../../shared/domain'
import { call } from '../lib/api'
import type { Slice } from './index'
import { filterQuery, PAGE_SIZE } from './keys'

export interface SelectedKey {
  accessId: string
  name: string
  owner: string
  /** For the confirmation's active / expired / revoked split (absent: not known, e.g. a key picked elsewhere). */
  status?: KeyView['status']
  lastUsedAt?: string | null
}

export function selectedOf(k: KeyView): SelectedKey {
  return { accessId: k.accessId, name: k.name, owner: k.owner, status: k.status, lastUsedAt: k.lastUsedAt }
}

export interface SelectionSlice {
  /** Rows ticked one by one, by access ID. */
  selected: Record<string, SelectedKey>
  /**
   * "Select all" on the filtered view: every not-yet-revoked key the filters
   * match, counted when it was ticked (revoke-matching refuses if the count
   * changed since). Null when not in that mode.
   */
  allMatching: { count: number } | null
  selectingAll: boolean

  toggleSelected(key: KeyView): void
  clearSelection(): void
  selectAllMatching(): Promise<void>
  /** A few names of what "all matching" covers, for the confirmation. */
  sampleMatching(limit: number): Promise<{ names: SelectedKey[]; count: number } | null>
  /** How many of the keys "all matching" covers work now (active), are disabled or have expired. */
  splitMatching(): Promise<{ active: number; disabled: number; expired: number } | null>
}

export const createSelectionSlice: Slice<SelectionSlice> = (set, get) => ({
  selected: {},
  allMatching: null,
  selectingAll: false,

  toggleSelected(key) {
    const s = get()
    if (s.allMatching) {
      // Leaving "all matching": keep the loaded, revocable rows except this one, so the count shown is what will be revoked.
      const selected: Record<string, SelectedKey> = {}
      for (const rows of Object.values(s.pages))
        for (const k of rows)
          if (k.status !== 'revoked' && k.accessId !== key.accessId) selected[k.accessId] = selectedOf(k)
      set({ allMatching: null, selected })
      return
    }
    const next = { ...s.selected }
    if (next[key.accessId]) delete next[key.accessId]
    else next[key.accessId] = selectedOf(key)
    set({ selected: next })
  },

  clearSelection() {
    if (get().allMatching === null && Object.keys(get().selected).length === 0) return
    set({ selected: {}, allMatching: null })
  },

  async selectAllMatching() {
    const version = get().listVersion
    set({ selectingAll: true })
    const q = filterQuery(get().filters)
    // Revoke-matching covers the keys not yet revoked (active and expired) among those the filters match.
    let count: number | null = null
    if (q.status === 'revoked') count = 0
    else if (q.status === 'active' || q.status === 'expired' || q.status === 'disabled') {
      const r = await call('keysList', { ...q, limit: 1 })
      count = r.ok ? r.value.total : null
    } else {
      const [all, revoked] = await Promise.all([call('keysList', { ...q, limit: 1 }), call('keysList', { ...q, status: 'revoked', limit: 1 })])
      count = all.ok && revoked.ok ? all.value.total - revoked.value.total : null
    }
    if (get().listVersion !== version) return set({ selectingAll: false })
    if (count === null) {
      get().notify('error', 'Could not count the keys in this view; try again.')
      return set({ selectingAll: false })
    }
    set({ selectingAll: false, selected: {}, allMatching: count > 0 ? { count } : null })
    if (count === 0) get().notify('info', 'Every key in this view is already revoked.')
  },

  async splitMatching() {
    const q = filterQuery(get().filters)
    const count = async (status: 'active' | 'disabled' | 'expired'): Promise<number | null> => {
      if (q.status !== 'all' && q.status !== status) return 0
      const r = await call('keysList', { ...q, status, limit: 1 })
      return r.ok ? r.value.total : null
    }
    const [active, disabled, expired] = await Promise.all([count('active'), count('disabled'), count('expired')])
    if (active === null || disabled === null || expired === null) return null
    return { active, disabled, expired }
  },

  async sampleMatching(limit) {
    const q = filterQuery(get().filters)
    const names: SelectedKey[] = []
    let offset = 0
    let count = 0
    // Walk pages until enough revocable names are found (revoked rows are skipped).
    for (let i = 0; i < 5 && names.length < limit; i++) {
      const r = await call('keysList', { ...q, sort: 'name', order: 'asc', offset, limit: PAGE_SIZE })
      if (!r.ok) return null
      count = r.value.total
      for (const k of r.value.items) if (k.status !== 'revoked' && names.length < limit) names.push(selectedOf(k))
      offset += PAGE_SIZE
      if (offset >= r.value.total) break
    }
    return { names, count }
  },
})
