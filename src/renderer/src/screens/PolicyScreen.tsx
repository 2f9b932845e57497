/**
 * Policy: seven settings, each explained in one line; a what-if preview of the
 * draft (which existing keys and owners it would catch) shown before saving;
 * and the retention purge.
 */
import { useEffect, useMemo, useState, type FormEvent } from 'react'
import { useShallow } from 'zustand/react/shallow'
import type { Policy, PolicyPreview } from '../../../shared/domain'
import { Field, useFieldIds } from '../components/Field'
import { IconCheck, IconInfo, IconWarning } from '../components/icons'
import { formatCount, formatDate, plural } from '../lib/format'
import { useStore } from '../store'
import { storeDown } from '../store/health'
import { StoreDown } from '../components/StoreDown'

type NumField = 'maxKeyAgeDays' | 'maxKeysPerOwner' | 'defaultExpiryDays' | 'retentionDays' | 'staleAfterDays'
/** reminderDays as typed: comma- or space-separated days, e.g. "30, 7, 1". */
type Draft = Record<NumField, string> & { allowCreation: boolean; reminderDays: string }

const LIMITS: Record<NumField, [number, number]> = {
  maxKeyAgeDays: [1, 3650],
  maxKeysPerOwner: [1, 1_000_000],
  defaultExpiryDays: [1, 3650],
  retentionDays: [0, 36500],
  staleAfterDays: [0, 3650],
}

const FIELD_LABEL: Partial<Record<keyof Policy, string>> = {
  maxKeyAgeDays: 'Maximum key age',
  maxKeysPerOwner: 'Maximum keys per owner',
  defaultExpiryDays: 'Default expiry',
  retentionDays: 'Retention',
}

const SERVER_FIELD: Record<string, keyof Policy> = {
  'max-key-age-days': 'maxKeyAgeDays',
  'max-keys-per-owner': 'maxKeysPerOwner',
  'default-expiry-days': 'defaultExpiryDays',
  'allow-creation': 'allowCreation',
  'retention-days': 'retentionDays',
  'reminder-days': 'reminderDays',
  'stale-after-days': 'staleAfterDays',
}

function toDraft(p: Policy): Draft {
  return {
    maxKeyAgeDays: String(p.maxKeyAgeDays),
    maxKeysPerOwner: String(p.maxKeysPerOwner),
    defaultExpiryDays: String(p.defaultExpiryDays),
    retentionDays: String(p.retentionDays),
    allowCreation: p.allowCreation,
    reminderDays: p.reminderDays.join(', '),
    staleAfterDays: String(p.staleAfterDays),
  }
}

/** "30, 7, 1" → [30, 7, 1]: 1–5 different whole numbers of days from 1 to 365, largest first; null if not. */
function parseReminderDays(raw: string): number[] | null {
  const parts = raw.split(/[\s,]+/).filter(Boolean)
  if (parts.length < 1 || parts.length > 5 || !parts.every((x) => /^\d{1,3}$/.test(x))) return null
  const days = parts.map(Number)
  if (days.some((n) => n < 1 || n > 365) || new Set(days).size !== days.length) return null
  return days.sort((a, b) => b - a)
}

/**
 * Check the draft. `values` is the whole policy when every field is valid; `previewValues`
 * is what the preview can still count when some are not: each valid field as typed,
 * each invalid one as saved (so a conflict at one field never blanks the preview).
 */
