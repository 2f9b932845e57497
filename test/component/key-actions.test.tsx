/**
 * Per-key actions: the Edit API key dialog (only changed fields are sent, store
 * errors land at their field), the scopes picker (scopes in use suggested, new
 * ones typed), disable/enable from the details, the success toasts, and Esc on
 * a filled create form asking before it discards.
 */
import { act, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { DialogHost } from '../../src/renderer/src/components/DialogHost'
import { KeyDetails } from '../../src/renderer/src/components/KeyDetails'
import { useStore } from '../../src/renderer/src/store'
import { fail, installApi, keyView, ok, oneTimeSecret } from './support'

describe('Edit API key', () => {
  it('sends only what changed, picks scopes in use, and shows the store’s errors at the field', async () => {
    const api = installApi()
    api.scopesInUse.mockResolvedValue(ok(['read:invoices', 'write:events', 'write:payouts']))
    const user = userEvent.setup()
    const k = keyView()
    act(() => useStore.getState().openDialog({ type: 'edit', key: k }))
    render(<DialogHost />)
    const dialog = screen.getByRole('dialog', { name: 'Edit API key' })
    const save = within(dialog).getByRole('button', { name: 'Save changes' }) as HTMLButtonElement
    expect(save.disabled).toBe(true)
    const name = within(dialog).getByRole('textbox', { name: 'Name' })
    expect(document.activeElement).toBe(name)
    await user.clear(name)
    await user.type(name, 'payments/stripe-v2')
    // Suggestions: the scopes live keys use; pressed = already on this key.
    const picker = await within(dialog).findByRole('group', { name: 'Scopes in use' })
    expect(within(picker).getByRole('button', { name: /read:invoices/ }).getAttribute('aria-pressed')).toBe('true')
    await user.click(within(picker).getByRole('button', { name: /write:events/ }))
    const scopes = within(dialog).getByRole('textbox', { name: 'Scopes' }) as HTMLInputElement
    expect(scopes.value.trim()).toBe('read:invoices write:payouts write:events')
    // A new scope nobody uses yet is still accepted as typed.
    await user.type(scopes, 'admin:refunds')
    api.keysUpdate.mockResolvedValueOnce(fail('conflict', 'Owner "ci-bot" already has a live key named "payments/stripe-v2".', 'name'))
    await user.click(save)
    expect(api.keysUpdate).toHaveBeenCalledWith({
      accessId: k.accessId,
      name: 'payments/stripe-v2',
      scopes: ['read:invoices', 'write:payouts', 'write:events', 'admin:refunds'],
    })
    expect(name.getAttribute('aria-invalid')).toBe('true')
    expect(document.activeElement).toBe(name)
    await user.type(name, '-b')
    api.keysUpdate.mockResolvedValueOnce(ok({ ...k, name: 'payments/stripe-v2-b' }))
    await user.click(save)
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(useStore.getState().notice?.text).toBe('Saved 2 changes to “payments/stripe-v2-b”.')
  })
})

describe('Key details: disable and enable', () => {
  it('Disable key switches it off (status Disabled), Enable key back on; focus stays on the button', async () => {
    const api = installApi()
    const user = userEvent.setup()
    const k = keyView()
    act(() => useStore.getState().openKey(k))
    render(<KeyDetails />)
    const details = screen.getByRole('region', { name: 'Key details' })
    expect(within(details).getByRole('button', { name: 'Edit key' })).toBeTruthy()
    api.keysDisable.mockResolvedValueOnce(ok({ ...k, status: 'disabled', disabledAt: new Date().toISOString() }))
    const button = within(details).getByRole('button', { name: 'Disable key' })
    await user.click(button)
    expect(api.keysDisable).toHaveBeenCalledWith({ accessId: k.accessId })
    await waitFor(() => expect(within(details).getByRole('button', { name: 'Enable key' })).toBeTruthy())
    expect(document.activeElement).toBe(within(details).getByRole('button', { name: 'Enable key' }))
    expect(within(details).getAllByText('Disabled').length).toBeGreaterThan(0)
    expect(useStore.getState().notice?.text).toContain('does not verify until you enable it')
    api.keysEnable.mockResolvedValueOnce(ok(k))
    await user.click(within(details).getByRole('button', { name: 'Enable key' }))
    expect(api.keysEnable).toHaveBeenCalledWith({ accessId: k.accessId })
    await waitFor(() => expect(within(details).getByRole('button', { name: 'Disable key' })).toBeTruthy())
  })
})

describe('Create: Esc on a filled form, and the success toast', () => {
  it('asks before discarding what was typed; an empty form closes at once', async () => {
    const api = installApi()
    api.scopesInUse.mockResolvedValue(ok([]))
    const user = userEvent.setup()
    act(() => useStore.getState().openDialog({ type: 'create' }))
    render(<DialogHost />)
    const dialog = screen.getByRole('dialog', { name: 'Create API key' })
    const name = within(dialog).getByRole('textbox', { name: 'Name' })
    await user.type(name, 'half-typed')
    await user.keyboard('{Escape}')
    const ask = within(dialog).getByRole('alertdialog', { name: 'Discard this new key?' })
    expect(document.activeElement).toBe(within(ask).getByRole('button', { name: 'Keep editing' }))
    await user.click(within(ask).getByRole('button', { name: 'Keep editing' }))
    expect(screen.getByRole('dialog', { name: 'Create API key' })).toBeTruthy()
    await waitFor(() => expect(document.activeElement).toBe(name))
    await user.keyboard('{Escape}')
    await user.click(within(dialog).getByRole('button', { name: 'Discard' }))
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('after the one-time panel closes, a toast says the key was created', async () => {
    const api = installApi()
    api.scopesInUse.mockResolvedValue(ok([]))
    const user = userEvent.setup()
    act(() => useStore.getState().openDialog({ type: 'create' }))
    render(<DialogHost />)
    api.keysCreate.mockResolvedValueOnce(ok(oneTimeSecret()))
    await user.click(screen.getByRole('button', { name: 'Create key' }))
    const panel = await screen.findByRole('dialog', { name: 'Save your access key' })
    expect(within(panel).getByRole('button', { name: 'Copy access ID' })).toBeTruthy()
    await user.click(within(panel).getByRole('checkbox', { name: 'I have saved this access key' }))
    await user.click(within(panel).getByRole('button', { name: 'Done' }))
    expect(useStore.getState().notice?.text).toMatch(/^Created “deploy-bot” for alice\./)
  })
})
