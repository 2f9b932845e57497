import { useEffect, useRef, type MouseEvent } from 'react'
import { useShallow } from 'zustand/react/shallow'
import { DialogHost } from './components/DialogHost'
import { IconKey, IconList, IconShield, IconUsers, IconWarning, IconX, IconCheck, IconRefresh, IconClock, IconSliders } from './components/icons'
import { AuditScreen } from './screens/AuditScreen'
import { AttentionScreen } from './screens/AttentionScreen' // issue 13
import { KeysScreen, SEARCH_ID } from './screens/KeysScreen'
import { OwnersScreen } from './screens/OwnersScreen'
import { PolicyScreen } from './screens/PolicyScreen'
import { SettingsScreen } from './screens/SettingsScreen'
import { useStore } from './store'
import type { Screen } from './store/ui'

const NAV: { screen: Screen; label: string; Icon: typeof IconKey }[] = [
  { screen: 'keys', label: 'Keys', Icon: IconKey },
  { screen: 'attention', label: 'Needs attention', Icon: IconClock },
  { screen: 'owners', label: 'Owners', Icon: IconUsers },
  { screen: 'policy', label: 'Policy', Icon: IconShield },
  { screen: 'audit', label: 'Audit log', Icon: IconList },
  { screen: 'settings', label: 'Settings', Icon: IconSliders },
]

function advice(kind: string | undefined): string {
  switch (kind) {
    case 'keychain_unavailable':
      return 'Unlock your login keyring (or start your desktop’s Secret Service), then check again. KeyDesk never falls back to keeping secrets in plain text. For a team database, its secret must be in your keychain (keydesk team join), or choose another store under Settings.'
    case 'store_unavailable':
      return 'When the file or folder is fixed, or a backup is restored in its place, choose Check again. KeyDesk never changes a store it cannot read. To use another store (this computer or a team database), go to Settings.'
    case 'tampered':
      return 'The store was edited outside KeyDesk. Keep a copy of the data folder for investigation and restore a trusted backup.'
    default:
      return 'Restart KeyDesk. If it persists, run “keydesk health” in a terminal for details.'
  }
}

/** What still works while the store is down, said only where it is true. */
function stillWorks(kind: string | undefined): string {
  switch (kind) {
    case 'keychain_unavailable':
      return 'Nothing in the store was changed. Keys already issued are as they were, and a keydesk serve that is already running keeps verifying them.'
    case 'tampered':
      return 'Nothing was changed by KeyDesk. Keys whose records were edited never verify; the others are as they were.'
    default:
      return 'Keys already issued are not touched by this window, and a keydesk serve that is already running is not stopped by it; “keydesk health” in a terminal shows what the store looks like from there.'
  }
}

function HealthBanner() {
  const { health, healthError, loadHealth } = useStore(useShallow((s) => ({ health: s.health, healthError: s.healthError, loadHealth: s.loadHealth })))
  const recheck = async () => {
    await loadHealth()
    const s = useStore.getState()
    void s.loadKeys()
    void s.loadSummary()
    void s.loadPolicy()
    if (s.owners !== null) void s.loadOwners()
  }
  let title: string | null = null
  let message = ''
  let kind: string | undefined
  if (healthError) {
    title = 'KeyDesk cannot reach its key store.'
    message = healthError.message
    kind = healthError.kind
  } else if (health && !health.ok) {
    title = 'The key store cannot be used.'
    message = health.problem?.message ?? 'The key store could not be opened.'
    kind = health.problem?.kind
  } else if (health && health.keychain !== 'ok') {
    title = 'The OS keychain is unavailable.'
    message = health.problem?.message ?? 'KeyDesk cannot read its key from the OS keychain.'
    kind = 'keychain_unavailable'
  }
  if (!title) return null
  return (
    <div className="health-alert" role="alert">
      <IconWarning className="icon health-icon" />
      <div className="health-text">
        <p>
          <strong>{title}</strong> Until it is fixed, issuing, resetting, revoking and editing keys are off, and keys, owners, policy and the audit log
          cannot be shown.
        </p>
        <p>{message}</p>
        <p>
          <strong>Still works:</strong> {stillWorks(kind)}
        </p>
        <p className="health-advice">{advice(kind)}</p>
        {health?.dataDir && (
          <p className="health-path">
            Data folder: <span className="mono">{health.dataDir}</span>
          </p>
        )}
      </div>
      <button type="button" className="btn btn-on-danger" onClick={() => void recheck()}>
        <IconRefresh />
        Check again
      </button>
    </div>
  )
}

