/**
 * Settings: the Store (where KeyDesk keeps its keys). The local SQLite file on this
 * computer (the default) or a team database on PostgreSQL; a choice is tested
 * before it is saved, and saving switches the whole window to that store.
 *
 * The database password lives only in this component's state while it is typed,
 * goes to main once per Test or Save (main keeps it in the OS keychain, never in a
 * file) and is cleared after a save.
 */
import { useEffect, useState, type FormEvent } from 'react'
import { useShallow } from 'zustand/react/shallow'
import type { StoreSettingsView } from '../../../shared/contract'
import { splitStoreUrl } from '../../../shared/store-url'
import { Field, useFieldIds } from '../components/Field'
import { IconCheck, IconDatabase, IconInfo, IconLaptop, IconWarning } from '../components/icons'
import { useStore } from '../store'
import type { StoreChoice } from '../store/storeSettings'
import '../styles/settings.css'

type Kind = 'local' | 'team'
type Errors = Partial<Record<'url' | 'password', string>>
type Outcome = { tone: 'ok' | 'error' | 'busy'; text: string } | null

const URL_PLACEHOLDER = 'postgres://alice@db.example.com:5432/keydesk'

function CurrentStore({ settings }: { settings: StoreSettingsView }) {
  const health = useStore((s) => s.health)
  const { engine } = settings
  const Icon = engine === 'postgres' ? IconDatabase : IconLaptop
  const what = engine === 'postgres' ? 'Team database (PostgreSQL)' : engine === 'sqlite' ? 'This computer (SQLite file)' : 'No store is open'
  const where =
    engine === 'postgres'
      ? (settings.url ?? health?.dbPath ?? '')
      : engine === 'sqlite'
        ? (health?.dbPath ?? settings.dataDir)
        : settings.kind === 'team'
          ? (settings.url ?? '')
          : settings.dataDir
  return (
    <div className={`store-now${engine === null ? ' store-now-down' : ''}`}>
      {engine === null ? <IconWarning className="icon store-now-icon" /> : <Icon className="icon store-now-icon" />}
      <dl>
        <div>
          <dt>In use now</dt>
          <dd className="store-now-what">{what}</dd>
        </div>
        <div>
          <dt>{engine === null ? (settings.kind === 'team' ? 'Chosen team database' : 'Chosen folder') : 'Location'}</dt>
          <dd className="mono break">{where}</dd>
        </div>
        {settings.storeId && (
          <div>
            <dt>Store ID</dt>
            <dd className="mono break">{settings.storeId}</dd>
          </div>
        )}
      </dl>
      {engine === null && <p className="store-now-note">The message at the top of the window says why it could not be opened. Choose another store below, or fix it and choose “Check again”.</p>}
    </div>
  )
}

