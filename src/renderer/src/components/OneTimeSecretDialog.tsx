/**
 * The one-time panel. The secret arrives as a prop from the flow that issued it
 * and lives only in React state for as long as this dialog is open. Download
 * and copy happen in main from its short-lived handoff (the secret never goes
 * back over the bridge). Closing needs the download or the tick; on close main
 * is told to forget the handoff.
 */
import { useEffect, useRef, useState } from 'react'
import type { OneTimeSecret, SaveOutcome } from '../../../shared/contract'
import { formatDateTime, formatTime, plural, relativeTime } from '../lib/format'
import { useNow } from '../lib/hooks'
import { useStore } from '../store'
import { IconCheck, IconCopy, IconDownload, IconWarning } from './icons'
import { Modal } from './Modal'

export interface OneTimeSecretDialogProps {
  secret: OneTimeSecret
  /** What just happened, for the first line of the panel. */
  context: 'created' | 'reset' | 'imported'
  /** After a reset with grace: when the old access key stops working. */
  graceUntil?: string | null
  onDone(): void
}

export function OneTimeSecretDialog({ secret, context, graceUntil, onDone }: OneTimeSecretDialogProps) {
  const saveCredentials = useStore((s) => s.saveCredentials)
  const copySecret = useStore((s) => s.copySecret)
  const discardCredentials = useStore((s) => s.discardCredentials)
  const [saved, setSaved] = useState<SaveOutcome | null>(null)
  const [ack, setAck] = useState(false)
  const [busy, setBusy] = useState(false)
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null)
  const [nudge, setNudge] = useState(false)
  const discarded = useRef(false)
  const now = useNow(15_000)
  const keys = secret.keys
  const single = keys.length === 1 ? keys[0]! : null
  const canClose = saved?.saved === true || ack
  const handoffGone = new Date(secret.handoffExpiresAt).getTime() <= now

  const discard = () => {
    if (discarded.current) return
    discarded.current = true
    void discardCredentials(secret.handoffId)
  }
  // Leaving the flow any other way (the dialog unmounts) still tells main to forget the secret.
  // Deferred so a development StrictMode remount does not count as leaving.
  const mounted = useRef(false)
  useEffect(() => {
    mounted.current = true
    return () => {
      mounted.current = false
      setTimeout(() => {
        if (!mounted.current) discard()
      }, 0)
    }
  }, []) // eslint-disable-line react-hooks/exhaustive-deps

  const done = () => {
    if (!canClose) {
      setNudge(true)
      return
    }
    discard()
    onDone()
  }

  const download = async () => {
    if (busy) return
    setBusy(true)
    setMessage(null)
    const r = await saveCredentials(secret.handoffId)
    setBusy(false)
    if (!r.ok) return setMessage({ tone: 'error', text: r.error.message })
    if (r.value.saved) {
      setSaved(r.value)
      setNudge(false)
      setMessage({ tone: 'ok', text: `Saved to ${r.value.path ?? 'the chosen file'}. Only your user account can read it.` })
    }
  }

  const copyId = async (accessId: string) => {
    setMessage(null)
    try {
      await navigator.clipboard.writeText(accessId)
      setMessage({ tone: 'ok', text: 'Access ID copied. It is not secret; the access key is.' })
    } catch {
      setMessage({ tone: 'error', text: 'The clipboard refused the access ID; select the field and copy it instead.' })
    }
  }

  const copy = async (accessId: string) => {
    setMessage(null)
    const r = await copySecret(secret.handoffId, accessId)
    if (!r.ok) return setMessage({ tone: 'error', text: r.error.message })
    setMessage({ tone: 'ok', text: `Access key copied. KeyDesk clears it from the clipboard in ${Math.round(r.value.clearsAfterMs / 1000)} seconds.` })
  }

  const lead =
    context === 'reset'
      ? 'The access key was reset. This is the only time the new access key is shown.'
      : context === 'imported'
        ? `${plural(keys.length, 'key')} issued. Their access keys are shown only now, in the credential CSV.`
        : 'The key is ready. This is the only time its access key is shown.'

  return (
    <Modal title="Save your access key" onClose={done} canClose={canClose} onBlockedClose={() => setNudge(true)} showCloseButton={false} size="lg" className="secret-dialog">
      <div className="modal-body">
        <p className="lead">{lead}</p>
        <div className="callout callout-warning">
          <IconWarning />
          <div>
            <strong>Save it now.</strong> KeyDesk keeps only a hash; once you close this panel nobody can show the access key again — a lost key must be reset.
            {!handoffGone ? (
              <> Download and copy work until {formatTime(secret.handoffExpiresAt)} ({relativeTime(secret.handoffExpiresAt, now)}).</>
            ) : (
              <> The download window has closed; copy the key from the field below.</>
            )}
          </div>
        </div>

        {single ? (
          <div className="secret-fields">
            <div className="field">
              <label className="field-label" htmlFor="secret-access-id">
                Access ID
              </label>
              <div className="input-with-button">
                <input id="secret-access-id" className="input mono" readOnly value={single.accessId} onFocus={(e) => e.currentTarget.select()} />
                <button type="button" className="btn btn-secondary" onClick={() => void copyId(single.accessId)}>
                  <IconCopy />
                  Copy access ID
                </button>
              </div>
            </div>
            <div className="field">
              <label className="field-label" htmlFor="secret-access-key">
                Access Key
              </label>
              <div className="input-with-button">
                <input
                  id="secret-access-key"
                  className="input mono secret"
                  readOnly
                  value={single.accessKey}
                  spellCheck={false}
                  autoComplete="off"
                  onFocus={(e) => e.currentTarget.select()}
                />
                <button type="button" className="btn btn-secondary" onClick={() => void copy(single.accessId)}>
                  <IconCopy />
                  Copy access key
                </button>
              </div>
            </div>
            <dl className="props props-compact">
              <div>
                <dt>Name</dt>
                <dd title={single.name}>{single.name}</dd>
              </div>
              <div>
                <dt>Owner</dt>
                <dd>{single.owner}</dd>
              </div>
              <div>
                <dt>Scopes</dt>
                <dd>{single.scopes.length ? single.scopes.join(' ') : 'None'}</dd>
              </div>
              <div>
                <dt>Expires</dt>
                <dd>{formatDateTime(single.expiresAt)}</dd>
              </div>
              {graceUntil && (
                <div>
                  <dt>Old access key</dt>
                  <dd>works until {formatDateTime(graceUntil)}</dd>
                </div>
              )}
            </dl>
          </div>
        ) : (
          <div className="issued-list" role="group" aria-label="Issued keys">
            <table className="simple-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Access ID</th>
                  <th scope="col">Owner</th>
                </tr>
              </thead>
              <tbody>
                {keys.slice(0, 100).map((k) => (
                  <tr key={k.accessId}>
                    <td title={k.name}>{k.name}</td>
                    <td className="mono">{k.accessId}</td>
                    <td>{k.owner}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {keys.length > 100 && <p className="muted small">…and {plural(keys.length - 100, 'more key')}; every one is in the CSV.</p>}
          </div>
        )}

        <div className="secret-actions">
          {/* Never disabled while saving: a disabled button would drop keyboard focus to the page. */}
          <button type="button" className="btn btn-primary" onClick={() => void download()} aria-disabled={busy || undefined} data-autofocus>
            <IconDownload />
            Download CSV
          </button>
          <span className="muted small">The credential CSV holds the {single ? 'access ID and access key' : 'access IDs and access keys'}; it is saved readable only by you.</span>
        </div>

        <p className={`status-line${message ? ` status-${message.tone}` : ''}`} role="status" aria-live="polite">
          {message && (message.tone === 'ok' ? <IconCheck /> : <IconWarning />)}
          {message?.text}
        </p>
        {nudge && !canClose && (
          <p className="status-line status-warn" role="alert">
            <IconWarning />
            Download the CSV or tick the box below first: once this panel closes, the access key cannot be shown again.
          </p>
        )}
      </div>
      <footer className="modal-foot">
        <label className="check">
          <input type="checkbox" checked={ack} onChange={(e) => setAck(e.target.checked)} />
          <span>I have saved this access key</span>
        </label>
        <div className="modal-foot-actions">
          <button type="button" className="btn btn-primary" onClick={done} disabled={!canClose}>
            Done
          </button>
        </div>
      </footer>
    </Modal>
  )
}
