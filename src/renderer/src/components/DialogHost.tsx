/**
 * Renders the open dialog. Flows that end in a one-time secret (create, reset,
 * import) keep that secret in their own component state: it exists while the
 * flow is mounted and is gone when the dialog closes.
 */
import { useEffect, useState } from 'react'
import type { OneTimeSecret } from '../../../shared/contract'
import { plural } from '../lib/format'
import { useStore } from '../store'
import type { DialogState } from '../store/dialogs'
import { CreateKeyDialog } from './CreateKeyDialog'
import { EditKeyDialog } from './EditKeyDialog'
import { ResetKeyDialog, RevokeDialog, RevokeMatchingDialog } from './KeyDialogs'
import { Modal } from './Modal'
import { OneTimeSecretDialog } from './OneTimeSecretDialog'
import { AddOwnerDialog, DisableOwnerDialog, PurgeDialog, RevokeOwnerKeysDialog } from './OwnerDialogs'

function CreateFlow({ close }: { close(): void }) {
  const [secret, setSecret] = useState<OneTimeSecret | null>(null)
  const notify = useStore((s) => s.notify)
  if (secret)
    return (
      <OneTimeSecretDialog
        secret={secret}
        context="created"
        onDone={() => {
          close()
          const k = secret.keys[0]
          if (k) notify('success', `Created “${k.name}” for ${k.owner}. It works from now until ${new Date(k.expiresAt).toLocaleDateString()}.`)
        }}
      />
    )
  return <CreateKeyDialog onCreated={setSecret} onCancel={close} />
}

function ResetFlow({ d, close }: { d: Extract<DialogState, { type: 'reset' }>; close(): void }) {
  const [done, setDone] = useState<{ secret: OneTimeSecret; graceUntil: string | null } | null>(null)
  const notify = useStore((s) => s.notify)
  if (done)
    return (
      <OneTimeSecretDialog
        secret={done.secret}
        context="reset"
        graceUntil={done.graceUntil}
        onDone={() => {
          close()
          notify(
            'success',
            `Reset “${d.key.name}”. ${done.graceUntil ? `The old access key works until ${new Date(done.graceUntil).toLocaleString()}.` : 'The old access key stopped working.'}`,
          )
        }}
      />
    )
  return <ResetKeyDialog keyView={d.key} onCancel={close} onReset={(secret, o) => setDone({ secret, graceUntil: o.graceUntil })} />
}

function ImportFlow({ close }: { close(): void }) {
  const importKeys = useStore((s) => s.importKeys)
  const notify = useStore((s) => s.notify)
  const [secret, setSecret] = useState<OneTimeSecret | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let live = true
    void importKeys().then((r) => {
      if (!live) return
      if (!r.ok) setError(r.error.message)
      else if (r.value === null) close()
      else {
        notify('success', `Issued ${plural(r.value.keys.length, 'key')} from the CSV.`)
        setSecret(r.value)
      }
    })
    return () => {
      live = false
    }
  }, []) // eslint-disable-line react-hooks/exhaustive-deps
  if (secret) return <OneTimeSecretDialog secret={secret} context="imported" onDone={close} />
  return (
    <Modal title="Import keys from CSV" onClose={close} size="sm">
      <div className="modal-body">
        {error ? (
          <div className="callout callout-danger" role="alert">
            <div>
              <strong>Nothing was imported.</strong> {error}
            </div>
          </div>
        ) : (
          <p className="lead">Choose a CSV with a <code>Name</code> column and, if you like, Owner, Scopes, Expires In, Expires At and Description. Every row is issued, or none.</p>
        )}
      </div>
      <footer className="modal-foot">
        <span />
        <div className="modal-foot-actions">
          <button type="button" className="btn btn-ghost" onClick={close}>
            Close
          </button>
        </div>
      </footer>
    </Modal>
  )
}

export function DialogHost() {
  const dialog = useStore((s) => s.dialog)
  const closeDialog = useStore((s) => s.closeDialog)
  const notify = useStore((s) => s.notify)
  if (!dialog) return null
  switch (dialog.type) {
    case 'create':
      return <CreateFlow close={closeDialog} />
    case 'import':
      return <ImportFlow close={closeDialog} />
    case 'reset':
      return <ResetFlow key={dialog.key.accessId} d={dialog} close={closeDialog} />
    case 'edit':
      return (
        <EditKeyDialog
          key={dialog.key.accessId}
          keyView={dialog.key}
          onCancel={closeDialog}
          onSaved={(k, n) => {
            closeDialog()
            notify('success', `Saved ${n === 1 ? 'the change' : `${n} changes`} to “${k.name}”.`)
          }}
        />
      )
    case 'revoke':
      return (
        <RevokeDialog
          keys={dialog.keys}
          onCancel={closeDialog}
          onDone={(n) => {
            closeDialog()
            notify('success', n === 1 && dialog.keys[0] ? `Revoked “${dialog.keys[0].name}”.` : `Revoked ${plural(n, 'key')}.`)
          }}
        />
      )
    case 'revokeMatching':
      return (
        <RevokeMatchingDialog
          count={dialog.count}
          onCancel={closeDialog}
          onDone={(n) => {
            closeDialog()
            notify('success', `Revoked ${plural(n, 'key')}.`)
          }}
        />
      )
    case 'addOwner':
      return (
        <AddOwnerDialog
          onCancel={closeDialog}
          onDone={(o) => {
            closeDialog()
            notify('success', `Added ${o.kind === 'service' ? 'service account' : 'user'} “${o.name}”.`)
          }}
        />
      )
    case 'disableOwner':
      return (
        <DisableOwnerDialog
          owner={dialog.owner}
          onCancel={closeDialog}
          onDone={() => {
            closeDialog()
            notify('success', `Disabled “${dialog.owner.name}”.`)
          }}
        />
      )
    case 'revokeOwner':
      return (
        <RevokeOwnerKeysDialog
          owner={dialog.owner}
          onCancel={closeDialog}
          onDone={(n) => {
            closeDialog()
            notify('success', `Revoked ${plural(n, 'key')} of “${dialog.owner.name}”.`)
          }}
        />
      )
    case 'purge':
      return (
        <PurgeDialog
          count={dialog.count}
          retentionDays={dialog.retentionDays}
          onCancel={closeDialog}
          onDone={(n) => {
            closeDialog()
            notify('success', `Purged ${plural(n, 'old key')}.`)
          }}
        />
      )
  }
}
