import { useEffect } from 'react'
import { useShallow } from 'zustand/react/shallow'
import { IconPlus, IconUsers, IconWarning } from '../components/icons'
import type { OwnerView } from '../../../shared/domain'
import { formatCount, formatDate, plural } from '../lib/format'
import { useStore } from '../store'
import { storeDown } from '../store/health'
import { StoreDown } from '../components/StoreDown'

function OwnerRow({ o }: { o: OwnerView }) {
  const { openDialog, replaceFilters, go, enableOwner, notify } = useStore(
    useShallow((s) => ({ openDialog: s.openDialog, replaceFilters: s.replaceFilters, go: s.go, enableOwner: s.enableOwner, notify: s.notify })),
  )
  const enable = async () => {
    const r = await enableOwner(o.name)
    if (r.ok) notify('success', `Enabled “${o.name}”; its active keys verify again.`)
    else notify('error', r.error.message)
  }
  const live = o.keys.active + o.keys.expired
  const viewKeys = () => {
    replaceFilters({ owner: o.name })
    go('keys')
  }
  return (
    <tr className={o.disabledAt ? 'row-inactive' : undefined}>
      <th scope="row" className="owner-name">
        <div>
          <span className="break">{o.name}</span>
          {o.disabledAt && (
            <span className="badge badge-muted" title={`Disabled ${formatDate(o.disabledAt)}: its keys do not verify and it gets no new keys`}>
              <span className="dot" aria-hidden="true" />
              Disabled
            </span>
          )}
          {o.tampered && (
            <span className="badge badge-danger" title="This owner's record was edited outside KeyDesk.">
              <IconWarning className="icon icon-sm" /> Tampered
            </span>
          )}
        </div>
      </th>
      <td className="nowrap">{o.kind === 'service' ? 'Service account' : 'User'}</td>
      <td className="num">
        <span className={o.keys.active ? 'count-active' : 'muted'}>{formatCount(o.keys.active)}</span>
      </td>
      <td className="num">
        <span className={o.keys.expired ? 'count-expired' : 'muted'}>{formatCount(o.keys.expired)}</span>
      </td>
      <td className="num">
        <span className={o.keys.revoked ? '' : 'muted'}>{formatCount(o.keys.revoked)}</span>
      </td>
      <td className="muted nowrap">{formatDate(o.createdAt)}</td>
      <td className="actions">
        <button type="button" className="btn btn-ghost btn-sm" onClick={viewKeys} aria-label={`View keys of ${o.name}`}>
          View keys
        </button>
        {o.disabledAt === null ? (
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => openDialog({ type: 'disableOwner', owner: o })} aria-label={`Disable ${o.name}`}>
            Disable
          </button>
        ) : (
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => void enable()} aria-label={`Enable ${o.name}`}>
            Enable
          </button>
        )}
        <button
          type="button"
          className="btn btn-danger-outline btn-sm"
          disabled={live === 0}
          title={live === 0 ? 'No keys to revoke' : `Revoke ${plural(live, 'key')}`}
          onClick={() => openDialog({ type: 'revokeOwner', owner: o })}
          aria-label={`Revoke all keys of ${o.name}`}
        >
          Revoke all keys
        </button>
      </td>
    </tr>
  )
}

export function OwnersScreen() {
  const { owners, error, down, loadOwners, openDialog } = useStore(
    useShallow((s) => ({ owners: s.owners, error: s.ownersError, down: storeDown(s.health, s.healthError), loadOwners: s.loadOwners, openDialog: s.openDialog })),
  )
  useEffect(() => {
    void loadOwners()
  }, [loadOwners])
  const services = owners?.filter((o) => o.kind === 'service').length ?? 0
  return (
    <div className="screen">
      <header className="screen-head">
        <div>
          <h1 tabIndex={-1} data-screen-heading>
            Owners
          </h1>
          <p className="subtitle">
            {owners ? `${plural(owners.length - services, 'user')} · ${plural(services, 'service account')}` : '\u00a0'} · every key belongs to one owner
          </p>
        </div>
        {!down && (
          <div className="head-actions">
            <button type="button" className="btn btn-primary" onClick={() => openDialog({ type: 'addOwner' })}>
              <IconPlus />
              Add owner
            </button>
          </div>
        )}
      </header>
      {down ? (
        <StoreDown what="Owners" />
      ) : error ? (
        <div className="callout callout-danger" role="alert">
          <IconWarning />
          <div>{error.message}</div>
        </div>
      ) : owners && owners.length === 0 ? (
        <div className="empty" role="status">
          <IconUsers className="icon empty-icon" />
          <h2>No owners yet</h2>
          <p>Add a service account for each program that calls your APIs. You become an owner yourself when you create your first key.</p>
        </div>
      ) : (
        <div className="card table-card">
          <table className="data-table owners-table">
            <thead>
              <tr>
                <th scope="col">Owner</th>
                <th scope="col">Kind</th>
                <th scope="col" className="num">
                  Active
                </th>
                <th scope="col" className="num">
                  Expired
                </th>
                <th scope="col" className="num">
                  Revoked
                </th>
                <th scope="col">Added</th>
                <th scope="col" className="actions">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>{owners?.map((o) => <OwnerRow key={o.name} o={o} />)}</tbody>
          </table>
        </div>
      )}
    </div>
  )
}
