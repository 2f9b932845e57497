/**
 * Create an API key: name (folders with "/"), owner, scopes, expiry under the
 * policy, description. Field errors appear at the field as the admin types,
 * and the store's own errors land on the field they name.
 */
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react'
import { useShallow } from 'zustand/react/shallow'
import type { BridgeError, OneTimeSecret } from '../../../shared/contract'
import { DEFAULT_POLICY } from '../../../shared/domain'
import { endOfLocalDayIso, expiryDateBounds, formatDate } from '../lib/format'
import { descriptionError, nameError, scopesError, splitScopes } from '../lib/validate'
import { useStore } from '../store'
import type { CreateKeyInput } from '../store/keys'
import { Field, useFieldIds } from './Field'
import { IconWarning } from './icons'
import { Modal } from './Modal'
import { DescriptionField, ScopesField, useDiscardGuard } from './KeyForm'

const PRESET_DAYS = [7, 30, 90, 180, 365]
const CUSTOM = 'custom'

type FieldName = 'name' | 'owner' | 'expiresIn' | 'expiresAt' | 'scopes' | 'description'
const FIELDS: FieldName[] = ['name', 'owner', 'expiresIn', 'expiresAt', 'scopes', 'description']

function presetLabel(days: number): string {
  if (days === 365) return '1 year'
  if (days % 365 === 0) return `${days / 365} years`
  return days === 1 ? '1 day' : `${days} days`
}

/** Where a store error belongs: the field it names, or the form. */
function fieldOf(e: BridgeError): FieldName | null {
  const f = e.field
  if (f === 'expires' || f === 'expiry') return 'expiresIn'
  return FIELDS.includes(f as FieldName) ? (f as FieldName) : null
}

