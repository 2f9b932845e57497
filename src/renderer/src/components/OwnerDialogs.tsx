/** Owners: add, disable, revoke every key after typing the owner's name; and the retention purge. */
import { useState, type FormEvent } from 'react'
import type { OwnerKind, OwnerView } from '../../../shared/domain'
import { formatCount, plural } from '../lib/format'
import { nameError, reasonError } from '../lib/validate'
import { useStore } from '../store'
import { Field, useFieldIds } from './Field'
import { Modal } from './Modal'
import { ConfirmNameField } from './ConfirmNameField'
import { ErrorCallout, Foot } from './DialogParts'

export function AddOwnerDialog({ onCancel, onDone }: { onCancel(): void; onDone(o: OwnerView): void }) {
  const addOwner = useStore((s) => s.addOwner)
  const [name, setName] = useState('')
  const [kind, setKind] = useState<OwnerKind>('service')
  const [touched, setTouched] = useState(false)
  const [server, setServer] = useState<string | null>(null)
  const [formError, setFormError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const local = nameError(name, 'Name', false)
  const error = (touched || name !== '' ? local : null) ?? server
  const ids = useFieldIds(true, error)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setTouched(true)
    if (local || busy) return
    setBusy(true)
    const r = await addOwner(name.trim(), kind)
    setBusy(false)
    if (!r.ok) {
      if (r.error.field === 'owner' || r.error.field === 'name') setServer(r.error.message)
      else setFormError(r.error.message)
      return
    }
    onDone(r.value)
  }

  return (
    <Modal title="Add owner" onClose={onCancel} size="sm">
      <form onSubmit={(e) => void submit(e)} className="form" noValidate>
        <div className="modal-body">
          <ErrorCallout text={formError} />
          <Field label="Name" ids={ids} error={error} hint="A person's login name, or a service account such as ci/deployer.">
            <input
              id={ids.id}
              aria-describedby={ids['aria-describedby']}
              aria-invalid={ids['aria-invalid']}
              className="input"
              value={name}
              autoComplete="off"
              spellCheck={false}
              data-autofocus
              onChange={(e) => {
                setName(e.target.value)
                setServer(null)
              }}
            />
          </Field>
          <fieldset className="field radio-group">
            <legend className="field-label">Kind</legend>
            <label className="radio">
              <input type="radio" name="owner-kind" value="service" checked={kind === 'service'} onChange={() => setKind('service')} />
              <span>
                Service account <span className="muted small">— a program or pipeline that calls your APIs</span>
              </span>
            </label>
            <label className="radio">
              <input type="radio" name="owner-kind" value="user" checked={kind === 'user'} onChange={() => setKind('user')} />
              <span>
                User <span className="muted small">— a person</span>
              </span>
            </label>
          </fieldset>
        </div>
        <Foot onCancel={onCancel}>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            Add owner
          </button>
        </Foot>
      </form>
    </Modal>
  )
}

export function DisableOwnerDialog({ owner, onCancel, onDone }: { owner: OwnerView; onCancel(): void; onDone(): void }) {
  const disableOwner = useStore((s) => s.disableOwner)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    const r = await disableOwner(owner.name)
    setBusy(false)
    if (!r.ok) return setError(r.error.message)
    onDone()
  }
  return (
    <Modal title={`Disable ${owner.name}?`} onClose={onCancel} size="sm" tone="danger">
      <form onSubmit={(e) => void submit(e)} className="form">
        <div className="modal-body">
          <p className="lead">
            A disabled owner gets no new keys, and none of its keys verify while it is disabled —{' '}
            <strong>{plural(owner.keys.active, 'active key')}</strong> stop{owner.keys.active === 1 ? 's' : ''} working now. You can enable the owner again
            later; its keys then verify again unless they were revoked or expired.
          </p>
          <ErrorCallout text={error} />
        </div>
        <Foot onCancel={onCancel}>
          <button type="submit" className="btn btn-danger" disabled={busy}>
            Disable owner
          </button>
        </Foot>
      </form>
    </Modal>
  )
}

