/**
 * Needs attention: keys expiring within the widest reminder threshold, stale keys
 * (unused for the policy's stale-after-days) with a bulk revoke through the
 * counted revoke-matching flow, keys edited outside KeyDesk, the credential
 * report, and "Scan a folder for leaked keys" with a Revoke button per live key.
 * No secret ever reaches this screen: a leaked key is shown by name and hint.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react'
import { useShallow } from 'zustand/react/shallow'
import type { AttentionView, ScanFinding, ScanOutcome } from '../../../shared/contract'
import type { KeyView } from '../../../shared/domain'
import { ErrorCallout, Foot } from '../components/DialogParts'
import { IconCheck, IconClock, IconDownload, IconFolder, IconWarning } from '../components/icons'
import { Modal } from '../components/Modal'
import { StoreDown } from '../components/StoreDown'
import { call, type BridgeError } from '../lib/api'
import { DAY_MS, formatCount, formatDateTime, plural, relativeTime } from '../lib/format'
import { useStore } from '../store'
import { storeDown } from '../store/health'
import '../styles/attention.css'

/** The audit reason of a leaked key's revoke: where it was found (the core caps reasons at 500 characters). */
export function leakReason(folder: string, location: string): string {
  const r = `leaked in ${folder.replace(/\/+$/, '')}/${location}`
  return r.length <= 500 ? r : `${r.slice(0, 499)}…`
}

function daysLeft(k: KeyView, at: string): number {
  return Math.floor((Date.parse(k.expiresAt) - Date.parse(at)) / DAY_MS)
}

function Section({ id, title, count, children, action }: { id: string; title: string; count: number; children: ReactNode; action?: ReactNode }) {
  return (
    <section className="card attention-section" aria-labelledby={id}>
      <header className="attention-head">
        <h2 id={id}>
          {title} <span className="count-pill">{formatCount(count)}</span>
        </h2>
        {action}
      </header>
      {children}
    </section>
  )
}

