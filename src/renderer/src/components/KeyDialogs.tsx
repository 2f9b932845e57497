/** Reset and revoke confirmations, with the impact shown before anything happens. */
import { useEffect, useState, type FormEvent } from 'react'
import type { OneTimeSecret } from '../../../shared/contract'
import type { KeyView } from '../../../shared/domain'
import { formatCount, formatDateTime, plural, relativeTime } from '../lib/format'
import { reasonError } from '../lib/validate'
import { useStore } from '../store'
import { hasFilters, type KeyFilters } from '../store/keys'
import type { SelectedKey } from '../store/selection'
import { Field, useFieldIds } from './Field'
import { Modal } from './Modal'
import { ConfirmNameField } from './ConfirmNameField'
import { ErrorCallout, Foot } from './DialogParts'
import { IconWarning } from './icons'

export const GRACE_OPTIONS = [
  { value: '', label: 'None — it stops working at once' },
  { value: '1h', label: '1 hour' },
  { value: '24h', label: '24 hours' },
  { value: '7d', label: '7 days' },
] as const

export interface ResetOutcome {
  graceUntil: string | null
}

const RECENT_USE_MS = 7 * 86_400_000

/** The grace a reset offers first: 24 hours for a key used in the last 7 days (something still presents it), none for an unused one. */
export function defaultGrace(k: Pick<KeyView, 'lastUsedAt'>, now = Date.now()): '' | '24h' {
  return k.lastUsedAt && now - new Date(k.lastUsedAt).getTime() <= RECENT_USE_MS ? '24h' : ''
}

