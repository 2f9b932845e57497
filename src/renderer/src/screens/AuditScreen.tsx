import { useEffect, useState } from 'react'
import { useShallow } from 'zustand/react/shallow'
import { AUDIT_ACTIONS, type AuditAction, type AuditEntry } from '../../../shared/domain'
import { IconCheck, IconDownload, IconList, IconShield, IconWarning } from '../components/icons'
import { formatCount, formatDateTime, plural, relativeTime } from '../lib/format'
import { useDebouncedEffect } from '../lib/hooks'
import { useStore } from '../store'
import { storeDown } from '../store/health'
import { StoreDown } from '../components/StoreDown'

/** A label for every action the log records (a Record, so a new action without one fails the typecheck). */
const ACTION_LABEL: Record<AuditAction, string> = {
  'key.create': 'Key created',
  'key.reset': 'Key reset',
  'key.revoke': 'Key revoked',
  'key.update': 'Key edited',
  'key.disable': 'Key disabled',
  'key.enable': 'Key enabled',
  'owner.add': 'Owner added',
  'owner.disable': 'Owner disabled',
  'owner.enable': 'Owner enabled',
  'owner.revoke_all': 'Owner’s keys revoked',
  'policy.set': 'Policy changed',
  'keys.purge': 'Old keys purged',
  'credentials.export': 'Credential CSV saved',
  'inventory.export': 'Inventory exported',
  'audit.export': 'Audit log exported',
  'team.export_secret': 'Team secret exported',
  'store.backup': 'Store backed up',
  'store.restore': 'Store restored from a backup',
  'store.upgrade': 'Store upgraded',
}
export const ACTIONS: { value: AuditAction; label: string }[] = AUDIT_ACTIONS.map((value) => ({ value, label: ACTION_LABEL[value] }))
const LABEL = new Map<string, string>(ACTIONS.map((a) => [a.value, a.label]))

function tone(action: string): string {
  if (action.endsWith('revoke') || action.endsWith('revoke_all') || action === 'owner.disable' || action === 'key.disable' || action === 'keys.purge') return 'danger'
  if (action === 'key.reset' || action === 'policy.set' || action === 'key.update' || action === 'store.restore' || action === 'team.export_secret') return 'warn'
  if (action === 'key.create' || action === 'owner.add' || action === 'key.enable' || action === 'owner.enable') return 'ok'
  return 'neutral'
}

/** The audit detail's field names, in words (the log stores the store's own names). */
export const DETAIL_LABEL: Record<string, string> = {
  name: 'Name',
  owner: 'Owner',
  scopes: 'Scopes',
  description: 'Description',
  expiresAt: 'Expires',
  graceUntil: 'Old key works until',
  previous: 'Previous key',
  reason: 'Reason',
  kind: 'Kind',
  keys: 'Keys',
  revoked: 'Keys revoked',
  purged: 'Keys purged',
  rows: 'Rows',
  retentionDays: 'Retention',
  maxKeyAgeDays: 'Maximum key age',
  maxKeysPerOwner: 'Maximum keys per owner',
  defaultExpiryDays: 'Default expiry',
  allowCreation: 'Allow key creation',
  reminderDays: 'Reminders before expiry',
  staleAfterDays: 'Unused after',
}
const DAY_FIELDS = new Set(['retentionDays', 'maxKeyAgeDays', 'defaultExpiryDays', 'staleAfterDays'])

function labelOf(field: string): string {
  if (DETAIL_LABEL[field]) return DETAIL_LABEL[field]
  // Unknown field: camelCase or snake_case to words, never the raw name.
  const words = field.replace(/[_-]+/g, ' ').replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().trim()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

function valueText(v: unknown, field: string): string {
  if (v === null || v === undefined || v === '') return 'none'
  if (Array.isArray(v)) return v.length ? v.join(field === 'reminderDays' ? ', ' : ' ') + (field === 'reminderDays' ? ' days' : '') : 'none'
  if (typeof v === 'boolean') return v ? 'yes' : 'no'
  if (field === 'kind' && (v === 'service' || v === 'user')) return v === 'service' ? 'service account' : 'user'
  if (field === 'previous' && (v === 'kept' || v === 'ended')) return v === 'kept' ? 'kept until its grace ends' : 'ended at the reset'
  if (typeof v === 'number' && DAY_FIELDS.has(field)) return v === 1 ? '1 day' : `${formatCount(v)} days`
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) return formatDateTime(v)
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

function detailText(v: unknown, field: string): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>
    if ('from' in o && 'to' in o) return `${valueText(o.from, field)} → ${valueText(o.to, field)}`
  }
  return valueText(v, field)
}

