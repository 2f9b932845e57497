/**
 * The key list: a virtualized ARIA grid. Only the rows in view (plus overscan)
 * are in the DOM, and only the pages around them are held in the store, so a
 * list of 100 000 keys scrolls like a list of 100.
 *
 * Keyboard: the grid is ONE Tab stop (roving focus on the focused row's name):
 * arrows, Home/End, PageUp/PageDown move and keep the row in view, Space ticks
 * the row, Enter opens it. ArrowUp from the first row reaches the column
 * headers (Left/Right among them, Enter sorts).
 */
import { useVirtualizer } from '@tanstack/react-virtual'
import { memo, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react'
import { useShallow } from 'zustand/react/shallow'
import type { SortField } from '../../../shared/domain'
import { formatDate, formatDateTime, relativeTime } from '../lib/format'
import { useNow } from '../lib/hooks'
import { useStore } from '../store'
import { PAGE_SIZE } from '../store/keys'
import { IconArrowDown, IconArrowUp, IconSort } from './icons'
import { ExpiresCell, StatusBadge } from './Status'

const ROW_H = 44
const HEAD_H = 40

const COLUMNS: { key: SortField; label: string; className: string }[] = [
  { key: 'name', label: 'Name', className: 'col-name' },
  { key: 'accessId', label: 'Access ID', className: 'col-id' },
  { key: 'owner', label: 'Owner', className: 'col-owner' },
  { key: 'status', label: 'Status', className: 'col-status' },
  { key: 'expires', label: 'Expires', className: 'col-expires' },
  { key: 'lastUsed', label: 'Last used', className: 'col-used' },
  { key: 'created', label: 'Created', className: 'col-created' },
]

function SortHeader({ col, index, onFocusHeader }: { col: (typeof COLUMNS)[number]; index: number; onFocusHeader(i: number): void }) {
  const { field, order } = useStore(useShallow((s) => ({ field: s.sort.field, order: s.sort.order })))
  const toggleSort = useStore((s) => s.toggleSort)
  const active = field === col.key
  const ariaSort = active ? (order === 'asc' ? 'ascending' : 'descending') : 'none'
  return (
    <div role="columnheader" aria-sort={ariaSort} className={`cell head-cell ${col.className}`}>
      <button
        type="button"
        tabIndex={-1}
        data-head-index={index}
        className={`sort-btn${active ? ' sort-active' : ''}`}
        onClick={() => toggleSort(col.key)}
        onFocus={() => onFocusHeader(index)}
        title={`Sort by ${col.label.toLowerCase()}${active ? (order === 'asc' ? ' (ascending; click for descending)' : ' (descending; click for ascending)') : ''}`}
      >
        {col.label}
        {active ? order === 'asc' ? <IconArrowUp className="icon icon-sm" /> : <IconArrowDown className="icon icon-sm" /> : <IconSort className="icon icon-sm sort-idle" />}
      </button>
    </div>
  )
}

function SelectAllHeader({ onFocusHeader }: { onFocusHeader(i: number): void }) {
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
        tabIndex={-1}
        data-head-index={-1}
        aria-label="Select all keys in this view"
        title="Select every key that matches the current search and filters"
        checked={allMatching || selectingAll}
        disabled={selectingAll || stale || total === 0}
        onFocus={() => onFocusHeader(-1)}
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

const Row = memo(function Row({ index, start, now, tabbable, onFocusRow }: { index: number; start: number; now: number; tabbable: boolean; onFocusRow(i: number): void }) {
  const k = useStore((s) => s.pages[Math.floor(index / PAGE_SIZE)]?.[index % PAGE_SIZE])
  const checked = useStore((s) => (k ? (s.allMatching !== null ? k.status !== 'revoked' : s.selected[k.accessId] !== undefined) : false))
  const active = useStore((s) => k !== undefined && s.activeKey?.accessId === k.accessId)
  const toggleSelected = useStore((s) => s.toggleSelected)
  const openKey = useStore((s) => s.openKey)
  const style = { transform: `translateY(${start}px)` }
  if (!k)
    return (
      <div role="row" aria-rowindex={index + 2} aria-busy="true" className="row row-loading" style={style}>
        <div role="gridcell" className="cell col-check" />
        {COLUMNS.map((c) => (
          <div role="gridcell" key={c.key} className={`cell ${c.className}`}>
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
      aria-selected={checked}
      data-row-index={index}
      data-access-id={k.accessId}
      aria-current={active ? 'true' : undefined}
      className={`row${active ? ' row-active' : ''}${checked ? ' row-checked' : ''}${k.status !== 'active' ? ' row-inactive' : ''}`}
      style={style}
      onClick={onRowClick}
    >
      <div role="gridcell" className="cell col-check">
        <input
          type="checkbox"
          tabIndex={-1}
          aria-label={`Select ${k.name}`}
          checked={checked}
          disabled={k.status === 'revoked'}
          title={k.status === 'revoked' ? 'Already revoked' : undefined}
          onChange={() => toggleSelected(k)}
        />
      </div>
      <div role="gridcell" className="cell col-name">
        <button
          type="button"
          className="row-name"
          tabIndex={tabbable ? 0 : -1}
          title={k.description ? `${k.name}\n${k.description}` : k.name}
          onFocus={() => onFocusRow(index)}
          onClick={() => openKey(k)}
        >
          <NameParts name={k.name} />
        </button>
      </div>
      <div role="gridcell" className="cell col-id mono" title={k.accessId}>
        {k.accessId}
      </div>
      <div role="gridcell" className="cell col-owner" title={`${k.owner} (${k.ownerKind === 'service' ? 'service account' : 'user'})`}>
        <span className="truncate key-owner">{k.owner}</span>
        {k.ownerKind === 'service' && <span className="tag">svc</span>}
      </div>
      <div role="gridcell" className="cell col-status">
        <StatusBadge k={k} />
      </div>
      <div role="gridcell" className="cell col-expires">
        <ExpiresCell k={k} now={now} />
      </div>
      <div role="gridcell" className={`cell col-used${k.lastUsedAt ? '' : ' muted'}`} title={k.lastUsedAt ? formatDateTime(k.lastUsedAt) : 'Never used'}>
        {k.lastUsedAt ? relativeTime(k.lastUsedAt, now) : 'Never'}
      </div>
      <div role="gridcell" className="cell col-created" title={formatDateTime(k.createdAt)}>
        {formatDate(k.createdAt)}
      </div>
    </div>
  )
})

export const GRID_ID = 'key-grid'

/** Put focus on the grid's current row (after an action whose control went away). Returns false if there is no row. */
export function focusGrid(): boolean {
  const grid = document.getElementById(GRID_ID)
  const el = grid?.querySelector<HTMLElement>('.row-name[tabindex="0"]') ?? grid?.querySelector<HTMLElement>('.row-name')
  if (!el) return false
  el.focus({ preventScroll: true })
  return document.activeElement === el
}

export function KeyTable() {
  const { total, listVersion, stale, filters, sort } = useStore(
    useShallow((s) => ({ total: s.total, listVersion: s.listVersion, stale: s.listStale, filters: s.filters, sort: s.sort })),
  )
  const ensureRows = useStore((s) => s.ensureRows)
  const toggleSelected = useStore((s) => s.toggleSelected)
  const now = useNow(60_000)
  const scrollRef = useRef<HTMLDivElement>(null)
  const count = total ?? 0
  const [focusRow, setFocusRow] = useState(0)
  const headerCol = useRef(0)

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
    setFocusRow(0)
  }, [filters, sort])

  useEffect(() => {
    ensureRows(first, Math.max(last, first + 20))
  }, [first, last, total, listVersion, ensureRows])

  // The roving stop must be a rendered row: if the focused row scrolled out of the DOM, the first rendered one takes the stop.
  const rendered = items.some((it) => it.index === focusRow)
  const tabRow = rendered ? focusRow : (items.find((it) => it.start - HEAD_H >= (scrollRef.current?.scrollTop ?? 0) - 1)?.index ?? first)

  // Each move cancels a previous one still waiting for its row to render (a late focus must never win).
  const focusSeq = useRef(0)
  const focusRowAt = (next: number) => {
    const seq = ++focusSeq.current
    setFocusRow(next)
    v.scrollToIndex(next, { align: 'auto' })
    const focus = (tries: number) => {
      if (seq !== focusSeq.current) return
      const btn = scrollRef.current?.querySelector<HTMLElement>(`[data-row-index="${next}"] .row-name`)
      if (btn) btn.focus({ preventScroll: true })
      else if (tries > 0) requestAnimationFrame(() => focus(tries - 1))
    }
    focus(0)
    if (!document.activeElement?.closest(`[data-row-index="${next}"]`)) requestAnimationFrame(() => focus(20))
  }
  const focusHeader = (i: number) => {
    focusSeq.current++
    headerCol.current = i
    scrollRef.current?.querySelector<HTMLElement>(`[data-head-index="${i}"]`)?.focus()
  }

  const onKeyDown = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement
    const inHeader = target.closest('.head-row') !== null
    if (inHeader) {
      const last = COLUMNS.length - 1
      if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        e.preventDefault()
        focusHeader(Math.max(-1, Math.min(last, headerCol.current + (e.key === 'ArrowRight' ? 1 : -1))))
      } else if (e.key === 'Home' || e.key === 'End') {
        e.preventDefault()
        focusHeader(e.key === 'Home' ? -1 : last)
      } else if (e.key === 'ArrowDown' && count > 0) {
        e.preventDefault()
        focusRowAt(Math.max(0, first))
      }
      return
    }
    const rowEl = target.closest<HTMLElement>('[data-row-index]')
    if (!rowEl) return
    const i = Number(rowEl.dataset.rowIndex)
    if (e.key === ' ' && target.tagName !== 'INPUT') {
      e.preventDefault()
      const page = useStore.getState().pages[Math.floor(i / PAGE_SIZE)]
      const k = page?.[i % PAGE_SIZE]
      if (k && k.status !== 'revoked') toggleSelected(k)
      return
    }
    const pageRows = Math.max(1, Math.floor(((scrollRef.current?.clientHeight ?? 400) - HEAD_H) / ROW_H) - 1)
    let next: number | null = null
    if (e.key === 'ArrowDown') next = i + 1
    else if (e.key === 'ArrowUp') {
      if (i === 0) {
        e.preventDefault()
        focusHeader(Math.max(0, headerCol.current))
        return
      }
      next = i - 1
    } else if (e.key === 'PageDown') next = Math.min(count - 1, i + pageRows)
    else if (e.key === 'PageUp') next = Math.max(0, i - pageRows)
    else if (e.key === 'Home') next = 0
    else if (e.key === 'End') next = count - 1
    if (next === null) return
    e.preventDefault()
    if (next < 0 || next >= count) return
    focusRowAt(next)
  }
  // Space on a button would also click it (open the key) on keyup: it selects instead.
  const onKeyUp = (e: KeyboardEvent) => {
    if (e.key === ' ' && (e.target as HTMLElement).classList.contains('row-name')) e.preventDefault()
  }

  return (
    <>
    <p id="key-grid-help" className="visually-hidden">
      Arrow keys move between keys, Page Up and Page Down by a screen, Space selects, Enter opens. Arrow up from the first key reaches the column headers.
    </p>
    <div
      ref={scrollRef}
      id={GRID_ID}
      role="grid"
      aria-label="API keys"
      aria-rowcount={count + 1}
      aria-colcount={COLUMNS.length + 1}
      aria-multiselectable="true"
      aria-busy={stale || undefined}
      aria-describedby="key-grid-help"
      className={`key-table${stale ? ' is-stale' : ''}`}
      onKeyDown={onKeyDown}
      onKeyUp={onKeyUp}
    >
      <div role="rowgroup" className="thead">
        <div role="row" aria-rowindex={1} className="row head-row">
          <SelectAllHeader onFocusHeader={(i) => (headerCol.current = i)} />
          {COLUMNS.map((c, i) => (
            <SortHeader key={c.key} col={c} index={i} onFocusHeader={(n) => (headerCol.current = n)} />
          ))}
        </div>
      </div>
      <div role="rowgroup" className="tbody" style={{ height: v.getTotalSize() }}>
        {items.map((it) => (
          <Row key={it.index} index={it.index} start={it.start - HEAD_H} now={now} tabbable={it.index === tabRow} onFocusRow={setFocusRow} />
        ))}
      </div>
    </div>
    </>
  )
}