function validate(d: Draft, saved: Policy): { errors: Partial<Record<keyof Policy, string>>; values: Policy | null; previewValues: Policy } {
  const errors: Partial<Record<keyof Policy, string>> = {}
  const num = (f: NumField, label: string): number => {
    const raw = d[f].trim()
    const [min, max] = LIMITS[f]
    const n = Number(raw)
    if (raw === '' || !/^\d+$/.test(raw) || !Number.isInteger(n) || n < min || n > max)
      errors[f] = `${label} must be a whole number from ${formatCount(min)} to ${formatCount(max)}.`
    return n
  }
  const values: Policy = {
    ...saved,
    maxKeyAgeDays: num('maxKeyAgeDays', 'Maximum key age'),
    maxKeysPerOwner: num('maxKeysPerOwner', 'Maximum keys per owner'),
    defaultExpiryDays: num('defaultExpiryDays', 'Default expiry'),
    retentionDays: num('retentionDays', 'Retention'),
    allowCreation: d.allowCreation,
    reminderDays: parseReminderDays(d.reminderDays) ?? [],
    staleAfterDays: num('staleAfterDays', 'Stale after'),
  }
  if (values.reminderDays.length === 0) errors.reminderDays = 'Reminders must be 1 to 5 different numbers of days from 1 to 365, e.g. 30, 7, 1.'
  if (!errors.defaultExpiryDays && !errors.maxKeyAgeDays && values.defaultExpiryDays > values.maxKeyAgeDays)
    errors.defaultExpiryDays = `Default expiry (${values.defaultExpiryDays} days) cannot be longer than the maximum key age (${values.maxKeyAgeDays} days).`
  const previewValues: Policy = { ...values }
  for (const f of Object.keys(LIMITS) as NumField[]) if (errors[f]) previewValues[f] = saved[f]
  if (errors.reminderDays) previewValues.reminderDays = saved.reminderDays
  // The preview never counts default expiry; keep it within the age so the store accepts the what-if.
  previewValues.defaultExpiryDays = Math.min(previewValues.defaultExpiryDays, previewValues.maxKeyAgeDays)
  return { errors, values: Object.keys(errors).length ? null : values, previewValues }
}

function changesOf(p: Policy, v: Policy): Partial<Policy> {
  const out: Partial<Policy> = {}
  for (const k of Object.keys(v) as (keyof Policy)[]) if (JSON.stringify(v[k]) !== JSON.stringify(p[k])) (out as Record<string, unknown>)[k] = v[k]
  return out
}

/** Fields whose text differs from the saved policy (valid or not): what Discard undoes. */
function draftChanged(p: Policy, d: Draft): number {
  const saved = toDraft(p)
  return (Object.keys(saved) as (keyof Draft)[]).filter((k) => String(saved[k]).trim() !== String(d[k]).trim()).length
}

function NumberSetting({
  field,
  label,
  hint,
  unit,
  draft,
  setDraft,
  error,
}: {
  field: NumField
  label: string
  hint: string
  unit: string
  draft: Draft
  setDraft(d: Draft): void
  error: string | undefined
}) {
  const ids = useFieldIds(true, error)
  return (
    <Field label={label} ids={ids} hint={hint} error={error} className="setting">
      <div className="input-with-unit">
        <input
          id={ids.id}
          aria-describedby={ids['aria-describedby']}
          aria-invalid={ids['aria-invalid']}
          className="input input-num"
          inputMode="numeric"
          value={draft[field]}
          onChange={(e) => setDraft({ ...draft, [field]: e.target.value })}
        />
        <span className="unit">{unit}</span>
      </div>
    </Field>
  )
}

function ReminderSetting({ draft, setDraft, error }: { draft: Draft; setDraft(d: Draft): void; error: string | undefined }) {
  const ids = useFieldIds(true, error)
  return (
    <Field label="Expiry reminders" ids={ids} hint="Days before expiry at which the app notifies you, e.g. 30, 7, 1 (at most five)." error={error} className="setting">
      <div className="input-with-unit">
        <input
          id={ids.id}
          aria-describedby={ids['aria-describedby']}
          aria-invalid={ids['aria-invalid']}
          className="input input-num"
          inputMode="numeric"
          value={draft.reminderDays}
          onChange={(e) => setDraft({ ...draft, reminderDays: e.target.value })}
        />
        <span className="unit">days before</span>
      </div>
    </Field>
  )
}

