import { act, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { DialogHost } from '../../src/renderer/src/components/DialogHost'
import { expiryDateBounds } from '../../src/renderer/src/lib/format'
import { useStore } from '../../src/renderer/src/store'
import { fail, installApi, ok, oneTimeSecret, owner, POLICY } from './support'

function openCreate() {
  act(() => useStore.getState().openDialog({ type: 'create' }))
  const utils = render(<DialogHost />)
  const dialog = screen.getByRole('dialog', { name: 'Create API key' })
  return { ...utils, dialog }
}

/** The error shown for a control: the element its aria-describedby points at that holds the error. */
function errorOf(control: HTMLElement): string | null {
  const ids = (control.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean)
  for (const id of ids) {
    const el = document.getElementById(id)
    if (el?.classList.contains('field-error')) return el.textContent
  }
  return null
}

describe('Create API key dialog', () => {
  it('shows a name error at the Name field as the admin types, and clears it when fixed', async () => {
    const api = installApi()
    const user = userEvent.setup()
    const { dialog } = openCreate()
    const name = within(dialog).getByRole('textbox', { name: 'Name' })
    expect(document.activeElement).toBe(name)

    await user.type(name, '=SUM(A1)')
    expect(name.getAttribute('aria-invalid')).toBe('true')
    expect(errorOf(name)).toMatch(/must not begin with =, \+, -, @/)
    // The error sits inside the Name field's own frame, not in a banner.
    expect(name.closest('.field')!.textContent).toContain('must not begin with')

    await user.clear(name)
    await user.type(name, 'payments//webhook')
    expect(errorOf(name)).toMatch(/empty folder segment/)

    await user.clear(name)
    await user.type(name, 'payments/webhook')
    expect(name.getAttribute('aria-invalid')).toBeNull()
    expect(errorOf(name)).toBeNull()

    // A bad scope blocks the submit and is shown at the Scopes field.
    const scopes = within(dialog).getByRole('textbox', { name: 'Scopes' })
    await user.type(scopes, 'read:invoices bad!scope')
    expect(errorOf(scopes)).toMatch(/Scope "bad!scope" is not valid/)
    await user.click(within(dialog).getByRole('button', { name: 'Create key' }))
    expect(api.keysCreate).not.toHaveBeenCalled()
    expect(document.activeElement).toBe(scopes)
  })

  it('puts the store’s field errors at the field they name (name conflict, then owner cap)', async () => {
    const api = installApi()
    const user = userEvent.setup()
    const { dialog } = openCreate()
    api.keysCreate.mockResolvedValueOnce(fail('conflict', 'Owner "ci-bot" already has a live key named "deploy"; names are unique per owner until the key is revoked or expires.', 'name'))
    const name = within(dialog).getByRole('textbox', { name: 'Name' })
    await user.type(name, 'deploy')
    await user.selectOptions(within(dialog).getByRole('combobox', { name: 'Owner' }), 'ci-bot')
    await user.click(within(dialog).getByRole('button', { name: 'Create key' }))

    expect(api.keysCreate).toHaveBeenCalledTimes(1)
    expect(errorOf(name)).toMatch(/already has a live key named "deploy"/)
    expect(document.activeElement).toBe(name)
    expect(within(dialog).queryByRole('alert')).toBeNull()

    // Editing the field clears the store's error for it.
    await user.type(name, '-2')
    expect(errorOf(name)).toBeNull()

    api.keysCreate.mockResolvedValueOnce(fail('policy', 'Owner "ci-bot" has 100 keys, the policy\'s maximum.', 'owner'))
    await user.click(within(dialog).getByRole('button', { name: 'Create key' }))
    const ownerBox = within(dialog).getByRole('combobox', { name: 'Owner' })
    expect(errorOf(ownerBox)).toMatch(/has 100 keys/)

    // An error that names no field is shown for the whole form.
    api.keysCreate.mockResolvedValueOnce(fail('policy', 'Key creation is turned off by policy (allow-creation = false).'))
    await user.selectOptions(ownerBox, 'alice')
    await user.click(within(dialog).getByRole('button', { name: 'Create key' }))
    expect(within(dialog).getByRole('alert').textContent).toMatch(/turned off by policy/)
  })

  it('offers expiry presets within the policy, defaults to the policy default, and bounds a custom date', async () => {
    const api = installApi({ policy: { ...POLICY, maxKeyAgeDays: 90, defaultExpiryDays: 14 } })
    const user = userEvent.setup()
    const { dialog } = openCreate()
    const expires = within(dialog).getByRole('combobox', { name: 'Expires in' }) as HTMLSelectElement
    const labels = within(expires).getAllByRole('option').map((o) => o.textContent)
    expect(labels).toEqual(['7 days', '14 days', '30 days', '90 days', 'Custom date'])
    expect(expires.value).toBe('14d')
    expect(within(dialog).queryByLabelText('Expiration date')).toBeNull()

    await user.selectOptions(expires, 'Custom date')
    const date = within(dialog).getByLabelText('Expiration date') as HTMLInputElement
    const { min, max } = expiryDateBounds(90)
    expect(date.type).toBe('date')
    expect(date.min).toBe(min)
    expect(date.max).toBe(max)

    // No date yet: submitting shows the error at the date field and sends nothing.
    await user.click(within(dialog).getByRole('button', { name: 'Create key' }))
    expect(errorOf(date)).toMatch(/Choose an expiration date/)
    expect(api.keysCreate).not.toHaveBeenCalled()

    // Past the policy's maximum age.
    const tooLate = new Date(new Date(max + 'T12:00:00').getTime() + 86_400_000)
    const iso = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
    await user.type(date, iso(tooLate))
    expect(errorOf(date)).toMatch(/maximum key age of 90 days/)
    await user.click(within(dialog).getByRole('button', { name: 'Create key' }))
    expect(api.keysCreate).not.toHaveBeenCalled()

    // Before today.
    await user.clear(date)
    await user.type(date, '2001-01-01')
    expect(errorOf(date)).toMatch(/or later/)

    // Within bounds: sent as the end of that local day.
    api.keysCreate.mockResolvedValueOnce(ok(oneTimeSecret()))
    await user.clear(date)
    await user.type(date, max)
    expect(errorOf(date)).toBeNull()
    await user.click(within(dialog).getByRole('button', { name: 'Create key' }))
    expect(api.keysCreate).toHaveBeenCalledTimes(1)
    const input = api.keysCreate.mock.calls[0]![0]
    expect(input.expiresIn).toBeUndefined()
    expect(input.expiresAt).toMatch(new RegExp(`^${max}T23:59:59[+-]\\d{2}:\\d{2}$`))
  })

  it('sends what the admin entered; the owner defaults to the current user (created on first key)', async () => {
    const api = installApi({ owners: [owner('ci-bot')] })
    const user = userEvent.setup()
    const { dialog } = openCreate()
    const ownerBox = within(dialog).getByRole('combobox', { name: 'Owner' }) as HTMLSelectElement
    expect(ownerBox.value).toBe('alice')
    await user.type(within(dialog).getByRole('textbox', { name: 'Name' }), '  billing/exporter ')
    await user.type(within(dialog).getByRole('textbox', { name: 'Scopes' }), 'read:invoices, export')
    await user.type(within(dialog).getByRole('textbox', { name: 'Description' }), 'Nightly export')
    api.keysCreate.mockResolvedValueOnce(ok(oneTimeSecret()))
    await user.click(within(dialog).getByRole('button', { name: 'Create key' }))
    // alice has no owner record yet, so no owner is sent: the store makes the OS user the owner.
    expect(api.keysCreate).toHaveBeenCalledWith({ name: 'billing/exporter', scopes: ['read:invoices', 'export'], description: 'Nightly export', expiresIn: '30d' })
    // The one-time panel replaces the create dialog.
    expect(screen.queryByRole('dialog', { name: 'Create API key' })).toBeNull()
    expect(screen.getByRole('dialog', { name: 'Save your access key' })).toBeTruthy()
  })

  it('Esc closes the dialog and nothing is created', async () => {
    const api = installApi()
    const user = userEvent.setup()
    openCreate()
    await user.keyboard('{Escape}')
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(useStore.getState().dialog).toBeNull()
    expect(api.keysCreate).not.toHaveBeenCalled()
  })
})
