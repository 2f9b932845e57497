import { useEffect, useRef, useState } from 'react'
import { useShallow } from 'zustand/react/shallow'
import { KeyDetails } from '../components/KeyDetails'
import { KeyTable, focusGrid } from '../components/KeyTable'
import { IconDownload, IconFilter, IconKey, IconPlus, IconSearch, IconUpload, IconWarning } from '../components/icons'
import { formatCount, plural } from '../lib/format'
import { useDebouncedEffect } from '../lib/hooks'
import { useStore } from '../store'
import { canIssue, storeDown } from '../store/health'
import { StoreDown } from '../components/StoreDown'
import { hasFilters, type KeySort, type StatusFilter } from '../store/keys'
import type { SortField } from '../../../shared/domain'

const SORTS: { value: string; label: string; sort: KeySort }[] = [
  { value: 'created:desc', label: 'Newest first', sort: { field: 'created', order: 'desc' } },
  { value: 'created:asc', label: 'Oldest first', sort: { field: 'created', order: 'asc' } },
  { value: 'name:asc', label: 'Name, A to Z', sort: { field: 'name', order: 'asc' } },
  { value: 'name:desc', label: 'Name, Z to A', sort: { field: 'name', order: 'desc' } },
  { value: 'owner:asc', label: 'Owner, A to Z', sort: { field: 'owner', order: 'asc' } },
  { value: 'status:asc', label: 'Status', sort: { field: 'status', order: 'asc' } },
  { value: 'expires:asc', label: 'Expires soonest', sort: { field: 'expires', order: 'asc' } },
  { value: 'lastUsed:desc', label: 'Recently used', sort: { field: 'lastUsed', order: 'desc' } },
]
const COLUMN_NAME: Record<SortField, string> = {
  created: 'created',
  name: 'name',
  accessId: 'access ID',
  owner: 'owner',
  status: 'status',
  expires: 'expiry',
  lastUsed: 'last use',
}

function SortSelect() {
  const sort = useStore((s) => s.sort)
  const setSort = useStore((s) => s.setSort)
  const value = `${sort.field}:${sort.order}`
  const known = SORTS.some((o) => o.value === value)
  return (
    <div className="filter">
      <label className="filter-label" htmlFor="key-sort">
        Sort
      </label>
      <select
        id="key-sort"
        className="input input-sm"
        value={value}
        onChange={(e) => {
          const o = SORTS.find((x) => x.value === e.target.value)
          if (o) setSort(o.sort)
        }}
      >
        {SORTS.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
        {!known && <option value={value}>{`By ${COLUMN_NAME[sort.field]}, ${sort.order === 'asc' ? 'ascending' : 'descending'}`}</option>}
      </select>
    </div>
  )
}

export const SEARCH_ID = 'key-search'

function SearchBox() {
  const search = useStore((s) => s.filters.search)
  const setFilters = useStore((s) => s.setFilters)
  const [text, setText] = useState(search)
  useEffect(() => setText(search), [search])
  useDebouncedEffect(text, 180, (v) => {
    if (v !== useStore.getState().filters.search) setFilters({ search: v })
  })
  return (
    <div className="search">
      <IconSearch className="icon search-icon" />
      <input
        id={SEARCH_ID}
        type="search"
        className="input search-input"
        aria-label="Search keys"
        placeholder="Name, description or ID"
        value={text}
        maxLength={200}
        autoComplete="off"
        spellCheck={false}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') setFilters({ search: text })
          if (e.key === 'Escape' && text !== '') {
            e.preventDefault()
            setText('')
          }
        }}
      />
      <kbd className="search-kbd" aria-hidden="true" title="Press / to search">
        /
      </kbd>
    </div>
  )
}

function ScopeFilter() {
  const scope = useStore((s) => s.filters.scope)
  const setFilters = useStore((s) => s.setFilters)
  const [text, setText] = useState(scope)
  useEffect(() => setText(scope), [scope])
  useDebouncedEffect(text, 300, (v) => {
    if (v !== useStore.getState().filters.scope) setFilters({ scope: v })
  })
  return (
    <div className="filter">
      <label className="filter-label" htmlFor="filter-scope">
        Scope
      </label>
      <input id="filter-scope" className="input input-sm mono-input" value={text} placeholder="any" onChange={(e) => setText(e.target.value)} spellCheck={false} autoComplete="off" />
    </div>
  )
}