function PreviewPanel({
  preview,
  values,
  loading,
  error,
  invalid,
}: {
  preview: PolicyPreview | null
  values: Policy
  loading: boolean
  error: string | null
  /** Labels of fields with errors: the preview counts their saved values meanwhile. */
  invalid: string[]
}) {
  return (
    <section className="card preview" aria-labelledby="preview-title" aria-busy={loading || undefined}>
      <h2 id="preview-title" className="card-title">
        What these values would catch
      </h2>
      <p className="muted small">Counted now against the keys in the store. Nothing changes until you save.</p>
      {error && (
        <div className="callout callout-danger" role="alert">
          <IconWarning />
          <div>{error}</div>
        </div>
      )}
      {invalid.length > 0 && (
        <p className="callout callout-muted small preview-partial">
          <IconInfo />
          <span>
            {invalid.join(' and ')} {invalid.length === 1 ? 'is' : 'are'} not valid yet; the preview counts the saved value{invalid.length === 1 ? '' : 's'} there
            and your other changes as typed.
          </span>
        </p>
      )}
      {preview && (
        <div className="preview-body" role="status" aria-live="polite">
          <div className={`impact-line${preview.keysOverMaxAge ? ' warn' : ''}`}>
            {preview.keysOverMaxAge ? <IconWarning /> : <IconCheck />}
            <div>
              <strong>{plural(preview.keysOverMaxAge, 'active key')}</strong> {preview.keysOverMaxAge === 1 ? 'lives' : 'live'} longer than{' '}
              {plural(values.maxKeyAgeDays, 'day')}.
              <span className="muted"> They keep working until they expire; new keys are held to the limit.</span>
            </div>
          </div>
          {preview.sample.length > 0 && (
            <div className="preview-list">
              <table className="simple-table">
                <caption className="visually-hidden">Keys over the maximum age</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Owner</th>
                    <th scope="col">Created</th>
                    <th scope="col">Expires</th>
                  </tr>
                </thead>
                <tbody>
                  {preview.sample.map((k) => (
                    <tr key={k.accessId}>
                      <td title={`${k.name} (${k.accessId})`} className="break">
                        {k.name}
                      </td>
                      <td>{k.owner}</td>
                      <td>{formatDate(k.createdAt)}</td>
                      <td>{formatDate(k.expiresAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {preview.keysOverMaxAge > preview.sample.length && (
                <p className="muted small">…and {plural(preview.keysOverMaxAge - preview.sample.length, 'more key')}.</p>
              )}
            </div>
          )}
          <div className={`impact-line${preview.ownersOverCap.length ? ' warn' : ''}`}>
            {preview.ownersOverCap.length ? <IconWarning /> : <IconCheck />}
            <div>
              <strong>{plural(preview.ownersOverCap.length, 'owner')}</strong> {preview.ownersOverCap.length === 1 ? 'holds' : 'hold'} more than{' '}
              {plural(values.maxKeysPerOwner, 'key')}.<span className="muted"> They get no new keys until old ones are purged.</span>
            </div>
          </div>
          {preview.ownersOverCap.length > 0 && (
            <ul className="owner-caps">
              {preview.ownersOverCap.map((o) => (
                <li key={o.owner}>
                  <span className="break">{o.owner}</span>
                  <span className="num">{plural(o.keys, 'key')}</span>
                </li>
              ))}
            </ul>
          )}
          <div className="impact-line">
            <IconInfo />
            <div>
              <strong>{plural(preview.keysPurgeable, 'revoked or expired key')}</strong> would be deleted by a purge with a retention of{' '}
              {plural(values.retentionDays, 'day')}.
            </div>
          </div>
          {!values.allowCreation && (
            <div className="impact-line warn">
              <IconWarning />
              <div>
                <strong>Nobody can create keys</strong> while creation is off. Resets and revokes still work.
              </div>
            </div>
          )}
        </div>
      )}
      {!preview && !error && <p className="muted">Counting…</p>}
    </section>
  )
}

function PurgeCard() {
  const { policy, openDialog, previewPolicy, auditSeq } = useStore(
    useShallow((s) => ({ policy: s.policy, openDialog: s.openDialog, previewPolicy: s.previewPolicy, auditSeq: s.summary?.all ?? -1 })),
  )
  const [count, setCount] = useState<number | null>(null)
  useEffect(() => {
    let live = true
    void previewPolicy({}).then((r) => live && r.ok && setCount(r.value.keysPurgeable))
    return () => {
      live = false
    }
  }, [previewPolicy, policy, auditSeq])
  if (!policy) return null
  return (
    <section className="card purge" aria-labelledby="purge-title">
      <div>
        <h2 id="purge-title" className="card-title">
          Purge old keys
        </h2>
        <p>
          Deletes keys revoked or expired more than {plural(policy.retentionDays, 'day')} ago (the saved retention), giving their owners the slots back. The
          audit log keeps every entry.{' '}
          {count !== null && <strong>{count === 0 ? 'Nothing to purge now.' : `${plural(count, 'key')} can be purged now.`}</strong>}
        </p>
      </div>
      <button
        type="button"
        className="btn btn-danger-outline"
        disabled={!count}
        onClick={() => count && openDialog({ type: 'purge', count, retentionDays: policy.retentionDays })}
      >
        Purge old keys
      </button>
    </section>
  )
}

export function PolicyScreen() {
  const { policy, policyError, down, loadPolicy, previewPolicy, savePolicy, notify } = useStore(
    useShallow((s) => ({
      down: storeDown(s.health, s.healthError),
      policy: s.policy,
      policyError: s.policyError,
      loadPolicy: s.loadPolicy,
      previewPolicy: s.previewPolicy,
      savePolicy: s.savePolicy,
      notify: s.notify,
    })),
  )
  useEffect(() => {
    void loadPolicy()
  }, [loadPolicy])
  const [draft, setDraft] = useState<Draft | null>(null)
  useEffect(() => {
    if (policy) setDraft(toDraft(policy))
  }, [policy])

  const d = draft ?? (policy ? toDraft(policy) : null)
  const checked = useMemo(() => (d && policy ? validate(d, policy) : null), [d, policy])
  const errors: Partial<Record<keyof Policy, string>> = checked?.errors ?? {}
  const values = checked?.values ?? null
  const previewValues = checked?.previewValues ?? null
  const [server, setServer] = useState<Partial<Record<keyof Policy, string>>>({})
  const [preview, setPreview] = useState<{ key: string; value: PolicyPreview } | null>(null)
  const [previewError, setPreviewError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const valuesKey = previewValues ? JSON.stringify(previewValues) : ''
  const changes = policy && values ? changesOf(policy, values) : {}
  const edited = policy && d ? draftChanged(policy, d) : 0
  const changed = Object.keys(changes).length > 0

  useEffect(() => {
    if (!previewValues) return
    let live = true
    const t = setTimeout(() => {
      void previewPolicy(previewValues).then((r) => {
        if (!live) return
        if (r.ok) {
          setPreview({ key: valuesKey, value: r.value })
          setPreviewError(null)
          setServer({})
        } else {
          const f = r.error.field ? (SERVER_FIELD[r.error.field] ?? (r.error.field as keyof Policy)) : undefined
          if (f && f in LIMITS) setServer({ [f]: r.error.message })
          else setPreviewError(r.error.message)
        }
      })
    }, 200)
    return () => {
      live = false
      clearTimeout(t)
    }
  }, [valuesKey]) // eslint-disable-line react-hooks/exhaustive-deps

  if (!d || !previewValues) {
    return (
      <div className="screen">
        <header className="screen-head">
          <h1 tabIndex={-1} data-screen-heading>
            Policy
          </h1>
        </header>
        {down ? (
          <StoreDown what="The policy" />
        ) : policyError ? (
          <div className="callout callout-danger" role="alert">
            <IconWarning />
            <div>{policyError.message}</div>
          </div>
        ) : (
          <p className="muted">Loading…</p>
        )}
      </div>
    )
  }

  const fieldErr = (f: keyof Policy) => errors[f] ?? server[f]
  const previewCurrent = preview !== null && preview.key === valuesKey
  const save = async (e: FormEvent) => {
    e.preventDefault()
    if (!values || !changed || !previewCurrent) return
    setBusy(true)
    const r = await savePolicy(changes)
    setBusy(false)
    if (r.ok) notify('success', 'Policy saved. New keys follow it from now on.')
    else {
      const f = r.error.field ? (SERVER_FIELD[r.error.field] ?? (r.error.field as keyof Policy)) : undefined
      if (f && f in LIMITS) setServer({ [f]: r.error.message })
      else notify('error', r.error.message)
    }
  }

  return (
    <div className="screen">
      <header className="screen-head">
        <div>
          <h1 tabIndex={-1} data-screen-heading>
            Policy
          </h1>
          <p className="subtitle">Rules every new key must follow. Preview what a change would catch before you save it.</p>
        </div>
      </header>
      <form className="policy-grid" onSubmit={(e) => void save(e)} noValidate>
        <section className="card settings" aria-labelledby="settings-title">
          <h2 id="settings-title" className="card-title">
            Settings
          </h2>
          <NumberSetting
            field="maxKeyAgeDays"
            label="Maximum key age"
            unit="days"
            hint="No new key may be valid for longer than this; it caps the expiry you can pick."
            draft={d}
            setDraft={setDraft}
            error={fieldErr('maxKeyAgeDays')}
          />
          <NumberSetting
            field="maxKeysPerOwner"
            label="Maximum keys per owner"
            unit="keys"
            hint="Counts active, expired and revoked keys; purging old keys frees slots."
            draft={d}
            setDraft={setDraft}
            error={fieldErr('maxKeysPerOwner')}
          />
          <NumberSetting
            field="defaultExpiryDays"
            label="Default expiry"
            unit="days"
            hint="Preselected when creating a key; at most the maximum key age."
            draft={d}
            setDraft={setDraft}
            error={fieldErr('defaultExpiryDays')}
          />
          <NumberSetting
            field="retentionDays"
            label="Retention"
            unit="days"
            hint="How long revoked and expired keys are kept before Purge may delete them."
            draft={d}
            setDraft={setDraft}
            error={fieldErr('retentionDays')}
          />
          <ReminderSetting draft={d} setDraft={setDraft} error={fieldErr('reminderDays')} />
          <NumberSetting
            field="staleAfterDays"
            label="Flag keys unused for"
            unit="days"
            hint="Active keys not used for this long (never used counts from creation) are flagged and listed under Needs attention; 0 turns it off."
            draft={d}
            setDraft={setDraft}
            error={fieldErr('staleAfterDays')}
          />
          <div className="field setting">
            <label className="check">
              <input type="checkbox" checked={d.allowCreation} onChange={(e) => setDraft({ ...d, allowCreation: e.target.checked })} aria-describedby="allow-hint" />
              <span className="field-label">Allow key creation</span>
            </label>
            <p className="field-hint" id="allow-hint">
              Turn off to stop anyone issuing new keys; resets and revokes keep working.
            </p>
          </div>
        </section>
        <PreviewPanel
          preview={previewCurrent ? preview.value : preview?.value ?? null}
          values={previewValues}
          loading={!previewCurrent}
          error={previewError}
          invalid={(Object.keys(errors) as (keyof Policy)[]).map((f) => FIELD_LABEL[f] ?? f)}
        />
        <div className="save-bar">
          <p className="muted small" aria-live="polite">
            {edited === 0
              ? 'No changes.'
              : !values
                ? `${plural(edited, 'setting')} changed — fix the highlighted ${Object.keys(errors).length === 1 ? 'value' : 'values'} before saving, or discard.`
                : `${plural(Object.keys(changes).length, 'setting')} changed — review the preview, then save.`}
          </p>
          <button type="button" className="btn btn-ghost" disabled={edited === 0 || busy} onClick={() => policy && (setDraft(toDraft(policy)), setServer({}))}>
            Discard changes
          </button>
          <button type="submit" className="btn btn-primary" disabled={!changed || !values || !previewCurrent || busy}>
            Save policy
          </button>
        </div>
      </form>
      <PurgeCard />
    </div>
  )
}
