/** Reset and revoke confirmations, with the impact shown before anything happens. */
import { useEffect, useState, type FormEvent } from 'react'
import type { OneTimeSecret } from '../../../shared/contract'
import type { KeyView } from '../../../shared/domain'
import { formatDateTime, plural, relativeTime } from '../lib/format'
import { reasonError } from '../lib/validate'
import { useStore } from '../store'
import { hasFilters, type KeyFilters } from '../store/keys'
import type { SelectedKey } from '../store/selection'
import { Field, useFieldIds } from './Field'
import { Modal } from './Modal'
import { ConfirmNameField } from './ConfirmNameField'
import { ErrorCallout, Foot } from './DialogParts'

export const GRACE_OPTIONS = [
  { value: '', label: 'None — it stops working at once' },
  { value: '1h', label: '1 hour' },
  { value: '24h', label: '24 hours' },
  { value: '7d', label: '7 days' },
] as const

export interface ResetOutcome {
  graceUntil: string | null
}

export function ResetKeyDialog({
  keyView: k,
  onReset,
  onCancel,
}: {
  keyView: KeyView
  onReset(secret: OneTimeSecret, outcome: ResetOutcome): void
  onCancel(): void
}) {
  const resetKey = useStore((s) => s.resetKey)
  const [typed, setTyped] = useState('')
  const [grace, setGrace] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [fieldError, setFieldError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const matches = typed === k.name
  const near = !matches && typed.trim().toLowerCase().replace(/\s+/g, ' ') === k.name.toLowerCase().replace(/\s+/g, ' ') && typed !== ''
  const graceIds = useFieldIds(true, null)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!matches || busy) return
    setBusy(true)
    setError(null)
    const r = await resetKey({ accessId: k.accessId, confirm: typed, ...(grace ? { grace } : {}) })
    setBusy(false)
    if (!r.ok) {
      if (r.error.field === 'confirm') setFieldError(r.error.message)
      else setError(r.error.message)
      return
    }
    const hours = grace === '1h' ? 1 : grace === '24h' ? 24 : grace === '7d' ? 168 : 0
    const until = hours ? new Date(Math.min(Date.now() + hours * 3_600_000, new Date(k.expiresAt).getTime())).toISOString() : null
    onReset(r.value, { graceUntil: until })
  }

  return (
    <Modal title="Reset access key" onClose={onCancel} tone="danger">
      <form onSubmit={(e) => void submit(e)} className="form" noValidate>
        <div className="modal-body">
          <p className="lead">
            A new access key is issued for this key and shown once. Anything still using the current access key must be given the new one.
          </p>
          <Impact k={k} />
          <ErrorCallout text={error} />
          <Field
            label="Old access key keeps working for"
            ids={graceIds}
            hint="A grace period lets services switch over; never longer than the key's own expiry."
          >
            <select id={graceIds.id} aria-describedby={graceIds['aria-describedby']} className="input" value={grace} onChange={(e) => setGrace(e.target.value)}>
              {GRACE_OPTIONS.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </Field>
          <ConfirmNameField
            label="Type the key name to confirm"
            target={k.name}
            value={typed}
            error={fieldError}
            onChange={(v) => {
              setTyped(v)
              setFieldError(null)
            }}
          />
          {near && <p className="field-note">Almost: capitals and spaces must match the name exactly.</p>}
        </div>
        <Foot onCancel={onCancel}>
          <button type="submit" className="btn btn-danger" disabled={!matches || busy}>
            Reset access key
          </button>
        </Foot>
      </form>
    </Modal>
  )
}

function Impact({ k }: { k: KeyView }) {
  return (
    <dl className="impact">
      <div>
        <dt>Key</dt>
        <dd className="break">{k.name}</dd>
      </div>
      <div>
        <dt>Access ID</dt>
        <dd className="mono">{k.accessId}</dd>
      </div>
      <div>
        <dt>Owner</dt>
        <dd>
          {k.owner} <span className="muted">({k.ownerKind === 'service' ? 'service account' : 'user'})</span>
        </dd>
      </div>
      <div>
        <dt>Scopes</dt>
        <dd>{k.scopes.length ? <Scopes scopes={k.scopes} /> : <span className="muted">None</span>}</dd>
      </div>
      <div>
        <dt>Last used</dt>
        <dd>{k.lastUsedAt ? `${relativeTime(k.lastUsedAt)} (${formatDateTime(k.lastUsedAt)})` : <span className="muted">Never</span>}</dd>
      </div>
      <div>
        <dt>Expires</dt>
        <dd>{`${formatDateTime(k.expiresAt)} (${relativeTime(k.expiresAt)})`}</dd>
      </div>
    </dl>
  )
}

export function Scopes({ scopes }: { scopes: string[] }) {
  return (
    <span className="chips">
      {scopes.map((s) => (
        <code key={s} className="chip">
          {s}
        </code>
      ))}
    </span>
  )
}

function ReasonField({ reason, setReason, error }: { reason: string; setReason(v: string): void; error: string | null }) {
  const ids = useFieldIds(true, error)
  return (
    <Field label="Reason" ids={ids} error={error} optional hint="Recorded in the audit log, e.g. “leaked in a build log” or “service retired”.">
      <input
        id={ids.id}
        aria-describedby={ids['aria-describedby']}
        aria-invalid={ids['aria-invalid']}
        className="input"
        value={reason}
        maxLength={1000}
        onChange={(e) => setReason(e.target.value)}
      />
    </Field>
  )
}