/** The end of a long path (the part that tells stores apart); the whole path is in the tooltip. */
function shortPath(p: string, max = 24): string {
  return p.length <= max ? p : `…${p.slice(p.length - max + 1)}`
}

function StoreInfo() {
  const health = useStore((s) => s.health)
  if (!health) return null
  const ok = health.ok && health.keychain === 'ok'
  return (
    <div className="store-info" title={`${ok ? 'Store and keychain OK' : 'Store needs attention'} · ${health.dbPath ?? health.dataDir}`}>
      <p className={`store-state ${ok ? 'ok' : 'bad'}`}>
        {ok ? <IconCheck className="icon icon-sm" /> : <IconWarning className="icon icon-sm" />}
        <span className="store-state-text">{ok ? 'Store and keychain OK' : 'Store needs attention'}</span>
      </p>
      <p className="store-path mono" title={health.dbPath ?? health.dataDir}>
        {shortPath(health.dbPath ?? health.dataDir)}
      </p>
      <p className="muted store-actor">
        {health.actor}
        {health.schemaVersion !== null ? ` · schema v${health.schemaVersion}` : ''}
      </p>
    </div>
  )
}

function Notice() {
  const notice = useStore((s) => s.notice)
  const dismiss = useStore((s) => s.dismissNotice)
  useEffect(() => {
    if (!notice || notice.tone === 'error') return
    const t = setTimeout(dismiss, 6000)
    return () => clearTimeout(t)
  }, [notice, dismiss])
  return (
    <div className="toast-region" role="status" aria-live="polite">
      {notice && (
        <div className={`toast toast-${notice.tone}`} key={notice.id}>
          {notice.tone === 'error' ? <IconWarning /> : <IconCheck />}
          <span>{notice.text}</span>
          <button type="button" className="icon-btn" aria-label="Dismiss" onClick={dismiss}>
            <IconX />
          </button>
        </div>
      )}
    </div>
  )
}

export function App() {
  const { screen, go } = useStore(useShallow((s) => ({ screen: s.screen, go: s.go })))
  const mainRef = useRef<HTMLElement>(null)
  const first = useRef(true)

  useEffect(() => {
    const s = useStore.getState()
    void s.loadHealth()
    void s.loadPolicy()
  }, [])

  // Moving to another screen puts focus on its heading, so keyboard and screen-reader users land at the top.
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    mainRef.current?.querySelector<HTMLElement>('[data-screen-heading]')?.focus()
  }, [screen])

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return
      const t = e.target as HTMLElement | null
      if (t && (t.closest('input, textarea, select, [contenteditable="true"]') || t.closest('dialog'))) return
      if (useStore.getState().dialog) return
      e.preventDefault()
      const search = document.getElementById(SEARCH_ID)
      if (search) return search.focus()
      useStore.getState().go('keys')
      requestAnimationFrame(() => document.getElementById(SEARCH_ID)?.focus())
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [])

  const nav = (e: MouseEvent, to: Screen) => {
    e.preventDefault()
    go(to)
  }

  return (
    <div className="app">
      <a className="skip-link" href="#main" onClick={(e) => (e.preventDefault(), mainRef.current?.querySelector<HTMLElement>('[data-screen-heading]')?.focus())}>
        Skip to content
      </a>
      <HealthBanner />
      <div className="shell">
        <aside className="sidebar">
          <div className="brand">
            <span className="brand-mark" aria-hidden="true">
              <IconKey />
            </span>
            <span className="brand-name">KeyDesk</span>
          </div>
          <nav aria-label="Main">
            <ul>
              {NAV.map(({ screen: s, label, Icon }) => (
                <li key={s}>
                  <a
                    href={`#${s}`}
                    className={`nav-link${screen === s ? ' active' : ''}`}
                    aria-current={screen === s ? 'page' : undefined}
                    title={label}
                    onClick={(e) => nav(e, s)}
                  >
                    <Icon />
                    <span className="nav-label">{label}</span>
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <StoreInfo />
        </aside>
        <main id="main" ref={mainRef} className="main">
          {screen === 'keys' && <KeysScreen />}
          {screen === 'owners' && <OwnersScreen />}
          {screen === 'policy' && <PolicyScreen />}
          {screen === 'audit' && <AuditScreen />}
          {screen === 'attention' && <AttentionScreen />}
          {screen === 'settings' && <SettingsScreen />}
        </main>
      </div>
      <DialogHost />
      <Notice />
    </div>
  )
}
