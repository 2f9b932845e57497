/**
 * The key list: a virtualized ARIA table. Only the rows in view (plus overscan)
 * are in the DOM, and only the pages around them are held in the store, so a
 * list of 100 000 keys scrolls like a list of 100.
 */
import { useVirtualizer } from '@tanstack/react-virtual'
import { memo, useEffect, useLayoutEffect, useRef, type KeyboardEvent, type MouseEvent } from 'react'
import { useShallow } from 'zustand/react/shallow'
import type { SortField } from '../../../shared/domain'
import { formatDateTime, relativeTime } from '../lib/format'
import { useNow } from '../lib/hooks'
import { useStore } from '../store'
import { PAGE_SIZE } from '../store/keys'
import { IconArrowDown, IconArrowUp, IconSort } from './icons'
import { ExpiresCell, StatusBadge } from './Status'

const ROW_H = 44
const HEAD_H = 40

type SortKey = Exclude<SortField, 'created'>

const COLUMNS: { key: SortKey; label: string; className: string }[] = [
  { key: 'name', label: 'Name', className: 'col-name' },
  { key: 'accessId', label: 'Access ID', className: 'col-id' },
  { key: 'owner', label: 'Owner', className: 'col-owner' },
  { key: 'status', label: 'Status', className: 'col-status' },
  { key: 'expires', label: 'Expires', className: 'col-expires' },
  { key: 'lastUsed', label: 'Last used', className: 'col-used' },
]

function SortHeader({ col }: { col: (typeof COLUMNS)[number] }) {
  const { field, order } = useStore(useShallow((s) => ({ field: s.sort.field, order: s.sort.order })))
  const toggleSort = useStore((s) => s.toggleSort)
  const active = field === col.key
  const ariaSort = active ? (order === 'asc' ? 'ascending' : 'descending') : 'none'
  return (
    <div role="columnheader" aria-sort={ariaSort} className={`cell head-cell ${col.className}`}>
      <button
        type="button"
        className={`sort-btn${active ? ' sort-active' : ''}`}
        onClick={() => toggleSort(col.key)}
        title={`Sort by ${col.label.toLowerCase()}${active ? (order === 'asc' ? ' (ascending; click for descending)' : ' (descending; click for ascending)') : ''}`}
      >
        {col.label}
        {active ? order === 'asc' ? <IconArrowUp className="icon icon-sm" /> : <IconArrowDown className="icon icon-sm" /> : <IconSort className="icon icon-sm sort-idle" />}
      </button>
    </div>
  )
}

function SelectAllHeader() {
  const { allMatching, someSelected, selectingAll, total, stale } = useStore(
    useShallow((s) => ({
      allMatching: s.allMatching !== null,
      someSelected: Object.keys(s.selected).length > 0,
      selectingAll: s.selectingAll,
      total: s.total ?? 0,
      stale: s.listStale,
    })),
  )
  const selectAllMatching = useStore((s) => s.selectAllMatching)
  const clearSelection = useStore((s) => s.clearSelection)
  const ref = useRef<HTMLInputElement>(null)
  useEffect(() => {
    if (ref.current) ref.current.indeterminate = someSelected && !allMatching
  }, [someSelected, allMatching])
  return (
    <div role="columnheader" className="cell head-cell col-check">
      <input
        ref={ref}
        type="checkbox"
        aria-label="Select all keys in this view"
        title="Select every key that matches the current search and filters"
        checked={allMatching || selectingAll}
        disabled={selectingAll || stale || total === 0}
        onChange={() => (allMatching || someSelected ? clearSelection() : void selectAllMatching())}
      />
    </div>
  )
}

function NameParts({ name }: { name: string }) {
  const i = name.lastIndexOf('/')
  if (i < 0) return <span className="key-leaf">{name}</span>
  return (
    <>
      <span className="key-folder">{name.slice(0, i + 1)}</span>
      <span className="key-leaf">{name.slice(i + 1)}</span>
    </>
  )
}