/** Previous secrets still in grace, as the dialog shows them (the single-slot view of older stores included). */
function previousInGrace(k: KeyView): { graceUntil: string; lastUsedAt: string | null }[] {
  if (k.previousSecrets.length) return k.previousSecrets
  return k.graceUntil ? [{ graceUntil: k.graceUntil, lastUsedAt: null }] : []
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
  const [grace, setGrace] = useState<string>(() => defaultGrace(k))
  const previous = previousInGrace(k)
  const [keepPrevious, setKeepPrevious] = useState<'keep' | 'end' | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [fieldError, setFieldError] = useState<string | null>(null)
  const [previousError, setPreviousError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const matches = typed === k.name
  const graceIds = useFieldIds(true, null)
  const prevIds = useFieldIds(true, previousError)
  const recent = defaultGrace(k) === '24h'
  // Two previous secrets in grace and a new grace: there is no slot to keep both.
  const keepImpossible = previous.length >= 2 && grace !== ''

  const wrongName = () =>
    setFieldError(typed === '' ? `Type the key's name, “${k.name}”, to reset it.` : `That is not the key's name exactly; type “${k.name}” (capitals and spaces count).`)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (busy) return
    if (previous.length > 0 && (keepPrevious === null || (keepPrevious === 'keep' && keepImpossible))) {
      setPreviousError(keepPrevious === null ? 'Choose what happens to the previous access key first.' : 'Both previous keys are still in grace: end them now, or reset with no grace period.')
      document.getElementById(prevIds.id)?.querySelector<HTMLInputElement>('input:not([disabled])')?.focus()
      if (!matches) wrongName()
      return
    }
    if (!matches) return wrongName()
    setBusy(true)
    setError(null)
    const r = await resetKey({ accessId: k.accessId, confirm: typed, ...(grace ? { grace } : {}), ...(previous.length > 0 && keepPrevious ? { previous: keepPrevious } : {}) })
    setBusy(false)
    if (!r.ok) {
      if (r.error.field === 'confirm') setFieldError(r.error.message)
      else if (r.error.field === 'previous') setPreviousError(r.error.message)
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
            hint={
              recent
                ? `Used ${relativeTime(k.lastUsedAt)}, so 24 hours is chosen: services can switch over. Never longer than the key's own expiry.`
                : "Not used in the last 7 days, so none is chosen. A grace period lets services switch over; never longer than the key's own expiry."
            }
          >
            <select
              id={graceIds.id}
              aria-describedby={graceIds['aria-describedby']}
              className="input"
              value={grace}
              data-autofocus
              onChange={(e) => {
                setGrace(e.target.value)
                setPreviousError(null)
              }}
            >
              {GRACE_OPTIONS.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </Field>
          {grace === '' && recent && (
            <p className="callout callout-warning small">
              <IconWarning />
              <span>
                This key was used {relativeTime(k.lastUsedAt)}. With no grace period, whatever uses it stops working the moment you reset.
              </span>
            </p>
          )}
          {previous.length > 0 && (
            <fieldset
              className={`field choice-group${previousError ? ' field-invalid' : ''}`}
              id={prevIds.id}
              aria-describedby={prevIds['aria-describedby']}
              aria-invalid={prevIds['aria-invalid']}
            >
              <legend className="field-label">{previous.length === 1 ? 'The previous access key is still in its grace period' : 'Two previous access keys are still in their grace period'}</legend>
              <ul className="previous-list">
                {previous.map((p, i) => (
                  <li key={p.graceUntil + i}>
                    Works until <strong>{formatDateTime(p.graceUntil)}</strong> ({relativeTime(p.graceUntil)}) ·{' '}
                    {p.lastUsedAt ? `last used ${relativeTime(p.lastUsedAt)}` : 'no use recorded since the reset'}
                  </li>
                ))}
              </ul>
              <label className="radio">
                <input
                  type="radio"
                  name="previous"
                  value="keep"
                  checked={keepPrevious === 'keep'}
                  disabled={keepImpossible}
                  onChange={() => {
                    setKeepPrevious('keep')
                    setPreviousError(null)
                  }}
                />
                <span>{previous.length === 1 ? 'Keep it working until then' : 'Keep them working until then'}</span>
              </label>
              <label className="radio">
                <input
                  type="radio"
                  name="previous"
                  value="end"
                  checked={keepPrevious === 'end'}
                  onChange={() => {
                    setKeepPrevious('end')
                    setPreviousError(null)
                  }}
                />
                <span>{previous.length === 1 ? 'End it now' : 'End them now'}</span>
              </label>
              {previousError && (
                <p className="field-error" id={prevIds.errorId}>
                  <IconWarning />
                  <span>{previousError}</span>
                </p>
              )}
              <p className="field-hint" id={prevIds.hintId}>
                {keepImpossible
                  ? 'A key keeps at most two previous access keys: with a new grace period, both must end now (or choose no grace period to keep them).'
                  : 'Nothing is replaced silently: choose whether what still uses the previous key keeps working.'}
              </p>
            </fieldset>
          )}
          <ConfirmNameField
            label="Type the key name to confirm"
            target={k.name}
            value={typed}
            error={fieldError}
            autoFocus={false}
            onEnter={() => {
              if (!matches) wrongName()
            }}
            onChange={(v) => {
              setTyped(v)
              setFieldError(null)
            }}
          />
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

const STATUS_WORD: Record<string, string> = { active: 'active', disabled: 'disabled', expired: 'expired', revoked: 'revoked' }

/** The names a revoke confirmation lists, with status and last use, and how many more it does not show. */
function KeyNames({ keys, total }: { keys: SelectedKey[]; total: number }) {
  return (
    <>
      <ul>
        {keys.map((k) => (
          <li key={k.accessId}>
            <span className="break">{k.name}</span>
            <span className="muted small">
              {k.owner} · <span className="mono nobreak">{k.accessId}</span>
              {k.status && k.status !== 'active' ? ` · ${STATUS_WORD[k.status]}` : ''}
              {k.lastUsedAt !== undefined ? ` · ${k.lastUsedAt ? `used ${relativeTime(k.lastUsedAt)}` : 'never used'}` : ''}
            </span>
          </li>
        ))}
      </ul>
      {total > keys.length && <p className="muted small">…and {plural(total - keys.length, 'more key')}.</p>}
    </>
  )
}

export interface RevokeSplit {
  active: number
  disabled: number
  expired: number
}

function splitOf(keys: SelectedKey[]): RevokeSplit {
  const s = { active: 0, disabled: 0, expired: 0 }
  for (const k of keys) {
    if (k.status === 'expired') s.expired++
    else if (k.status === 'disabled') s.disabled++
    else s.active++
  }
  return s
}

/** What revoking does, said only of the keys it is true of. */
function Consequence({ split, one }: { split: RevokeSplit; one: boolean }) {
  const parts: string[] = []
  if (split.active > 0)
    parts.push(
      one
        ? 'This key stops working at once, for every service that presents it.'
        : `${split.active === 1 ? 'The 1 active key stops' : `The ${formatCount(split.active)} active keys stop`} working at once, for every service that presents them.`,
    )
  if (split.disabled > 0)
    parts.push(one ? 'This key is disabled; once revoked it can never be enabled again.' : `${plural(split.disabled, 'disabled key')} can never be enabled again.`)
  if (split.expired > 0)
    parts.push(one ? 'This key has expired and no longer works; revoking makes that final.' : `${plural(split.expired, 'expired key')} no longer ${split.expired === 1 ? 'works' : 'work'}; revoking makes it final.`)
  return (
    <p className="lead">
      {parts.join(' ')} This cannot be undone: to restore access, create a new key.
    </p>
  )
}

function SplitSummary({ split, revoked }: { split: RevokeSplit; revoked?: number }) {
  return (
    <dl className="split" aria-label="Keys by status">
      <div>
        <dt>Active</dt>
        <dd>{formatCount(split.active)}</dd>
      </div>
      <div>
        <dt>Disabled</dt>
        <dd>{formatCount(split.disabled)}</dd>
      </div>
      <div>
        <dt>Expired</dt>
        <dd>{formatCount(split.expired)}</dd>
      </div>
      {revoked !== undefined && (
        <div>
          <dt>Already revoked</dt>
          <dd>
            {formatCount(revoked)} <span className="muted small">(left as they are)</span>
          </dd>
        </div>
      )}
    </dl>
  )
}

/** Revoking more than one active key: the admin types how many keys will be revoked. */
function CountField({ count, value, setValue, error, onEnter }: { count: number; value: string; setValue(v: string): void; error: string | null; onEnter(): void }) {
  const ids = useFieldIds(true, error)
  return (
    <Field label="Type the number of keys to confirm" ids={ids} error={error} hint={<>Type <code className="confirm-target">{count}</code>: more than one key that works now is about to stop.</>}>
      <input
        id={ids.id}
        aria-describedby={ids['aria-describedby']}
        aria-invalid={ids['aria-invalid']}
        className="input input-num mono-input"
        inputMode="numeric"
        autoComplete="off"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && value.trim() !== String(count)) {
            e.preventDefault()
            onEnter()
          }
        }}
      />
    </Field>
  )
}

function useCountConfirm(count: number, needed: boolean) {
  const [typed, setTyped] = useState('')
  const [error, setError] = useState<string | null>(null)
  const ok = !needed || typed.trim() === String(count)
  return {
    ok,
    field: needed ? (
      <CountField
        count={count}
        value={typed}
        error={error}
        setValue={(v) => {
          setTyped(v)
          setError(null)
        }}
        onEnter={() => setError(`Type ${count}, the number of keys that will be revoked.`)}
      />
    ) : null,
    complain: () => setError(`Type ${count}, the number of keys that will be revoked.`),
  }
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
  const detail = one && activeKey?.accessId === one.accessId ? activeKey : null
  const split = splitOf(detail ? [{ ...one!, status: detail.status }] : keys)
  const confirm = useCountConfirm(keys.length, split.active > 1)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (busy || reasonErr) return
    if (!confirm.ok) return confirm.complain()
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

  return (
    <Modal title={title} onClose={onCancel} tone="danger">
      <form onSubmit={(e) => void submit(e)} className="form" noValidate>
        <div className="modal-body">
          <Consequence split={split} one={one !== null} />
          {detail ? (
            <Impact k={detail} />
          ) : (
            <>
              {!one && <SplitSummary split={split} />}
              <div className="name-list" role="group" aria-label="Keys to revoke" tabIndex={0}>
                <KeyNames keys={keys.slice(0, SHOW_NAMES)} total={keys.length} />
              </div>
            </>
          )}
          <ErrorCallout text={error} />
          {confirm.field}
          <ReasonField reason={reason} setReason={setReason} error={reasonErr} />
        </div>
        <Foot onCancel={onCancel} focusCancel>
          <button type="submit" className="btn btn-danger" disabled={busy || reasonErr !== null || !confirm.ok}>
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
  const splitMatching = useStore((s) => s.splitMatching)
  const [sample, setSample] = useState<SelectedKey[] | null>(null)
  const [split, setSplit] = useState<RevokeSplit | null>(null)
  const [reason, setReason] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const reasonErr = reasonError(reason)
  useEffect(() => {
    let live = true
    void sampleMatching(SHOW_NAMES).then((r) => live && setSample(r?.names ?? []))
    void splitMatching().then((r) => live && setSplit(r))
    return () => {
      live = false
    }
  }, [sampleMatching, splitMatching])
  // Until the split is counted, assume every key works now (the stricter confirmation).
  const confirm = useCountConfirm(count, split === null ? count > 1 : split.active > 1)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (busy || reasonErr) return
    if (!confirm.ok) return confirm.complain()
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
            Every {describeFilters(filters)} that is not already revoked: <strong>{plural(count, 'key')}</strong>. If the count has changed by the time you
            confirm, nothing is revoked.
          </p>
          {split ? <Consequence split={split} one={count === 1} /> : <p className="muted small">Counting which of them work now…</p>}
          {split && <SplitSummary split={split} />}
          <div className="name-list" role="group" aria-label="Keys to revoke" tabIndex={0}>
            {sample === null ? (
              <p className="muted small">Loading names…</p>
            ) : (
              <KeyNames keys={sample} total={count} />
            )}
          </div>
          <ErrorCallout text={error} />
          {confirm.field}
          <ReasonField reason={reason} setReason={setReason} error={reasonErr} />
        </div>
        <Foot onCancel={onCancel} focusCancel>
          <button type="submit" className="btn btn-danger" disabled={busy || reasonErr !== null || !confirm.ok}>
            Revoke
          </button>
        </Foot>
      </form>
    </Modal>
  )
}
