/**
 * Settings → Store with a stubbed bridge: the URL rule at the field before anything
 * is sent, the password taken out of the URL, what Test and Save send, the outcome
 * line, errors at their field, and the password gone from the form (and never in the
 * app store) after a save.
 */
import { render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import type { StoreSettingsView } from '../../src/shared/contract'
import { SettingsScreen } from '../../src/renderer/src/screens/SettingsScreen'
import { useStore } from '../../src/renderer/src/store'
import { fail, installApi, ok } from './support'

const LOCAL: StoreSettingsView = { kind: 'local', url: null, passwordSaved: false, dataDir: '/home/alice/.config/KeyDesk', storeId: 'local-id', engine: 'sqlite' }
const URL = 'postgres://alice@db.example.com:5432/keydesk'
const SECRET = 'hunter2-Zq9'

function setup(view: StoreSettingsView = LOCAL) {
  const api = installApi()
  api.storeSettingsGet.mockResolvedValue(ok(view))
  render(<SettingsScreen />)
  const region = screen.getByRole('region', { name: 'Store' })
  return { api, region, user: userEvent.setup() }
}

describe('Settings → Store', () => {
  it('shows the store in use; Save is off while nothing would change', async () => {
    const { region } = setup()
    expect(await within(region).findByText('This computer (SQLite file)')).toBeTruthy()
    expect((within(region).getByRole('radio', { name: 'This computer' }) as HTMLInputElement).checked).toBe(true)
    expect((within(region).getByRole('button', { name: 'Save store' }) as HTMLButtonElement).disabled).toBe(true)
    expect(within(region).queryByLabelText('Team database URL')).toBeNull()
  })

  it('refuses a URL that is not postgres at the field, without calling main', async () => {
    const { api, region, user } = setup()
    await user.click(await within(region).findByRole('radio', { name: 'Team database' }))
    const url = within(region).getByLabelText('Team database URL')
    await user.type(url, 'https://db.example.com/keydesk')
    await user.click(within(region).getByRole('button', { name: 'Test connection' }))
    expect(url.getAttribute('aria-invalid')).toBe('true')
    expect(within(region).getByText(/must start with postgres:\/\//)).toBeTruthy()
    expect(api.storeSettingsTest).not.toHaveBeenCalled()
    // A field error from main lands at its field too.
    api.storeSettingsTest.mockResolvedValue(fail('invalid_input', 'The URL carries “sslpassword”.', 'url'))
    await user.clear(url)
    await user.type(url, `${URL}?sslmode=require`)
    await user.click(within(region).getByRole('button', { name: 'Test connection' }))
    expect(await within(region).findByText('The URL carries “sslpassword”.')).toBeTruthy()
  })

  it('takes a password out of the URL, tests, saves, and forgets the password', async () => {
    const { api, region, user } = setup()
    await user.click(await within(region).findByRole('radio', { name: 'Team database' }))
    const url = within(region).getByLabelText('Team database URL') as HTMLInputElement
    const password = within(region).getByLabelText('Database password') as HTMLInputElement
    expect(password.type).toBe('password')
    await user.type(url, `postgres://alice:${SECRET}@db.example.com:5432/keydesk`)
    await user.tab() // leaving the field moves the password out of it
    expect(url.value).toBe(URL)
    expect(password.value).toBe(SECRET)

    api.storeSettingsTest.mockResolvedValue(ok({ ok: true, storeId: 'team-id', keys: 12, message: `Connected to the team store at ${URL}: it holds 12 keys.` }))
    await user.click(within(region).getByRole('button', { name: 'Test connection' }))
    expect(api.storeSettingsTest).toHaveBeenCalledWith({ kind: 'team', url: URL, password: SECRET })
    await waitFor(() => expect(within(region).getByRole('status').textContent).toContain('it holds 12 keys'))

    const team: StoreSettingsView = { kind: 'team', url: URL, passwordSaved: true, dataDir: LOCAL.dataDir, storeId: 'team-id', engine: 'postgres' }
    api.storeSettingsSave.mockResolvedValue(ok(team))
    await user.click(within(region).getByRole('button', { name: 'Save store' }))
    expect(api.storeSettingsSave).toHaveBeenCalledWith({ kind: 'team', url: URL, password: SECRET })
    await waitFor(() => expect(within(region).getByRole('status').textContent).toContain(`Saved. KeyDesk now uses the team database ${URL}`))
    expect(password.value).toBe('')
    expect(within(region).getByText('Team database (PostgreSQL)')).toBeTruthy()
    expect(within(region).getByText(/saved in the OS keychain; leave this empty to keep it/)).toBeTruthy()
    // Every view is reloaded from the new store; the password is nowhere in the app store.
    expect(api.health).toHaveBeenCalled()
    expect(api.keysList).toHaveBeenCalled()
    expect(JSON.stringify(useStore.getState())).not.toContain(SECRET)
  })

  it('a failed test or save is said in the status line; nothing switches', async () => {
    const { api, region, user } = setup()
    await user.click(await within(region).findByRole('radio', { name: 'Team database' }))
    await user.type(within(region).getByLabelText('Team database URL'), URL)
    api.storeSettingsTest.mockResolvedValue(ok({ ok: false, message: 'The team database at postgres://alice@db.example.com:5432/keydesk cannot be reached (ECONNREFUSED); nothing was changed.' }))
    await user.click(within(region).getByRole('button', { name: 'Test connection' }))
    await waitFor(() => expect(within(region).getByRole('status').textContent).toMatch(/cannot be reached/))
    api.storeSettingsSave.mockResolvedValue(fail('keychain_unavailable', 'The OS keychain has no entry for the key store at postgres://alice@db.example.com:5432/keydesk.'))
    await user.click(within(region).getByRole('button', { name: 'Save store' }))
    await waitFor(() => expect(within(region).getByRole('status').textContent).toMatch(/no entry for the key store/))
    expect(within(region).getByText('This computer (SQLite file)')).toBeTruthy()
    expect(useStore.getState().storeSettings).toEqual(LOCAL)
  })
})