export function RevokeOwnerKeysDialog({ owner, onCancel, onDone }: { owner: OwnerView; onCancel(): void; onDone(n: number): void }) {
  const revokeOwnerKeys = useStore((s) => s.revokeOwnerKeys)
  const [typed, setTyped] = useState('')
  const [reason, setReason] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [confirmError, setConfirmError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const matches = typed === owner.name
  const reasonErr = reasonError(reason)
  const reasonIds = useFieldIds(true, reasonErr)
  const live = owner.keys.active + owner.keys.expired

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!matches || busy || reasonErr) return
    setBusy(true)
    setError(null)
    const r = await revokeOwnerKeys(owner.name, typed, reason)
    setBusy(false)
    if (!r.ok) {
      if (r.error.field === 'confirm') setConfirmError(r.error.message)
      else setError(r.error.message)
      return
    }
    onDone(r.value.revoked)
  }

  return (
    <Modal title={`Revoke all keys of ${owner.name}?`} onClose={onCancel} tone="danger">
      <form onSubmit={(e) => void submit(e)} className="form" noValidate>
        <div className="modal-body">
          <p className="lead">
            <strong>{plural(live, 'key')}</strong> of {owner.kind === 'service' ? 'service account' : 'user'} <strong>{owner.name}</strong> will be revoked.{' '}
            {owner.keys.active > 0 ? (
              <>
                {owner.keys.active === 1 ? 'Its 1 active key stops' : `Its ${formatCount(owner.keys.active)} active keys stop`} working at once
                {owner.keys.expired > 0 ? `; ${plural(owner.keys.expired, 'expired key')} no longer ${owner.keys.expired === 1 ? 'works' : 'work'} anyway.` : '.'}
              </>
            ) : (
              <>None of them works now (all {formatCount(owner.keys.expired)} have expired); revoking makes it final.</>
            )}{' '}
            This cannot be undone. The owner stays and can get new keys.
          </p>
          <ErrorCallout text={error} />
          <ConfirmNameField
            label="Type the owner name to confirm"
            target={owner.name}
            value={typed}
            error={confirmError}
            onEnter={() => setConfirmError(`That is not the owner's name exactly; type “${owner.name}” (capitals and spaces count).`)}
            onChange={(v) => {
              setTyped(v)
              setConfirmError(null)
            }}
          />
          <Field label="Reason" ids={reasonIds} error={reasonErr} optional hint="Recorded in the audit log with every revoked key.">
            <input
              id={reasonIds.id}
              aria-describedby={reasonIds['aria-describedby']}
              aria-invalid={reasonIds['aria-invalid']}
              className="input"
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />
          </Field>
        </div>
        <Foot onCancel={onCancel}>
          <button type="submit" className="btn btn-danger" disabled={!matches || busy || reasonErr !== null}>
            Revoke all keys
          </button>
        </Foot>
      </form>
    </Modal>
  )
}

export function PurgeDialog({ count, retentionDays, onCancel, onDone }: { count: number; retentionDays: number; onCancel(): void; onDone(n: number): void }) {
  const purgeKeys = useStore((s) => s.purgeKeys)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    const r = await purgeKeys()
    setBusy(false)
    if (!r.ok) return setError(r.error.message)
    onDone(r.value.purged)
  }
  return (
    <Modal title={`Purge ${plural(count, 'old key')}?`} onClose={onCancel} size="sm" tone="danger">
      <form onSubmit={(e) => void submit(e)} className="form">
        <div className="modal-body">
          <p className="lead">
            Deletes keys revoked more than {plural(retentionDays, 'day')} ago and keys that expired more than {plural(retentionDays, 'day')} ago. Their
            owners get those slots back. The audit log keeps its entries. This cannot be undone.
          </p>
          <ErrorCallout text={error} />
        </div>
        <Foot onCancel={onCancel}>
          <button type="submit" className="btn btn-danger" disabled={busy}>
            Purge keys
          </button>
        </Foot>
      </form>
    </Modal>
  )
}