export function CreateKeyDialog({ onCreated, onCancel }: { onCreated(secret: OneTimeSecret): void; onCancel(): void }) {
  const { policy, owners, actor } = useStore(useShallow((s) => ({ policy: s.policy, owners: s.owners, actor: s.health?.actor ?? '' })))
  const createKey = useStore((s) => s.createKey)
  const loadOwners = useStore((s) => s.loadOwners)
  const loadPolicy = useStore((s) => s.loadPolicy)
  useEffect(() => {
    void loadOwners()
    void loadPolicy()
  }, [loadOwners, loadPolicy])

  const p = policy ?? DEFAULT_POLICY
  const presets = useMemo(() => {
    const set = new Set(PRESET_DAYS.filter((d) => d <= p.maxKeyAgeDays))
    set.add(p.defaultExpiryDays)
    return [...set].sort((a, b) => a - b)
  }, [p.maxKeyAgeDays, p.defaultExpiryDays])
  const bounds = useMemo(() => expiryDateBounds(p.maxKeyAgeDays), [p.maxKeyAgeDays])

  const [name, setName] = useState('')
  const [owner, setOwner] = useState<string | null>(null)
  const [expiry, setExpiry] = useState<string | null>(null)
  const [date, setDate] = useState('')
  const [scopes, setScopes] = useState('')
  const [description, setDescription] = useState('')
  const [server, setServer] = useState<Partial<Record<FieldName, string>>>({})
  const [formError, setFormError] = useState<string | null>(null)
  const [submitted, setSubmitted] = useState(false)
  const [busy, setBusy] = useState(false)
  const refs = {
    name: useRef<HTMLInputElement>(null),
    owner: useRef<HTMLSelectElement>(null),
    expiresIn: useRef<HTMLSelectElement>(null),
    expiresAt: useRef<HTMLInputElement>(null),
    scopes: useRef<HTMLInputElement>(null),
    description: useRef<HTMLTextAreaElement>(null),
  }

  const ownerValue = owner ?? actor
  const expiryValue = expiry ?? `${p.defaultExpiryDays}d`
  const custom = expiryValue === CUSTOM

  // Owners offered: every owner (disabled ones greyed out), plus you if you have no owner record yet (created on first key).
  const ownerOptions = useMemo(() => {
    const list = (owners ?? []).map((o) => ({ name: o.name, kind: o.kind, disabled: o.disabledAt !== null }))
    if (actor && !list.some((o) => o.name === actor)) list.unshift({ name: actor, kind: 'user', disabled: false })
    return list
  }, [owners, actor])

  function dateError(): string | null {
    if (!custom) return null
    if (date === '') return 'Choose an expiration date.'
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return 'Enter the date as YYYY-MM-DD.'
    if (date < bounds.min) return `Expiration date must be ${formatDate(bounds.min + 'T12:00:00')} or later.`
    if (date > bounds.max)
      return `Expiration date is past the policy's maximum key age of ${p.maxKeyAgeDays} days: the latest allowed is ${formatDate(bounds.max + 'T12:00:00')}.`
    return null
  }

  const local: Partial<Record<FieldName, string | null>> = {
    name: nameError(name, 'Name', true),
    scopes: scopesError(scopes),
    description: descriptionError(description),
    // Date errors show once a date was entered, or after a submit attempt.
    expiresAt: date !== '' || submitted ? dateError() : null,
  }
  const errors: Partial<Record<FieldName, string | null>> = {}
  for (const f of FIELDS) errors[f] = local[f] ?? server[f] ?? null
  if (f0(errors.owner) === null && ownerOptions.find((o) => o.name === ownerValue)?.disabled)
    errors.owner = `Owner "${ownerValue}" is disabled; it cannot get new keys.`

  const clearServer = (f: FieldName) => {
    if (server[f]) setServer((s) => ({ ...s, [f]: undefined }))
    if (formError) setFormError(null)
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setSubmitted(true)
    const firstBad = FIELDS.find((f) => (f === 'expiresAt' ? dateError() : errors[f]))
    if (firstBad) {
      refs[firstBad].current?.focus()
      return
    }
    const input: CreateKeyInput = {}
    if (name.trim() !== '') input.name = name.trim()
    // Your own owner record is created with your first key: send no owner for it then.
    if (ownerValue && (owners ?? []).some((o) => o.name === ownerValue)) input.owner = ownerValue
    const sc = splitScopes(scopes)
    if (sc.length) input.scopes = sc
    if (description.trim() !== '') input.description = description.trim()
    if (custom) input.expiresAt = endOfLocalDayIso(date)
    else input.expiresIn = expiryValue
    setBusy(true)
    const r = await createKey(input)
    setBusy(false)
    if (r.ok) return onCreated(r.value)
    const f = fieldOf(r.error)
    const target: FieldName | null = f === 'expiresAt' && !custom ? 'expiresIn' : f === 'expiresIn' && custom ? 'expiresAt' : f
    if (target) {
      setServer((s) => ({ ...s, [target]: r.error.message }))
      refs[target].current?.focus()
    } else setFormError(r.error.message)
  }

  const ids = {
    name: useFieldIds(true, errors.name),
    owner: useFieldIds(true, errors.owner),
    expiresIn: useFieldIds(true, errors.expiresIn),
    expiresAt: useFieldIds(true, errors.expiresAt),
    scopes: useFieldIds(true, errors.scopes),
    description: useFieldIds(true, errors.description),
  }
  const creationOff = policy !== null && !policy.allowCreation
  const dirty = name.trim() !== '' || scopes.trim() !== '' || description.trim() !== '' || owner !== null || expiry !== null || date !== ''
  const guard = useDiscardGuard(dirty, onCancel, 'this new key')

  return (
    <Modal title="Create API key" onClose={onCancel} size="md" {...guard.modal}>
      <form onSubmit={(e) => void submit(e)} noValidate className="form">
        <div className="modal-body">
          {guard.question}
          {creationOff && (
            <div className="callout callout-warning" role="note">
              <IconWarning />
              <div>Key creation is turned off by policy. Turn on “Allow key creation” under Policy to issue keys.</div>
            </div>
          )}
          {formError && (
            <div className="callout callout-danger" role="alert">
              <IconWarning />
              <div>{formError}</div>
            </div>
          )}
          <Field label="Name" ids={ids.name} error={errors.name} optional hint={<>Use “/” for folders, e.g. <code>payments/stripe-webhook</code>. Leave blank for a generated name.</>}>
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
            <Field label="Owner" ids={ids.owner} error={errors.owner} hint="A person or a service account; the key acts for it.">
              <select
                ref={refs.owner}
                id={ids.owner.id}
                aria-describedby={ids.owner['aria-describedby']}
                aria-invalid={ids.owner['aria-invalid']}
                className="input"
                value={ownerValue}
                onChange={(e) => {
                  setOwner(e.target.value)
                  clearServer('owner')
                }}
              >
                {ownerOptions.map((o) => (
                  <option key={o.name} value={o.name} disabled={o.disabled}>
                    {o.name}
                    {o.name === actor ? ' (you)' : o.kind === 'service' ? ' · service' : ''}
                    {o.disabled ? ' (disabled)' : ''}
                  </option>
                ))}
              </select>
            </Field>

            <Field
              label="Expires in"
              ids={ids.expiresIn}
              error={errors.expiresIn}
              hint={`Policy: default ${presetLabel(p.defaultExpiryDays)}, at most ${p.maxKeyAgeDays} days.`}
            >
              <select
                ref={refs.expiresIn}
                id={ids.expiresIn.id}
                aria-describedby={ids.expiresIn['aria-describedby']}
                aria-invalid={ids.expiresIn['aria-invalid']}
                className="input"
                value={expiryValue}
                onChange={(e) => {
                  setExpiry(e.target.value)
                  clearServer('expiresIn')
                  clearServer('expiresAt')
                }}
              >
                {presets.map((d) => (
                  <option key={d} value={`${d}d`}>
                    {presetLabel(d)}
                  </option>
                ))}
                <option value={CUSTOM}>Custom date</option>
              </select>
            </Field>
          </div>

          {custom && (
            <Field
              label="Expiration date"
              ids={ids.expiresAt}
              error={errors.expiresAt}
              hint={`The key stops working at the end of this day. Between ${formatDate(bounds.min + 'T12:00:00')} and ${formatDate(bounds.max + 'T12:00:00')}.`}
            >
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
        <footer className="modal-foot">
          <p className="muted small">The access key is shown once, right after you create the key.</p>
          <div className="modal-foot-actions">
            <button type="button" className="btn btn-ghost" onClick={onCancel}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={busy || creationOff}>
              {busy ? 'Creating…' : 'Create key'}
            </button>
          </div>
        </footer>
      </form>
    </Modal>
  )
}

function f0(v: string | null | undefined): string | null {
  return v ?? null
}