function StoreForm({ settings }: { settings: StoreSettingsView | null }) {
  const { testStore, saveStore } = useStore(useShallow((s) => ({ testStore: s.testStore, saveStore: s.saveStore })))
  const [kind, setKind] = useState<Kind>(settings?.kind ?? 'local')
  const [url, setUrl] = useState(settings?.url ?? '')
  // The password: here only, never in the app store; cleared after a save.
  const [password, setPassword] = useState('')
  const [errors, setErrors] = useState<Errors>({})
  const [moved, setMoved] = useState(false)
  const [outcome, setOutcome] = useState<Outcome>(null)
  const [busy, setBusy] = useState<'test' | 'save' | null>(null)

  useEffect(() => {
    if (!settings) return
    setKind(settings.kind)
    // Back on this computer, the team URL typed before stays in the field for next time.
    setUrl((u) => settings.url ?? u)
  }, [settings])

  const urlIds = useFieldIds(true, errors.url)
  const pwIds = useFieldIds(true, errors.password)

  const edited = () => {
    setOutcome(null)
    setErrors({})
  }

  /** The URL rule (src/shared/store-url.ts): a password typed into the URL moves to the password field. */
  const takePasswordOut = (): { url: string; password: string } | null => {
    const split = splitStoreUrl(url, password || null)
    if (!split.ok) {
      setErrors({ [split.field]: split.message })
      return null
    }
    if (split.url !== url.trim() || (split.password !== null && password === '')) {
      if (split.password !== null && password === '') setMoved(true)
      setUrl(split.url)
      setPassword(split.password ?? '')
    }
    return { url: split.url, password: split.password ?? '' }
  }

  const choice = (): StoreChoice | null => {
    if (kind === 'local') return { kind: 'local' }
    const t = takePasswordOut()
    if (!t) return null
    return { kind: 'team', url: t.url, ...(t.password ? { password: t.password } : {}) }
  }

  const answerError = (e: { message: string; field?: string }) => {
    if (e.field === 'url' || e.field === 'password') setErrors({ [e.field]: e.message })
    else setOutcome({ tone: 'error', text: e.message })
  }

  const test = async () => {
    const c = choice()
    if (!c) return
    setBusy('test')
    setOutcome({ tone: 'busy', text: c.kind === 'team' ? 'Connecting to the team database…' : 'Opening the store on this computer…' })
    const r = await testStore(c)
    setBusy(null)
    if (!r.ok) {
      setOutcome(null)
      return answerError(r.error)
    }
    setOutcome({ tone: r.value.ok ? 'ok' : 'error', text: r.value.message })
  }

  const save = async (e: FormEvent) => {
    e.preventDefault()
    const c = choice()
    if (!c) return
    setBusy('save')
    setOutcome({ tone: 'busy', text: c.kind === 'team' ? 'Testing the team database and switching to it…' : 'Switching to the store on this computer…' })
    const r = await saveStore(c)
    setBusy(null)
    if (!r.ok) {
      setOutcome(null)
      return answerError(r.error)
    }
    setPassword('')
    setMoved(false)
    setOutcome({
      tone: 'ok',
      text:
        r.value.kind === 'team'
          ? `Saved. KeyDesk now uses the team database ${r.value.url ?? ''}${r.value.passwordSaved ? '; its password is in the OS keychain' : ''}.`
          : 'Saved. KeyDesk now uses the store on this computer.',
    })
  }

  // Saving the store already open changes nothing; saving the one that failed to open tries it again.
  const sameAsSaved = settings !== null && settings.engine !== null && kind === settings.kind && (kind === 'local' || (url.trim() === settings.url && password === ''))
  const keepsSavedPassword = settings?.passwordSaved === true && kind === 'team' && url.trim() === settings.url && password === ''

  return (
    <form className="store-form" onSubmit={(e) => void save(e)} noValidate>
      <fieldset className="store-choices">
        <legend className="field-label">Keep keys on</legend>
        <div className={`store-choice${kind === 'local' ? ' checked' : ''}`}>
          <label>
            <input
              type="radio"
              name="store-kind"
              value="local"
              checked={kind === 'local'}
              onChange={() => (setKind('local'), edited())}
              aria-describedby="store-local-hint"
            />
            <IconLaptop className="icon store-choice-icon" />
            <span className="store-choice-title">This computer</span>
          </label>
          <p id="store-local-hint" className="store-choice-hint">
            A file in <span className="mono break">{settings?.dataDir ?? 'the app’s data folder'}</span>. Only you use it; nothing to set up.
          </p>
        </div>
        <div className={`store-choice${kind === 'team' ? ' checked' : ''}`}>
          <label>
            <input
              type="radio"
              name="store-kind"
              value="team"
              checked={kind === 'team'}
              onChange={() => (setKind('team'), edited())}
              aria-describedby="store-team-hint"
            />
            <IconDatabase className="icon store-choice-icon" />
            <span className="store-choice-title">Team database</span>
          </label>
          <p id="store-team-hint" className="store-choice-hint">
            A PostgreSQL database several admins share. Its secret must already be in your OS keychain: <code>keydesk team join</code> puts it there.
          </p>
        </div>
      </fieldset>

      {kind === 'team' && (
        <div className="store-fields">
          <Field
            label="Team database URL"
            ids={urlIds}
            error={errors.url}
            hint={moved ? 'The password was taken out of the URL and put in the password field; it is kept in the OS keychain, never in a file.' : 'postgres://user@host:port/database, as for keydesk --store.'}
          >
            <input
              id={urlIds.id}
              aria-describedby={urlIds['aria-describedby']}
              aria-invalid={urlIds['aria-invalid']}
              className="input mono-input"
              inputMode="url"
              autoComplete="off"
              spellCheck={false}
              placeholder={URL_PLACEHOLDER}
              value={url}
              onChange={(e) => (setUrl(e.target.value), setMoved(false), edited())}
              onBlur={() => {
                const s = splitStoreUrl(url, password || null)
                if (s.ok && s.password !== null && password === '') takePasswordOut()
              }}
            />
          </Field>
          <Field
            label="Database password"
            optional
            className="store-password-field"
            ids={pwIds}
            error={errors.password}
            hint={
              keepsSavedPassword
                ? 'A password for this database is saved in the OS keychain; leave this empty to keep it.'
                : 'Kept in the OS keychain, never in a file, and forgotten when you switch stores. Leave empty if none is needed.'
            }
          >
            <input
              id={pwIds.id}
              aria-describedby={pwIds['aria-describedby']}
              aria-invalid={pwIds['aria-invalid']}
              className="input"
              type="password"
              autoComplete="new-password"
              value={password}
              onChange={(e) => (setPassword(e.target.value), edited())}
            />
          </Field>
        </div>
      )}

      <div className="store-actions">
        <button type="button" className="btn btn-secondary" disabled={busy !== null} onClick={() => void test()}>
          Test connection
        </button>
        <button type="submit" className="btn btn-primary" disabled={busy !== null || sameAsSaved} title={sameAsSaved ? 'This store is already in use.' : undefined}>
          Save store
        </button>
        <p className={`store-result${outcome ? ` store-result-${outcome.tone}` : ''}`} role="status" aria-live="polite">
          {outcome?.tone === 'ok' && <IconCheck />}
          {outcome?.tone === 'error' && <IconWarning />}
          {outcome?.tone === 'busy' && <IconInfo />}
          {outcome && <span>{outcome.text}</span>}
        </p>
      </div>
    </form>
  )
}

export function SettingsScreen() {
  const { settings, error, load } = useStore(useShallow((s) => ({ settings: s.storeSettings, error: s.storeSettingsError, load: s.loadStoreSettings })))
  useEffect(() => {
    void load()
  }, [load])
  return (
    <div className="screen screen-settings">
      <header className="screen-head">
        <div>
          <h1 tabIndex={-1} data-screen-heading>
            Settings
          </h1>
          <p className="subtitle">Where this window keeps and finds its keys.</p>
        </div>
      </header>
      <section className="card store-card" aria-labelledby="store-title">
        <h2 id="store-title" className="card-title">
          Store
        </h2>
        <p className="muted store-intro">
          One admin keeps keys on this computer. A team keeps them in a shared database, and each admin’s KeyDesk connects to it. A choice is tested before it is
          saved; saving switches this window to that store.
        </p>
        {error && (
          <div className="callout callout-danger" role="alert">
            <IconWarning />
            <div>{error.message}</div>
          </div>
        )}
        {settings && <CurrentStore settings={settings} />}
        {settings || error ? <StoreForm settings={settings} /> : <p className="muted">Loading…</p>}
      </section>
    </div>
  )
}
