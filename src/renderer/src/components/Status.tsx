import type { KeyView } from '../../../shared/domain'
import { formatDate, formatDateTime, isExpiringSoon, relativeTime } from '../lib/format'
import { IconClock, IconWarning } from './icons'

const LABEL = { active: 'Active', disabled: 'Disabled', expired: 'Expired', revoked: 'Revoked' } as const

/** Status in words and colour (the colour is never the only signal). */
export function StatusBadge({ k }: { k: Pick<KeyView, 'status' | 'tampered' | 'ownerDisabled'> & Partial<Pick<KeyView, 'stale'>> }) {
  if (k.tampered)
    return (
      <span className="badge badge-danger" title="The database row was edited outside KeyDesk; this key never verifies.">
        <IconWarning className="icon icon-sm" />
        Tampered
      </span>
    )
  if (k.status === 'disabled')
    return (
      <span className="badge badge-disabled" title="Switched off by an admin; it does not verify until enabled again.">
        <span className="dot" aria-hidden="true" />
        Disabled
      </span>
    )
  if (k.status === 'active' && k.ownerDisabled)
    return (
      <span className="badge badge-muted" title="The owner is disabled; this key does not verify.">
        <span className="dot" aria-hidden="true" />
        Owner disabled
      </span>
    )
  if (k.status === 'active' && k.stale)
    return (
      <span className="badge badge-active badge-stale" title="Not used for the policy's stale-after-days (never used counts from creation): a candidate for revoking.">
        <span className="dot" aria-hidden="true" />
        Active · unused
      </span>
    )
  return (
    <span className={`badge badge-${k.status}`}>
      <span className="dot" aria-hidden="true" />
      {LABEL[k.status]}
    </span>
  )
}

/** Expiry as a date, with the relative time; keys expiring within a week stand out. */
export function ExpiresCell({ k, now }: { k: Pick<KeyView, 'status' | 'expiresAt'>; now: number }) {
  const soon = isExpiringSoon(k, now)
  const title = `${formatDateTime(k.expiresAt)} (${relativeTime(k.expiresAt, now)})`
  if (soon)
    return (
      <span className="expires expires-soon" title={title}>
        <IconClock className="icon icon-sm" />
        <span>{relativeTime(k.expiresAt, now)}</span>
        <span className="visually-hidden">, expiring soon</span>
      </span>
    )
  return (
    <span className={`expires${k.status !== 'active' ? ' muted' : ''}`} title={title}>
      {formatDate(k.expiresAt)}
    </span>
  )
}
