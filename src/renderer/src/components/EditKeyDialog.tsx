/**
 * Edit a key after it was issued: name, description, scopes, expiry (within the
 * policy's maximum age counted from the key's creation). The secret is never
 * touched; the store audits each changed field with its old and new value.
 */
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react'
import type { BridgeError } from '../../../shared/contract'
import { DEFAULT_POLICY, type KeyView } from '../../../shared/domain'
import { DAY_MS, endOfLocalDayIso, formatDate, formatDateTime, localDate } from '../lib/format'
import { descriptionError, nameError, scopesError, splitScopes } from '../lib/validate'
import { useStore } from '../store'
import type { KeyUpdate } from '../store/keys'
import { ErrorCallout, Foot } from './DialogParts'
import { Field, useFieldIds } from './Field'
import { DescriptionField, ScopesField, useDiscardGuard } from './KeyForm'
import { Modal } from './Modal'

type FieldName = 'name' | 'description' | 'scopes' | 'expiresIn' | 'expiresAt'
const FIELDS: FieldName[] = ['name', 'expiresIn', 'expiresAt', 'scopes', 'description']
const KEEP = ''
const CUSTOM = 'custom'
const PRESET_DAYS = [7, 30, 90, 180, 365]

function fieldOf(e: BridgeError): FieldName | null {
  return FIELDS.includes(e.field as FieldName) ? (e.field as FieldName) : null
}