function Detail({ detail }: { detail: Record<string, unknown> }) {
  const entries = Object.entries(detail).filter(([, v]) => v !== null && v !== undefined && v !== '')
  if (!entries.length) return <span className="muted">—</span>
  return (
    <dl className="kv">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{labelOf(k)}</dt>
          <dd className={/^kdid_/.test(String(v)) ? 'mono nobreak' : undefined}>{detailText(v, k)}</dd>
        </div>
      ))}
    </dl>
  )
}

function Target({ target }: { target: string }) {
  const openKeyById = useStore((s) => s.openKeyById)
  if (/^kdid_[0-9A-Za-z]{16}$/.test(target))
    return (
      <button type="button" className="link-btn mono nobreak" title="Open this key" onClick={() => void openKeyById(target)}>
        {target}
      </button>
    )
  return <span className="target-text">{target}</span>
}

function Row({ e }: { e: AuditEntry }) {
  return (
    <tr>
      <td className="nowrap" title={`${formatDateTime(e.at)} · entry ${e.id}`}>
        <div>{formatDateTime(e.at)}</div>
        <div className="muted small">{relativeTime(e.at)}</div>
      </td>
      <td className="break">{e.actor}</td>
      <td>
        <span className={`action action-${tone(e.action)}`} title={e.action}>
          {LABEL.get(e.action) ?? labelOf(e.action.replace(/\./g, ' '))}
        </span>
      </td>
      <td className="col-target" title={e.target}>
        <Target target={e.target} />
      </td>
      <td>
        <Detail detail={e.detail} />
      </td>
    </tr>
  )
}