function Filters() {
  const { status, owner, expiringSoon, filtered, unusedForDays, staleAfterDays } = useStore(
    useShallow((s) => ({
      status: s.filters.status,
      owner: s.filters.owner,
      expiringSoon: s.filters.expiringSoon,
      filtered: hasFilters(s.filters),
      unusedForDays: s.filters.unusedForDays ?? null,
      staleAfterDays: s.policy?.staleAfterDays ?? 0,
    })),
  )
  const ownerNames = useStore(useShallow((s) => (s.owners ?? []).map((o) => o.name)))
  const { setFilters, clearFilters, loadOwners } = useStore(useShallow((s) => ({ setFilters: s.setFilters, clearFilters: s.clearFilters, loadOwners: s.loadOwners })))
  const scope = useStore((s) => s.filters.scope)
  const [moreOpen, setMoreOpen] = useState(false)
  const moreBtn = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    void loadOwners()
  }, [loadOwners])
  const folded = (scope.trim() !== '' ? 1 : 0) + (expiringSoon ? 1 : 0) + (unusedForDays !== null ? 1 : 0)
  const clear = () => {
    clearFilters()
    // The button goes away with the filters: focus moves to the search box, not the page body.
    document.getElementById(SEARCH_ID)?.focus()
  }
  return (
    <div className="toolbar" role="search" aria-label="Find keys">
      <SearchBox />
      <div className="filter">
        <label className="filter-label" htmlFor="filter-status">
          Status
        </label>
        <select id="filter-status" className="input input-sm" value={status} onChange={(e) => setFilters({ status: e.target.value as StatusFilter })}>
          <option value="all">All</option>
          <option value="active">Active</option>
          <option value="disabled">Disabled</option>
          <option value="expired">Expired</option>
          <option value="revoked">Revoked</option>
        </select>
      </div>
      <div className="filter">
        <label className="filter-label" htmlFor="filter-owner">
          Belongs to
        </label>
        <select id="filter-owner" className="input input-sm" value={owner} onChange={(e) => setFilters({ owner: e.target.value })}>
          <option value="">Anyone</option>
          {ownerNames.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </div>
      <SortSelect />
      {/* Narrow windows fold the less-used filters behind one button; wide ones show them inline. */}
      <button
        ref={moreBtn}
        type="button"
        className="btn btn-secondary btn-sm more-filters-btn"
        aria-expanded={moreOpen}
        aria-controls="more-filters"
        onClick={() => setMoreOpen(!moreOpen)}
      >
        <IconFilter />
        More filters{folded ? ` (${folded})` : ''}
      </button>
      <div
        id="more-filters"
        className={`more-filters${moreOpen ? ' open' : ''}`}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && moreOpen) {
            e.preventDefault()
            setMoreOpen(false)
            moreBtn.current?.focus()
          }
        }}
      >
        <ScopeFilter />
        <label className="toggle">
          <input type="checkbox" checked={expiringSoon} onChange={(e) => setFilters({ expiringSoon: e.target.checked })} />
          <span>Expiring within 7 days</span>
        </label>
        {(staleAfterDays > 0 || unusedForDays !== null) && (
          <label className="toggle">
            <input type="checkbox" checked={unusedForDays !== null} onChange={(e) => setFilters({ unusedForDays: e.target.checked ? staleAfterDays || unusedForDays : null })} />
            <span>Unused for {unusedForDays ?? staleAfterDays}+ days</span>
          </label>
        )}
      </div>
      {filtered && (
        <button type="button" className="btn btn-ghost btn-sm" onClick={clear}>
          Clear filters
        </button>
      )}
    </div>
  )
}

function BulkBar() {
  const { count, allMatching, names, selectingAll } = useStore(
    useShallow((s) => ({
      count: s.allMatching ? s.allMatching.count : Object.keys(s.selected).length,
      allMatching: s.allMatching !== null,
      names: Object.keys(s.selected).length,
      selectingAll: s.selectingAll,
    })),
  )
  const { clearSelection, openDialog } = useStore(useShallow((s) => ({ clearSelection: s.clearSelection, openDialog: s.openDialog })))
  if (count === 0 && !selectingAll) return null
  const clear = () => {
    // The bar goes away: focus moves to the list first, so it never falls to the page body.
    if (!focusGrid()) document.querySelector<HTMLElement>('[data-screen-heading]')?.focus()
    clearSelection()
  }
  const open = () => {
    const s = useStore.getState()
    if (s.allMatching) openDialog({ type: 'revokeMatching', count: s.allMatching.count })
    else openDialog({ type: 'revoke', keys: Object.values(s.selected) })
  }
  return (
    <div className="bulk-bar" role="region" aria-label="Selection">
      <span className="bulk-count">
        {selectingAll ? 'Counting the keys in this view…' : allMatching ? `All ${plural(count, 'key')} in this view selected` : `${plural(names, 'key')} selected`}
      </span>
      <button type="button" className="btn btn-danger btn-sm" onClick={open} disabled={selectingAll || count === 0}>
        Revoke selected ({formatCount(count)})
      </button>
      <button type="button" className="btn btn-ghost btn-sm" onClick={clear}>
        Clear selection
      </button>
    </div>
  )
}