export function EditKeyDialog({ keyView: k, onSaved, onCancel }: { keyView: KeyView; onSaved(k: KeyView, changed: number): void; onCancel(): void }) {
  const policy = useStore((s) => s.policy) ?? DEFAULT_POLICY
  const updateKey = useStore((s) => s.updateKey)
  const loadPolicy = useStore((s) => s.loadPolicy)
  useEffect(() => {
    void loadPolicy()
  }, [loadPolicy])

  const [name, setName] = useState(k.name)
  const [description, setDescription] = useState(k.description)
  const [scopes, setScopes] = useState(k.scopes.join(' '))
  const [expiry, setExpiry] = useState(KEEP)
  const [date, setDate] = useState('')
  const [server, setServer] = useState<Partial<Record<FieldName, string>>>({})
  const [formError, setFormError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const refs = {
    name: useRef<HTMLInputElement>(null),
    description: useRef<HTMLTextAreaElement>(null),
    scopes: useRef<HTMLInputElement>(null),
    expiresIn: useRef<HTMLSelectElement>(null),
    expiresAt: useRef<HTMLInputElement>(null),
  }

  const now = useMemo(() => Date.now(), [])
  const latest = new Date(k.createdAt).getTime() + policy.maxKeyAgeDays * DAY_MS
  const presets = PRESET_DAYS.filter((d) => now + d * DAY_MS <= latest)
  const bounds = { min: localDate(now + DAY_MS), max: localDate(latest - DAY_MS) }

  const changes: KeyUpdate = { accessId: k.accessId }
  if (name.trim() !== k.name) changes.name = name.trim()
  if (description.trim() !== k.description) changes.description = description.trim()
  const sc = splitScopes(scopes)
  if (sc.join(' ') !== k.scopes.join(' ')) changes.scopes = sc
  if (expiry === CUSTOM && date) changes.expiresAt = endOfLocalDayIso(date)
  else if (expiry !== KEEP && expiry !== CUSTOM) changes.expiresIn = expiry
  const changed = Object.keys(changes).length - 1

  const dateError = (): string | null => {
    if (expiry !== CUSTOM) return null
    if (date === '') return 'Choose an expiration date.'
    if (date < bounds.min) return `Expiration date must be ${formatDate(bounds.min + 'T12:00:00')} or later.`
    if (date > bounds.max)
      return `Expiration date is past the policy's maximum key age of ${policy.maxKeyAgeDays} days from the key's creation: the latest allowed is ${formatDate(bounds.max + 'T12:00:00')}.`
    return null
  }
  const local: Partial<Record<FieldName, string | null>> = {
    name: nameError(name, 'Name', false),
    description: descriptionError(description),
    scopes: scopesError(scopes),
    expiresAt: date !== '' ? dateError() : null,
  }
  const errors: Partial<Record<FieldName, string | null>> = {}
  for (const f of FIELDS) errors[f] = local[f] ?? server[f] ?? null
  const ids = {
    name: useFieldIds(true, errors.name),
    description: useFieldIds(true, errors.description),
    scopes: useFieldIds(true, errors.scopes),
    expiresIn: useFieldIds(true, errors.expiresIn),
    expiresAt: useFieldIds(true, errors.expiresAt),
  }
  const clearServer = (f: FieldName) => {
    if (server[f]) setServer((s) => ({ ...s, [f]: undefined }))
    if (formError) setFormError(null)
  }
  const guard = useDiscardGuard(changed > 0, onCancel, 'your changes')

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (busy) return
    const firstBad = FIELDS.find((f) => (f === 'expiresAt' ? dateError() : errors[f]))
    if (firstBad) {
      refs[firstBad].current?.focus()
      return
    }
    if (changed === 0) return onCancel()
    setBusy(true)
    const r = await updateKey(changes)
    setBusy(false)
    if (r.ok) return onSaved(r.value, changed)
    const f = fieldOf(r.error)
    if (f) {
      const target: FieldName = f === 'expiresIn' && expiry === CUSTOM ? 'expiresAt' : f
      setServer((s) => ({ ...s, [target]: r.error.message }))
      refs[target].current?.focus()
    } else setFormError(r.error.message)
  }

  return (
    <Modal title="Edit API key" onClose={onCancel} size="md" {...guard.modal}>
      <form onSubmit={(e) => void submit(e)} noValidate className="form">
        <div className="modal-body">
          {guard.question}
          <p className="lead">
            <span className="mono">{k.accessId}</span> · {k.owner}. The access key stays the same: nothing that uses it has to change.
          </p>
          <ErrorCallout text={formError} />
          <Field label="Name" ids={ids.name} error={errors.name} hint="Unique among the owner's live keys; “/” makes folders.">
            <input
              ref={refs.name}
              id={ids.name.id}
              aria-describedby={ids.name['aria-describedby']}
              aria-invalid={ids.name['aria-invalid']}
              className="input"
              value={name}
              maxLength={1000}
              autoComplete="off"
              spellCheck={false}
              data-autofocus
              onChange={(e) => {
                setName(e.target.value)
                clearServer('name')
              }}
            />
          </Field>
          <div className="field-row">
            <Field
              label="Expiry"
              ids={ids.expiresIn}
              error={errors.expiresIn}
              hint={`Now ${formatDateTime(k.expiresAt)}. At most ${policy.maxKeyAgeDays} days from creation (${formatDate(new Date(latest).toISOString())}).`}
            >
              <select
                ref={refs.expiresIn}
                id={ids.expiresIn.id}
                aria-describedby={ids.expiresIn['aria-describedby']}
                aria-invalid={ids.expiresIn['aria-invalid']}
                className="input"
                value={expiry}
                onChange={(e) => {
                  setExpiry(e.target.value)
                  clearServer('expiresIn')
                  clearServer('expiresAt')
                }}
              >
                <option value={KEEP}>Keep {formatDate(k.expiresAt)}</option>
                {presets.map((d) => (
                  <option key={d} value={`${d}d`}>
                    {d === 365 ? '1 year' : `${d} days`} from now
                  </option>
                ))}
                <option value={CUSTOM}>Custom date</option>
              </select>
            </Field>
            {expiry === CUSTOM && (
              <Field label="Expiration date" ids={ids.expiresAt} error={errors.expiresAt} hint="The key stops working at the end of this day.">
                <input
                  ref={refs.expiresAt}
                  id={ids.expiresAt.id}
                  aria-describedby={ids.expiresAt['aria-describedby']}
                  aria-invalid={ids.expiresAt['aria-invalid']}
                  className="input input-date"
                  type="date"
                  min={bounds.min}
                  max={bounds.max}
                  value={date}
                  onChange={(e) => {
                    setDate(e.target.value)
                    clearServer('expiresAt')
                  }}
                />
              </Field>
            )}
          </div>
          <ScopesField
            value={scopes}
            ids={ids.scopes}
            error={errors.scopes}
            inputRef={refs.scopes}
            onChange={(v) => {
              setScopes(v)
              clearServer('scopes')
            }}
          />
          <DescriptionField
            value={description}
            ids={ids.description}
            error={errors.description}
            textareaRef={refs.description}
            onChange={(v) => {
              setDescription(v)
              clearServer('description')
            }}
          />
        </div>
        <Foot onCancel={onCancel} note={<p className="muted small">{changed === 0 ? 'No changes yet.' : `${changed} ${changed === 1 ? 'field' : 'fields'} changed; recorded in the audit log.`}</p>}>
          <button type="submit" className="btn btn-primary" disabled={busy || changed === 0}>
            {busy ? 'Saving…' : 'Save changes'}
          </button>
        </Foot>
      </form>
    </Modal>
  )
}