const SHOW_NAMES = 50

/** The names a revoke confirmation lists, with how many more it does not. */
function KeyNames({ keys, total }: { keys: SelectedKey[]; total: number }) {
  return (
    <>
      <ul>
        {keys.map((k) => (
          <li key={k.accessId}>
            <span className="break">{k.name}</span>
            <span className="muted small">
              {k.owner} · <span className="mono">{k.accessId}</span>
            </span>
          </li>
        ))}
      </ul>
      {total > keys.length && <p className="muted small">…and {plural(total - keys.length, 'more key')}.</p>}
    </>
  )
}

/** Revoke one key or an explicit selection. */
export function RevokeDialog({ keys, onCancel, onDone }: { keys: SelectedKey[]; onCancel(): void; onDone(n: number): void }) {
  const revokeKeys = useStore((s) => s.revokeKeys)
  const activeKey = useStore((s) => s.activeKey)
  const [reason, setReason] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const one = keys.length === 1 ? keys[0]! : null
  const title = one ? `Revoke “${one.name}”?` : `Revoke ${plural(keys.length, 'key')}?`
  const reasonErr = reasonError(reason)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (busy || reasonErr) return
    setBusy(true)
    setError(null)
    const r = await revokeKeys(
      keys.map((k) => k.accessId),
      reason,
    )
    setBusy(false)
    if (!r.ok) return setError(r.error.message)
    onDone(r.value.revoked)
  }

  const detail = one && activeKey?.accessId === one.accessId ? activeKey : null
  return (
    <Modal title={title} onClose={onCancel} tone="danger">
      <form onSubmit={(e) => void submit(e)} className="form" noValidate>
        <div className="modal-body">
          <p className="lead">
            {one ? 'This key' : 'These keys'} stop{one ? 's' : ''} working at once, for every service that presents {one ? 'it' : 'them'}. This cannot be
            undone: to restore access, create a new key.
          </p>
          {detail ? (
            <Impact k={detail} />
          ) : (
            <div className="name-list" role="group" aria-label="Keys to revoke">
              <KeyNames keys={keys.slice(0, SHOW_NAMES)} total={keys.length} />
            </div>
          )}
          <ErrorCallout text={error} />
          <ReasonField reason={reason} setReason={setReason} error={reasonErr} />
        </div>
        <Foot onCancel={onCancel} focusCancel>
          <button type="submit" className="btn btn-danger" disabled={busy || reasonErr !== null}>
            Revoke
          </button>
        </Foot>
      </form>
    </Modal>
  )
}

/** "key matching “x”, owned by y" — the filters in words, after "Every". */
export function describeFilters(f: KeyFilters): string {
  if (!hasFilters(f)) return 'key'
  const parts: string[] = []
  if (f.search.trim()) parts.push(`matching “${f.search.trim()}”`)
  if (f.status !== 'all') parts.push(`with status ${f.status}`)
  if (f.owner) parts.push(`owned by ${f.owner}`)
  if (f.scope.trim()) parts.push(`with scope ${f.scope.trim()}`)
  if (f.expiringSoon) parts.push('expiring within 7 days')
  if (typeof f.unusedForDays === 'number') parts.push(`unused for ${f.unusedForDays} days or more`)
  return `key ${parts.join(', ')}`
}

/** "Select all" on the filtered view: revoke every key the filters match, if the count still holds. */
export function RevokeMatchingDialog({ count, onCancel, onDone }: { count: number; onCancel(): void; onDone(n: number): void }) {
  const revokeMatching = useStore((s) => s.revokeMatching)
  const sampleMatching = useStore((s) => s.sampleMatching)
  const filters = useStore((s) => s.filters)
  const [sample, setSample] = useState<SelectedKey[] | null>(null)
  const [reason, setReason] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const reasonErr = reasonError(reason)
  useEffect(() => {
    let live = true
    void sampleMatching(SHOW_NAMES).then((r) => live && setSample(r?.names ?? []))
    return () => {
      live = false
    }
  }, [sampleMatching])

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (busy || reasonErr) return
    setBusy(true)
    setError(null)
    const r = await revokeMatching(count, reason)
    setBusy(false)
    if (!r.ok) return setError(r.error.message)
    onDone(r.value.revoked)
  }

  return (
    <Modal title={`Revoke ${plural(count, 'key')}?`} onClose={onCancel} tone="danger">
      <form onSubmit={(e) => void submit(e)} className="form" noValidate>
        <div className="modal-body">
          <p className="lead">
            Every {describeFilters(filters)} that is not already revoked — <strong>{plural(count, 'key')}</strong> — stops working at once. This cannot be
            undone. If the count has changed by the time you confirm, nothing is revoked.
          </p>
          <div className="name-list" role="group" aria-label="Keys to revoke">
            {sample === null ? (
              <p className="muted small">Loading names…</p>
            ) : (
              <KeyNames keys={sample} total={count} />
            )}
          </div>
          <ErrorCallout text={error} />
          <ReasonField reason={reason} setReason={setReason} error={reasonErr} />
        </div>
        <Foot onCancel={onCancel} focusCancel>
          <button type="submit" className="btn btn-danger" disabled={busy || reasonErr !== null}>
            Revoke
          </button>
        </Foot>
      </form>
    </Modal>
  )
}