function KeyRows({ keys, cols }: { keys: KeyView[]; cols: { head: string; cell(k: KeyView): ReactNode }[] }) {
  const openKey = useStore((s) => s.openKey)
  const go = useStore((s) => s.go)
  return (
    <table className="data-table attention-table">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Owner</th>
          {cols.map((c) => (
            <th scope="col" key={c.head}>
              {c.head}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <tr key={k.accessId}>
            <td className="break">
              <button
                type="button"
                className="link-btn"
                onClick={() => {
                  go('keys')
                  openKey(k)
                }}
              >
                {k.name}
              </button>
              <div className="muted small mono">{k.accessId}</div>
            </td>
            <td className="break">{k.owner}</td>
            {cols.map((c) => (
              <td key={c.head}>{c.cell(k)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function RevokeLeakedDialog({ finding, folder, onCancel, onDone }: { finding: ScanFinding; folder: string; onCancel(): void; onDone(): void }) {
  const revokeKeys = useStore((s) => s.revokeKeys)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const reason = leakReason(folder, finding.locations[0] ?? '')
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (busy) return
    setBusy(true)
    setError(null)
    const r = await revokeKeys([finding.accessId], reason)
    setBusy(false)
    if (!r.ok) return setError(r.error.message)
    onDone()
  }
  return (
    <Modal title={`Revoke “${finding.name}”?`} onClose={onCancel} tone="danger">
      <form onSubmit={(e) => void submit(e)} className="form" noValidate>
        <div className="modal-body">
          <p className="lead">
            This key of <strong>{finding.owner}</strong> (hint <span className="mono">{finding.hint}…</span>) was found in {plural(finding.locations.length, 'place')}. It stops
            working at once, for every service that presents it. This cannot be undone: issue a new key for whoever needs one.
          </p>
          <p className="muted small">
            Audit reason: <span className="mono">{reason}</span>
          </p>
          <ErrorCallout text={error} />
        </div>
        <Foot onCancel={onCancel} focusCancel>
          <button type="submit" className="btn btn-danger" disabled={busy}>
            Revoke
          </button>
        </Foot>
      </form>
    </Modal>
  )
}

function ScanResults({ scan, onRevoked }: { scan: ScanOutcome; onRevoked(accessId: string): void }) {
  const [revoking, setRevoking] = useState<ScanFinding | null>(null)
  const notify = useStore((s) => s.notify)
  const st = scan.stats
  const skipped = [st.skippedBinary && `${formatCount(st.skippedBinary)} binary`, st.skippedLarge && `${formatCount(st.skippedLarge)} too large`].filter(Boolean)
  return (
    <section className="card attention-section" aria-labelledby="scan-results">
      <header className="attention-head">
        <h2 id="scan-results">Leak scan of {scan.folder}</h2>
      </header>
      <p className="muted small">
        Scanned {plural(st.files, 'file')}
        {st.blobs ? ` and ${plural(st.blobs, 'history blob')}` : ''}
        {skipped.length ? ` (skipped ${skipped.join(', ')})` : ''}.
      </p>
      {scan.found.length === 0 ? (
        <p className="callout callout-success" role="status">
          <IconCheck />
          <span>No key of this store was found{scan.unknown.length ? `; ${plural(scan.unknown.length, 'key')} of another store or a purged key also turned up` : ''}.</span>
        </p>
      ) : (
        <ul className="leak-list" aria-label="Keys found">
          {scan.found.map((f) => (
            <li key={`${f.accessId}/${f.previous}`} className={`leak${f.live ? ' leak-live' : ''}`}>
              <div className="leak-main">
                <strong>{f.name}</strong> <span className="muted">· {f.owner}</span>{' '}
                <span className={`badge ${f.live ? 'badge-danger' : 'badge-muted'}`}>{f.live ? 'Live' : f.status === 'revoked' ? 'Revoked' : 'Not live'}</span>
                {f.previous && <span className="muted small"> previous secret</span>}
                <div className="muted small">
                  Hint <span className="mono">{f.hint}…</span> · found at
                </div>
                <ul className="mono small leak-locations">
                  {f.locations.slice(0, 20).map((l) => (
                    <li key={l}>{l}</li>
                  ))}
                  {f.locations.length > 20 && <li>…and {f.locations.length - 20} more</li>}
                </ul>
              </div>
              {f.live && f.status === 'active' && (
                <button type="button" className="btn btn-danger btn-sm" aria-label={`Revoke ${f.name}`} onClick={() => setRevoking(f)}>
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {revoking && scan.folder && (
        <RevokeLeakedDialog
          finding={revoking}
          folder={scan.folder}
          onCancel={() => setRevoking(null)}
          onDone={() => {
            notify('success', `Revoked “${revoking.name}”.`)
            onRevoked(revoking.accessId)
            setRevoking(null)
          }}
        />
      )}
    </section>
  )
}

export function AttentionScreen() {
  const down = useStore((s) => storeDown(s.health, s.healthError))
  const { notify, replaceFilters, openDialog, dialog, go } = useStore(
    useShallow((s) => ({ notify: s.notify, replaceFilters: s.replaceFilters, openDialog: s.openDialog, dialog: s.dialog, go: s.go })),
  )
  const [view, setView] = useState<AttentionView | null>(null)
  const [error, setError] = useState<BridgeError | null>(null)
  const [scan, setScan] = useState<ScanOutcome | null>(null)
  const [scanning, setScanning] = useState(false)
  const [withGit, setWithGit] = useState(false)

  const load = useCallback(async () => {
    const r = await call('attentionList', {})
    if (r.ok) {
      setView(r.value)
      setError(null)
    } else setError(r.error)
  }, [])
  useEffect(() => {
    void load()
  }, [load])
  // A dialog opened from here (bulk revoke) closed: the lists may have changed.
  const hadDialog = useRef(false)
  useEffect(() => {
    if (dialog) hadDialog.current = true
    else if (hadDialog.current) {
      hadDialog.current = false
      void load()
    }
  }, [dialog, load])

  const saveReport = async () => {
    const r = await call('reportSave', {})
    if (!r.ok) notify('error', r.error.message)
    else if (r.value.saved) notify('success', `Credential report saved to ${r.value.path}.`)
  }
  const runScan = async () => {
    setScanning(true)
    const r = await call('scanFolder', withGit ? { git: true } : {})
    setScanning(false)
    if (!r.ok) return notify('error', r.error.message)
    if (r.value.scanned) setScan(r.value)
  }
  const staleQuery = (days: number) => ({ unusedForDays: days })

  return (
    <div className="screen">
      <header className="screen-head">
        <div>
          <h1 tabIndex={-1} data-screen-heading>
            Needs attention
          </h1>
          <p className="subtitle">Keys about to expire, keys nobody uses, keys edited outside KeyDesk, and keys that leaked into files.</p>
        </div>
        <div className="head-actions">
          <button type="button" className="btn btn-ghost" disabled={down} onClick={() => void saveReport()}>
            <IconDownload />
            Credential report
          </button>
          <label className="toggle">
            <input type="checkbox" checked={withGit} onChange={(e) => setWithGit(e.target.checked)} />
            <span>Include git history</span>
          </label>
          <button type="button" className="btn btn-secondary" disabled={down || scanning} onClick={() => void runScan()}>
            <IconFolder />
            {scanning ? 'Scanning…' : 'Scan a folder for leaked keys'}
          </button>
        </div>
      </header>
      {down ? (
        <StoreDown what="This view" />
      ) : error ? (
        <div className="callout callout-danger" role="alert">
          <IconWarning />
          <div>{error.message}</div>
        </div>
      ) : (
        <>
          {scan && (
            <ScanResults
              scan={scan}
              onRevoked={(id) => {
                setScan({ ...scan, found: scan.found.map((f) => (f.accessId === id ? { ...f, live: false, status: 'revoked' } : f)), live: scan.found.some((f) => f.live && f.accessId !== id) })
                void load()
              }}
            />
          )}
          {view === null ? (
            <p className="muted" role="status">
              Loading…
            </p>
          ) : (
            <>
              <Section id="attention-expiring" title={`Expiring within ${Math.max(...view.reminderDays)} days`} count={view.expiringTotal}>
                {view.expiring.length === 0 ? (
                  <p className="muted">No active key expires within {Math.max(...view.reminderDays)} days.</p>
                ) : (
                  <KeyRows
                    keys={view.expiring}
                    cols={[
                      { head: 'Expires', cell: (k) => <span title={relativeTime(k.expiresAt, Date.parse(view.at))}>{formatDateTime(k.expiresAt)}</span> },
                      {
                        head: 'Days left',
                        cell: (k) => (
                          <span className={daysLeft(k, view.at) <= 7 ? 'warn' : undefined}>
                            <IconClock className="icon icon-sm" /> {daysLeft(k, view.at)}
                          </span>
                        ),
                      },
                    ]}
                  />
                )}
              </Section>
              <Section
                id="attention-stale"
                title={view.staleAfterDays > 0 ? `Unused for ${view.staleAfterDays} days or more` : 'Stale keys'}
                count={view.staleTotal}
                action={
                  view.staleTotal > 0 && (
                    <div className="head-actions">
                      <button
                        type="button"
                        className="btn btn-ghost btn-sm"
                        onClick={() => {
                          replaceFilters(staleQuery(view.staleAfterDays))
                          go('keys')
                        }}
                      >
                        Show in Keys
                      </button>
                      <button
                        type="button"
                        className="btn btn-danger btn-sm"
                        onClick={() => {
                          // The Keys screen's counted "revoke all matching" flow, on the stale filter.
                          replaceFilters(staleQuery(view.staleAfterDays))
                          openDialog({ type: 'revokeMatching', count: view.staleTotal })
                        }}
                      >
                        Revoke {plural(view.staleTotal, 'stale key')}…
                      </button>
                    </div>
                  )
                }
              >
                {view.staleAfterDays === 0 ? (
                  <p className="muted">The policy does not flag stale keys (stale-after-days is 0).</p>
                ) : view.stale.length === 0 ? (
                  <p className="muted">Every active key was used within {view.staleAfterDays} days.</p>
                ) : (
                  <KeyRows keys={view.stale} cols={[{ head: 'Last used', cell: (k) => (k.lastUsedAt ? relativeTime(k.lastUsedAt, Date.parse(view.at)) : `never (created ${relativeTime(k.createdAt, Date.parse(view.at))})`) }]} />
                )}
              </Section>
              <Section id="attention-tampered" title="Edited outside KeyDesk" count={view.tamperedTotal}>
                {view.tampered.length === 0 ? (
                  <p className="muted">No key row fails its integrity check.</p>
                ) : (
                  <KeyRows keys={view.tampered} cols={[{ head: 'Status', cell: () => <span className="badge badge-danger">Tampered</span> }]} />
                )}
              </Section>
            </>
          )}
        </>
      )}
    </div>
  )
}
