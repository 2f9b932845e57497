/** The details region of the selected key, with its two destructive actions. */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react'
import { useShallow } from 'zustand/react/shallow'
import { formatDateTime, relativeTime } from '../lib/format'
import { useStore } from '../store'
import { canIssue } from '../store/health'
import { selectedOf } from '../store/selection'
import { IconCheck, IconCopy, IconEdit, IconPause, IconPlay, IconWarning, IconX } from './icons'
import { Scopes } from './KeyDialogs'
import { ExpiresCell, StatusBadge } from './Status'

function When({ iso, never = 'Never' }: { iso: string | null; never?: string }) {
  if (!iso) return <span className="muted">{never}</span>
  return (
    <span title={formatDateTime(iso)}>
      {formatDateTime(iso)} <span className="muted">· {relativeTime(iso)}</span>
    </span>
  )
}

export function KeyDetails() {
  const k = useStore((s) => s.activeKey)
  const issueOk = useStore((s) => canIssue(s.health, s.healthError))
  const { closeKey, openDialog, disableKey, enableKey, notify } = useStore(
    useShallow((s) => ({ closeKey: s.closeKey, openDialog: s.openDialog, disableKey: s.disableKey, enableKey: s.enableKey, notify: s.notify })),
  )
  const [copied, setCopied] = useState(false)
  const [toggling, setToggling] = useState(false)
  const titleRef = useRef<HTMLHeadingElement>(null)
  const accessId = k?.accessId
  // Opening a key moves focus into the panel, so keyboard users land on what they opened.
  useEffect(() => {
    if (accessId) titleRef.current?.focus({ preventScroll: true })
  }, [accessId])
  // An action can disable the button that has focus (Revoke key once the key is revoked): focus then goes to the
  // panel's title instead of falling to the page body.
  const lastFocus = useRef<HTMLElement | null>(null)
  useEffect(() => {
    const el = lastFocus.current
    if (el && el instanceof HTMLButtonElement && el.disabled && (document.activeElement === document.body || document.activeElement === el))
      titleRef.current?.focus({ preventScroll: true })
  })
  if (!k) return null

  const close = () => {
    closeKey()
    // Back to the row the panel was opened from, if it is still on screen.
    requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-access-id="${k.accessId}"] .row-name`)?.focus())
  }
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape' && !e.defaultPrevented) {
      e.preventDefault()
      close()
    }
  }

  const resetBlocked = !issueOk
    ? 'Resetting is unavailable until the key store and keychain are healthy.'
    : k.tampered
      ? 'This key was edited outside KeyDesk; it cannot be reset. Revoke it and create a new key.'
      : k.status === 'revoked'
        ? 'A revoked key cannot be reset.'
        : k.status === 'expired'
          ? 'An expired key cannot be reset; create a new key.'
          : null

  const editBlocked = !issueOk
    ? 'Editing is unavailable until the key store and keychain are healthy.'
    : k.tampered
      ? 'This key was edited outside KeyDesk; it cannot be changed.'
      : k.status === 'revoked'
        ? 'A revoked key cannot be edited.'
        : null
  const disabled = k.status === 'disabled' || k.disabledAt !== null
  const toggleBlocked = editBlocked ?? (k.status === 'expired' && !disabled ? 'An expired key does not verify anyway.' : null)
  const toggle = async () => {
    if (toggling) return
    setToggling(true)
    const r = disabled ? await enableKey(k.accessId) : await disableKey(k.accessId)
    setToggling(false)
    if (!r.ok) notify('error', r.error.message)
    else notify('success', disabled ? `Enabled “${k.name}”; it verifies again.` : `Disabled “${k.name}”; it does not verify until you enable it.`)
  }

  const actions = (
    <>
      <div className="details-actions">
        <button type="button" className="btn btn-secondary" disabled={resetBlocked !== null} title={resetBlocked ?? 'Issue a new access key for this key'} onClick={() => openDialog({ type: 'reset', key: k })}>
          Reset access key
        </button>
        {/* A revoked key can never be edited or switched on again: those buttons are not shown at all. */}
        {k.status !== 'revoked' && (
          <button type="button" className="btn btn-secondary" disabled={editBlocked !== null} title={editBlocked ?? 'Change name, description, scopes or expiry'} onClick={() => openDialog({ type: 'edit', key: k })}>
            <IconEdit />
            Edit key
          </button>
        )}
        {k.status !== 'revoked' && (
        <button
          type="button"
          className="btn btn-secondary"
          disabled={toggleBlocked !== null}
          aria-disabled={toggling || undefined}
          title={toggleBlocked ?? (disabled ? 'Let this key verify again' : 'Stop this key verifying until you enable it again (reversible)')}
          onClick={() => void toggle()}
        >
          {disabled ? <IconPlay /> : <IconPause />}
          {disabled ? 'Enable key' : 'Disable key'}
        </button>
        )}
        <button
          type="button"
          className="btn btn-danger-outline"
          disabled={k.status === 'revoked'}
          title={k.status === 'revoked' ? 'Already revoked' : 'Stop this key working, for good'}
          onClick={() => openDialog({ type: 'revoke', keys: [selectedOf(k)] })}
        >
          Revoke key
        </button>
      </div>
      {resetBlocked && k.status !== 'revoked' && k.status !== 'disabled' && <p className="muted small details-note">{resetBlocked}</p>}
    </>
  )

  const copyId = async () => {
    try {
      await navigator.clipboard.writeText(k.accessId)
      setCopied(true)
      setTimeout(() => setCopied(false), 2000)
    } catch {
      setCopied(false)
    }
  }

  return (
    <section className="details" aria-label="Key details" onKeyDown={onKeyDown} onFocus={(e) => (lastFocus.current = e.target)}>
      <div className="details-head">
        <p className="eyebrow">Key details</p>
        <button type="button" className="icon-btn" aria-label="Close details" title="Close details (Esc)" onClick={close}>
          <IconX />
        </button>
      </div>
      <h2 className="details-title break" tabIndex={-1} ref={titleRef}>
        {k.name}
      </h2>
      <div className="details-status">
        <StatusBadge k={k} />
        {k.status === 'active' && (
          <span className="details-expiry">
            <span className="muted">Expires</span> <ExpiresCell k={k} now={Date.now()} />
          </span>
        )}
      </div>
      {actions}

      {k.revokedAt && (
        <div className="callout callout-muted">
          <div>
            Revoked <When iso={k.revokedAt} />
            {k.revokedReason ? <div className="break">Reason: “{k.revokedReason}”</div> : <div className="muted">No reason given.</div>}
          </div>
        </div>
      )}
      {k.tampered && (
        <div className="callout callout-danger" role="alert">
          <IconWarning />
          <div>
            <strong>This key’s record was changed outside KeyDesk.</strong> Its signature does not match, so it never verifies. Revoke it, issue a new key,
            and keep a copy of the store file for investigation.
          </div>
        </div>
      )}
      {disabled && k.status !== 'revoked' && !k.tampered && (
        <div className="callout callout-warning">
          <IconWarning />
          <div>
            Disabled <When iso={k.disabledAt} never="" />. It does not verify until you enable it; nothing else about it changed.
          </div>
        </div>
      )}
      {k.ownerDisabled && k.status === 'active' && !k.tampered && (
        <div className="callout callout-warning">
          <IconWarning />
          <div>The owner {k.owner} is disabled, so this key does not verify.</div>
        </div>
      )}

      <dl className="props">
        <div>
          <dt>Access ID</dt>
          <dd className="with-action">
            <span className="mono">{k.accessId}</span>
            <button type="button" className="icon-btn" aria-label="Copy access ID" title="Copy access ID" onClick={() => void copyId()}>
              {copied ? <IconCheck /> : <IconCopy />}
            </button>
          </dd>
        </div>
        <div>
          <dt>Owner</dt>
          <dd>
            {k.owner} <span className="muted">· {k.ownerKind === 'service' ? 'service account' : 'user'}</span>
          </dd>
        </div>
        <div>
          <dt>Scopes</dt>
          <dd>{k.scopes.length ? <Scopes scopes={k.scopes} /> : <span className="muted">None</span>}</dd>
        </div>
        <div>
          <dt>Description</dt>
          <dd className="break">{k.description || <span className="muted">None</span>}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <When iso={k.createdAt} />
          </dd>
        </div>
        <div>
          <dt>Expires</dt>
          <dd>
            <When iso={k.expiresAt} />
          </dd>
        </div>
        <div>
          <dt>Last reset</dt>
          <dd>
            <When iso={k.resetAt} never="Never reset" />
          </dd>
        </div>
        <div>
          <dt>Last used</dt>
          <dd>
            <When iso={k.lastUsedAt} />
          </dd>
        </div>
        <div>
          <dt>Key hint</dt>
          <dd>
            <span className="mono">{k.hint}…</span> <span className="muted small">start of the access key</span>
          </dd>
        </div>
        {k.status !== 'revoked' &&
          (k.previousSecrets.length > 0
            ? k.previousSecrets.map((p, i) => (
                <div key={p.graceUntil + i}>
                  <dt>{k.previousSecrets.length > 1 ? `Previous key ${i + 1}` : 'Previous key'}</dt>
                  <dd>
                    still works until <When iso={p.graceUntil} />
                    <div className="muted small">{p.lastUsedAt ? <>Last used {relativeTime(p.lastUsedAt)}</> : 'Not used since the reset'}</div>
                  </dd>
                </div>
              ))
            : k.graceUntil && (
                <div>
                  <dt>Previous key</dt>
                  <dd>
                    still works until <When iso={k.graceUntil} />
                  </dd>
                </div>
              ))}
      </dl>


    </section>
  )
}