function EmptyState() {
  const { total, stale, filtered, summaryAll, issueOk } = useStore(
    useShallow((s) => ({
      total: s.total,
      stale: s.listStale,
      filtered: hasFilters(s.filters),
      summaryAll: s.summary?.all ?? null,
      issueOk: canIssue(s.health, s.healthError),
    })),
  )
  const { clearFilters, openDialog } = useStore(useShallow((s) => ({ clearFilters: s.clearFilters, openDialog: s.openDialog })))
  if (total !== 0 || stale) return null
  if (filtered && summaryAll !== 0)
    return (
      <div className="empty" role="status">
        <IconSearch className="icon empty-icon" />
        <h2>No keys match</h2>
        <p>Try a shorter search, another status or owner, or clear the filters to see every key.</p>
        <button
          type="button"
          className="btn btn-secondary"
          onClick={() => {
            clearFilters()
            document.getElementById(SEARCH_ID)?.focus()
          }}
        >
          Clear all filters
        </button>
      </div>
    )
  return (
    <div className="empty" role="status">
      <IconKey className="icon empty-icon" />
      <h2>No API keys yet</h2>
      <p>
        Create a key for a person or a service account. You choose its scopes and expiry; KeyDesk shows the secret access key once and lets you download it as
        a CSV.
      </p>
      <div className="empty-actions">
        <button type="button" className="btn btn-primary" disabled={!issueOk} onClick={() => openDialog({ type: 'create' })}>
          <IconPlus />
          Create your first key
        </button>
        <button type="button" className="btn btn-secondary" disabled={!issueOk} onClick={() => openDialog({ type: 'import' })}>
          <IconUpload />
          Import names from a CSV
        </button>
      </div>
    </div>
  )
}

function ListError() {
  const error = useStore((s) => s.listError)
  const down = useStore((s) => storeDown(s.health, s.healthError))
  const loadKeys = useStore((s) => s.loadKeys)
  if (!error || down) return null
  return (
    <div className="callout callout-danger list-error" role="alert">
      <IconWarning />
      <div>
        {error.message}{' '}
        <button type="button" className="link-btn" onClick={() => void loadKeys()}>
          Try again
        </button>
      </div>
    </div>
  )
}

function Summary() {
  const { total, summary, filtered, expiringSoon } = useStore(
    useShallow((s) => ({ total: s.total, summary: s.summary, filtered: hasFilters(s.filters), expiringSoon: s.filters.expiringSoon })),
  )
  const setFilters = useStore((s) => s.setFilters)
  if (!summary) return <p className="subtitle">&nbsp;</p>
  return (
    <p className="subtitle">
      {plural(summary.all, 'key')} · {formatCount(summary.active)} active
      {summary.expiringSoon > 0 && !expiringSoon && (
        <>
          {' · '}
          <button type="button" className="link-btn warn" onClick={() => setFilters({ expiringSoon: true })}>
            {formatCount(summary.expiringSoon)} expiring within 7 days
          </button>
        </>
      )}
      {filtered && total !== null && <span className="muted"> · showing {plural(total, 'match', 'matches')}</span>}
    </p>
  )
}

export function KeysScreen() {
  const { issueOk, down, exportInventory, notify, openDialog, loadKeys, loadSummary } = useStore(
    useShallow((s) => ({
      issueOk: canIssue(s.health, s.healthError),
      down: storeDown(s.health, s.healthError),
      exportInventory: s.exportInventory,
      notify: s.notify,
      openDialog: s.openDialog,
      loadKeys: s.loadKeys,
      loadSummary: s.loadSummary,
    })),
  )
  useEffect(() => {
    if (useStore.getState().total === null) void loadKeys()
    void loadSummary()
  }, [loadKeys, loadSummary])

  const doExport = async () => {
    const r = await exportInventory()
    if (!r.ok) notify('error', r.error.message)
    else if (r.value.saved) notify('success', `Inventory saved to ${r.value.path}.`)
  }
  const blocked = issueOk ? undefined : 'Unavailable until the key store and keychain are healthy'

  return (
    <div className="screen screen-keys">
      <header className="screen-head">
        <div>
          <h1 tabIndex={-1} data-screen-heading>
            API keys
          </h1>
          <Summary />
        </div>
        {/* Controls that cannot work while the store is down are not shown at all (the alert says what is off). */}
        {!down && (
          <div className="head-actions">
            <button type="button" className="btn btn-ghost" onClick={() => void doExport()} title="Save every key (no secrets) as a CSV">
              <IconDownload />
              <span className="btn-label-wide">Export inventory</span>
            </button>
            <button type="button" className="btn btn-secondary" disabled={!issueOk} title={blocked ?? 'Issue one key per row of a CSV of names'} onClick={() => openDialog({ type: 'import' })}>
              <IconUpload />
              Import CSV
            </button>
            <button type="button" className="btn btn-primary" disabled={!issueOk} title={blocked} onClick={() => openDialog({ type: 'create' })}>
              <IconPlus />
              Create API key
            </button>
          </div>
        )}
      </header>
      {!down && <Filters />}
      <ListError />
      {down ? (
        <StoreDown what="Keys" />
      ) : (
        <div className="keys-body">
          <div className="keys-list">
            <div className="table-wrap">
              <KeyTable />
              <EmptyState />
            </div>
            <BulkBar />
          </div>
          <KeyDetails />
        </div>
      )}
    </div>
  )
}