function StoreVerdict() {
  const check = useStore((s) => s.storeCheck)
  if (!check) return null
  const r = check.result
  if (r.ok)
    return (
      <div className="callout callout-success verdict" role="status">
        <IconCheck />
        <div>
          <strong>The whole store is intact.</strong> Every page, {plural(r.counts.keys, 'key', 'keys')}, {plural(r.counts.owners, 'owner', 'owners')},{' '}
          {plural(r.counts.tombstones, 'tombstone', 'tombstones')} and the {plural(r.counts.auditEntries, 'audit entry', 'audit entries')} check out, and the store is
          not older than the keychain last saw. <span className="muted">Checked {formatDateTime(check.at)}.</span>
        </div>
      </div>
    )
  return (
    <div className="callout callout-danger verdict" role="alert">
      <IconWarning />
      <div>
        <strong>The store was changed outside KeyDesk.</strong> Keys it names never verify; keep a copy of the store file and restore a backup
        (keydesk restore) once you know what happened.
        <ul className="verdict-problems">
          {r.problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      </div>
    </div>
  )
}

function Verdict() {
  const check = useStore((s) => s.auditCheck)
  const dbPath = useStore((s) => s.health?.dbPath ?? null)
  if (!check) return null
  const r = check.result
  if (r.ok)
    return (
      <div className="callout callout-success verdict" role="status">
        <IconCheck />
        <div>
          <strong>The audit log is intact.</strong> All {plural(r.checked, 'entry', 'entries')} check out: none was changed, removed or reordered since it was
          written. <span className="muted">Checked {formatDateTime(check.at)}.</span>
        </div>
      </div>
    )
  return (
    <div className="callout callout-danger verdict" role="alert">
      <IconWarning />
      <div>
        <strong>The audit log has been tampered with{r.brokenAt ? ` at entry ${r.brokenAt}` : ''}.</strong> {r.problem ? `${r.problem[0]!.toUpperCase()}${r.problem.slice(1)}.` : ''}{' '}
        The {plural(r.checked, 'entry', 'entries')} before it check out. Someone edited the store outside KeyDesk: keep a copy of {dbPath ?? 'the store file'} and
        investigate before trusting later entries.
      </div>
    </div>
  )
}

export function AuditScreen() {
  const down = useStore((s) => storeDown(s.health, s.healthError))
  const { entries, filter, hasMore, loading, error, loadAudit, loadOlderAudit, setAuditFilter, verifyAudit, checkStore, exportAudit, notify } = useStore(
    useShallow((s) => ({
      entries: s.auditEntries,
      filter: s.auditFilter,
      hasMore: s.auditHasMore,
      loading: s.auditLoading,
      error: s.auditError,
      loadAudit: s.loadAudit,
      loadOlderAudit: s.loadOlderAudit,
      setAuditFilter: s.setAuditFilter,
      verifyAudit: s.verifyAudit,
      checkStore: s.checkStore,
      exportAudit: s.exportAudit,
      notify: s.notify,
    })),
  )
  const [target, setTarget] = useState(filter.target)
  const [verifying, setVerifying] = useState(false)
  const [checking, setChecking] = useState(false)
  useEffect(() => {
    void loadAudit()
  }, [loadAudit])
  useDebouncedEffect(target, 250, (v) => setAuditFilter({ target: v }))

  const verify = async () => {
    if (verifying) return
    setVerifying(true)
    const r = await verifyAudit()
    setVerifying(false)
    if (!r.ok) notify('error', r.error.message)
  }
  const check = async () => {
    if (checking) return
    setChecking(true)
    const r = await checkStore()
    setChecking(false)
    if (!r.ok) notify('error', r.error.message)
  }
  const doExport = async () => {
    const r = await exportAudit()
    if (!r.ok) notify('error', r.error.message)
    else if (r.value.saved) notify('success', `Audit log saved to ${r.value.path}.`)
  }
  const filtered = filter.action !== '' || filter.target.trim() !== ''

  return (
    <div className="screen">
      <header className="screen-head">
        <div>
          <h1 tabIndex={-1} data-screen-heading>
            Audit log
          </h1>
          <p className="subtitle">Every change, newest first. Each entry is chained to the one before it, so edits outside KeyDesk are detected.</p>
        </div>
        {!down && (
        <div className="head-actions">
          <button type="button" className="btn btn-ghost" onClick={() => void doExport()}>
            <IconDownload />
            Export CSV
          </button>
          <button type="button" className="btn btn-secondary" onClick={() => void verify()} aria-disabled={verifying || undefined}>
            <IconShield />
            {verifying ? 'Verifying…' : 'Verify integrity'}
          </button>
          <button type="button" className="btn btn-secondary" onClick={() => void check()} aria-disabled={checking || undefined}>
            <IconShield />
            {checking ? 'Checking…' : 'Check whole store'}
          </button>
        </div>
        )}
      </header>
      <Verdict />
      <StoreVerdict />
      {!down && (
      <div className="toolbar" role="search" aria-label="Filter the audit log">
        <div className="filter">
          <label className="filter-label" htmlFor="audit-action">
            Action
          </label>
          <select id="audit-action" className="input input-sm" value={filter.action} onChange={(e) => setAuditFilter({ action: e.target.value })}>
            <option value="">All actions</option>
            {ACTIONS.map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
          </select>
        </div>
        <div className="filter filter-grow">
          <label className="filter-label" htmlFor="audit-target">
            Target
          </label>
          <input
            id="audit-target"
            type="search"
            className="input input-sm"
            placeholder="Access ID, owner name or file"
            value={target}
            onChange={(e) => setTarget(e.target.value)}
            spellCheck={false}
          />
        </div>
      </div>
      )}
      {down ? (
        <StoreDown what="The audit log" />
      ) : error ? (
        <div className="callout callout-danger" role="alert">
          <IconWarning />
          <div>{error.message}</div>
        </div>
      ) : entries && entries.length === 0 ? (
        <div className="empty" role="status">
          <IconList className="icon empty-icon" />
          <h2>{filtered ? 'No entries match' : 'Nothing has happened yet'}</h2>
          <p>{filtered ? 'Try another action or a shorter target.' : 'Creating, resetting and revoking keys, and changing the policy, are recorded here.'}</p>
        </div>
      ) : (
        <div className="card table-card">
          <table className="data-table audit-table" aria-busy={loading || undefined}>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>{entries?.map((e) => <Row key={e.id} e={e} />)}</tbody>
          </table>
          {hasMore && (
            <div className="table-foot">
              <button type="button" className="btn btn-secondary btn-sm" disabled={loading} onClick={() => void loadOlderAudit()}>
                Load older entries
              </button>
            </div>
          )}
        </div>
      )}
    </div>
  )
}