const Row = memo(function Row({ index, start, now }: { index: number; start: number; now: number }) {
  const k = useStore((s) => s.pages[Math.floor(index / PAGE_SIZE)]?.[index % PAGE_SIZE])
  const checked = useStore((s) => (k ? (s.allMatching !== null ? k.status !== 'revoked' : s.selected[k.accessId] !== undefined) : false))
  const active = useStore((s) => k !== undefined && s.activeKey?.accessId === k.accessId)
  const toggleSelected = useStore((s) => s.toggleSelected)
  const openKey = useStore((s) => s.openKey)
  const style = { transform: `translateY(${start}px)` }
  if (!k)
    return (
      <div role="row" aria-rowindex={index + 2} aria-busy="true" className="row row-loading" style={style}>
        <div role="cell" className="cell col-check" />
        {COLUMNS.map((c) => (
          <div role="cell" key={c.key} className={`cell ${c.className}`}>
            <span className="skeleton" />
          </div>
        ))}
      </div>
    )
  const onRowClick = (e: MouseEvent) => {
    if ((e.target as HTMLElement).closest('input, button, a')) return
    openKey(k)
  }
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      data-row-index={index}
      data-access-id={k.accessId}
      aria-current={active ? 'true' : undefined}
      className={`row${active ? ' row-active' : ''}${checked ? ' row-checked' : ''}${k.status !== 'active' ? ' row-inactive' : ''}`}
      style={style}
      onClick={onRowClick}
    >
      <div role="cell" className="cell col-check">
        <input
          type="checkbox"
          aria-label={`Select ${k.name}`}
          checked={checked}
          disabled={k.status === 'revoked'}
          title={k.status === 'revoked' ? 'Already revoked' : undefined}
          onChange={() => toggleSelected(k)}
        />
      </div>
      <div role="cell" className="cell col-name">
        <button type="button" className="row-name" title={k.description ? `${k.name}\n${k.description}` : k.name} onClick={() => openKey(k)}>
          <NameParts name={k.name} />
        </button>
      </div>
      <div role="cell" className="cell col-id mono" title={k.accessId}>
        {k.accessId}
      </div>
      <div role="cell" className="cell col-owner" title={`${k.owner} (${k.ownerKind === 'service' ? 'service account' : 'user'})`}>
        <span className="truncate">{k.owner}</span>
        {k.ownerKind === 'service' && <span className="tag">svc</span>}
      </div>
      <div role="cell" className="cell col-status">
        <StatusBadge k={k} />
      </div>
      <div role="cell" className="cell col-expires">
        <ExpiresCell k={k} now={now} />
      </div>
      <div role="cell" className={`cell col-used${k.lastUsedAt ? '' : ' muted'}`} title={k.lastUsedAt ? formatDateTime(k.lastUsedAt) : 'Never used'}>
        {k.lastUsedAt ? relativeTime(k.lastUsedAt, now) : 'Never'}
      </div>
    </div>
  )
})

export function KeyTable() {
  const { total, listVersion, stale, filters, sort } = useStore(
    useShallow((s) => ({ total: s.total, listVersion: s.listVersion, stale: s.listStale, filters: s.filters, sort: s.sort })),
  )
  const ensureRows = useStore((s) => s.ensureRows)
  const now = useNow(60_000)
  const scrollRef = useRef<HTMLDivElement>(null)
  const count = total ?? 0

  const v = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_H,
    overscan: 12,
    scrollMargin: HEAD_H,
    scrollPaddingStart: HEAD_H,
    initialRect: { width: 1100, height: 600 },
  })
  const items = v.getVirtualItems()
  const first = items[0]?.index ?? 0
  const last = items[items.length - 1]?.index ?? 0

  // A new search, filter or sort starts at the top.
  useLayoutEffect(() => {
    if (scrollRef.current) scrollRef.current.scrollTop = 0
  }, [filters, sort])

  useEffect(() => {
    ensureRows(first, Math.max(last, first + 20))
  }, [first, last, total, listVersion, ensureRows])

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp' && e.key !== 'Home' && e.key !== 'End') return
    const rowEl = (e.target as HTMLElement).closest<HTMLElement>('[data-row-index]')
    if (!rowEl || (e.target as HTMLElement).tagName === 'INPUT') return
    const i = Number(rowEl.dataset.rowIndex)
    const next = e.key === 'ArrowDown' ? i + 1 : e.key === 'ArrowUp' ? i - 1 : e.key === 'Home' ? 0 : count - 1
    if (next < 0 || next >= count) return
    e.preventDefault()
    v.scrollToIndex(next, { align: 'auto' })
    const focus = (tries: number) => {
      const btn = scrollRef.current?.querySelector<HTMLElement>(`[data-row-index="${next}"] .row-name`)
      if (btn) btn.focus()
      else if (tries > 0) requestAnimationFrame(() => focus(tries - 1))
    }
    requestAnimationFrame(() => focus(10))
  }

  return (
    <div
      ref={scrollRef}
      role="table"
      aria-label="API keys"
      aria-rowcount={count + 1}
      aria-busy={stale || undefined}
      className={`key-table${stale ? ' is-stale' : ''}`}
      onKeyDown={onKeyDown}
    >
      <div role="rowgroup" className="thead">
        <div role="row" aria-rowindex={1} className="row head-row">
          <SelectAllHeader />
          {COLUMNS.map((c) => (
            <SortHeader key={c.key} col={c} />
          ))}
        </div>
      </div>
      <div role="rowgroup" className="tbody" style={{ height: v.getTotalSize() }}>
        {items.map((it) => (
          <Row key={it.index} index={it.index} start={it.start - HEAD_H} now={now} />
        ))}
      </div>
    </div>
  )
}
