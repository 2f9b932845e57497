import { act, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { DialogHost } from '../../src/renderer/src/components/DialogHost'
import { useStore } from '../../src/renderer/src/store'
import { fail, installApi, keyView, ok, oneTimeSecret, owner } from './support'

describe('Reset access key dialog', () => {
  it('shows the impact and enables the button only on an exact match of the name (case and spacing count)', async () => {
    const api = installApi()
    const user = userEvent.setup()
    const k = keyView({ name: 'payments/Stripe webhook' })
    act(() => useStore.getState().openDialog({ type: 'reset', key: k }))
    render(<DialogHost />)
    const dialog = screen.getByRole('dialog', { name: 'Reset access key' })
    // Impact: name, owner, scopes, last used.
    const impact = dialog.querySelector('dl.impact')!
    expect(impact.textContent).toContain('payments/Stripe webhook')
    expect(impact.textContent).toContain('ci-bot')
    expect(impact.textContent).toContain('read:invoices')
    expect(impact.textContent).toMatch(/Last used.*3 hours ago/)

    const box = within(dialog).getByRole('textbox', { name: 'Type the key name to confirm' })
    const button = within(dialog).getByRole('button', { name: 'Reset access key' }) as HTMLButtonElement
    // The grace choice comes first (focused, before the name field) and follows use: used 3 hours ago → 24 hours.
    const grace = within(dialog).getByRole('combobox', { name: 'Old access key keeps working for' }) as HTMLSelectElement
    expect(document.activeElement).toBe(grace)
    expect(grace.value).toBe('24h')
    expect(grace.compareDocumentPosition(box) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy()
    expect(button.disabled).toBe(true)

    for (const wrong of ['payments/stripe webhook', 'payments/Stripe  webhook', 'payments/Stripe webhook ', ' payments/Stripe webhook', 'Stripe webhook', 'payments/Stripe webhoo']) {
      await user.clear(box)
      await user.type(box, wrong)
      expect(button.disabled, `"${wrong}" must not enable reset`).toBe(true)
    }
    // Enter with a wrong name says so at the field.
    await user.keyboard('{Enter}')
    expect(api.keysReset).not.toHaveBeenCalled()
    expect(box.getAttribute('aria-invalid')).toBe('true')
    expect(box.closest('.field')!.textContent).toContain('not the key\'s name exactly')

    await user.clear(box)
    await user.type(box, 'payments/Stripe webhook')
    expect(button.disabled).toBe(false)

    await user.selectOptions(grace, '24 hours')
    api.keysReset.mockResolvedValueOnce(ok(oneTimeSecret()))
    await user.click(button)
    expect(api.keysReset).toHaveBeenCalledWith({ accessId: k.accessId, confirm: 'payments/Stripe webhook', grace: '24h' })
    expect(screen.getByRole('dialog', { name: 'Save your access key' }).textContent).toMatch(/Old access key.*works until/)
  })

  it('shows the store’s confirm error at the confirmation field', async () => {
    const api = installApi()
    const user = userEvent.setup()
    const k = keyView({ name: 'svc', lastUsedAt: null })
    act(() => useStore.getState().openDialog({ type: 'reset', key: k }))
    render(<DialogHost />)
    api.keysReset.mockResolvedValueOnce(fail('invalid_input', 'The confirmation does not match the key\'s name exactly; type "svc" to reset this key.', 'confirm'))
    const box = screen.getByRole('textbox', { name: 'Type the key name to confirm' })
    await user.type(box, 'svc')
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Reset access key' }))
    expect(box.getAttribute('aria-invalid')).toBe('true')
    expect(box.closest('.field')!.textContent).toContain('does not match the key\'s name exactly')
    // Never used: the grace defaults to none.
    expect(api.keysReset).not.toHaveBeenCalledWith(expect.objectContaining({ grace: expect.anything() }))
  })

  it('inside a grace period: shows the previous key’s last use and grace end, and asks keep or end before resetting', async () => {
    const api = installApi()
    const user = userEvent.setup()
    const until = new Date(Date.now() + 20 * 3_600_000).toISOString()
    const k = keyView({ name: 'svc', graceUntil: until, previousSecrets: [{ hint: 'kdsk_Zz', graceUntil: until, lastUsedAt: new Date(Date.now() - 10 * 60_000).toISOString() }] })
    act(() => useStore.getState().openDialog({ type: 'reset', key: k }))
    render(<DialogHost />)
    const dialog = screen.getByRole('dialog', { name: 'Reset access key' })
    const group = within(dialog).getByRole('group', { name: /previous access key is still in its grace period/ })
    expect(group.textContent).toMatch(/Works until .*in 20 hours.*last used 10 minutes ago/)
    const box = within(dialog).getByRole('textbox', { name: 'Type the key name to confirm' })
    await user.type(box, 'svc')
    await user.click(within(dialog).getByRole('button', { name: 'Reset access key' }))
    expect(api.keysReset).not.toHaveBeenCalled()
    expect(group.getAttribute('aria-invalid')).toBe('true')
    expect(group.textContent).toContain('Choose what happens to the previous access key first.')
    await user.click(within(group).getByRole('radio', { name: 'Keep it working until then' }))
    api.keysReset.mockResolvedValueOnce(ok(oneTimeSecret()))
    await user.click(within(dialog).getByRole('button', { name: 'Reset access key' }))
    expect(api.keysReset).toHaveBeenCalledWith({ accessId: k.accessId, confirm: 'svc', grace: '24h', previous: 'keep' })
  })
})

describe('Revoke dialogs', () => {
  it('bulk: the confirmation names every selected key and counts them; reason is sent', async () => {
    const api = installApi()
    const user = userEvent.setup()
    const keys = [
      { accessId: 'kdid_AAAAAAAAAAAAAAA1', name: 'alpha', owner: 'ci-bot', status: 'active' as const, lastUsedAt: new Date(Date.now() - 5 * 60_000).toISOString() },
      { accessId: 'kdid_AAAAAAAAAAAAAAA2', name: 'beta', owner: 'ci-bot', status: 'active' as const, lastUsedAt: null },
      { accessId: 'kdid_AAAAAAAAAAAAAAA3', name: 'team/gamma', owner: 'alice', status: 'expired' as const, lastUsedAt: null },
    ]
    act(() => useStore.getState().openDialog({ type: 'revoke', keys }))
    render(<DialogHost />)
    const dialog = screen.getByRole('dialog', { name: /^Revoke/ })
    expect(dialog.getAttribute('aria-labelledby') && document.getElementById(dialog.getAttribute('aria-labelledby')!)!.textContent).toBe('Revoke 3 keys?')
    const list = within(dialog).getByRole('group', { name: 'Keys to revoke' })
    expect(within(list).getAllByRole('listitem').map((li) => li.firstChild!.textContent)).toEqual(['alpha', 'beta', 'team/gamma'])
    expect(list.textContent).toContain('used 5 minutes ago')
    // Honest wording: only the two active keys "stop working at once"; the expired one is said to be expired.
    expect(dialog.textContent).toContain('The 2 active keys stop working at once')
    expect(dialog.textContent).toContain('1 expired key no longer works')
    expect(within(dialog).getByLabelText('Keys by status').textContent).toMatch(/Active:?2.*Disabled:?0.*Expired:?1/)
    // More than one active key: the number must be typed.
    const revoke = within(dialog).getByRole('button', { name: 'Revoke' }) as HTMLButtonElement
    const count = within(dialog).getByRole('textbox', { name: 'Type the number of keys to confirm' })
    expect(revoke.disabled).toBe(true)
    await user.type(count, '2{Enter}')
    expect(count.getAttribute('aria-invalid')).toBe('true')
    await user.clear(count)
    await user.type(count, '3')
    expect(revoke.disabled).toBe(false)
    await user.type(within(dialog).getByRole('textbox', { name: 'Reason' }), 'leaked in CI log')
    api.keysRevoke.mockResolvedValueOnce(ok({ revoked: 3 }))
    await user.click(within(dialog).getByRole('button', { name: 'Revoke' }))
    expect(api.keysRevoke).toHaveBeenCalledWith({ accessIds: keys.map((k) => k.accessId), reason: 'leaked in CI log' })
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(useStore.getState().notice?.text).toBe('Revoked 3 keys.')
  })

  it('select-all on the filtered view revokes by query with the count the admin saw', async () => {
    const api = installApi()
    const user = userEvent.setup()
    act(() => useStore.setState({ filters: { search: 'deploy', status: 'all', owner: '', scope: '', expiringSoon: false } }))
    api.keysList.mockImplementation(async (q) => ok({ items: [], total: q.status === 'revoked' ? 2 : q.status === 'active' ? 1 : q.status === 'disabled' ? 0 : q.status === 'expired' ? 4 : 7 }))
    await act(() => useStore.getState().selectAllMatching())
    expect(useStore.getState().allMatching).toEqual({ count: 5 })
    act(() => useStore.getState().openDialog({ type: 'revokeMatching', count: 5 }))
    render(<DialogHost />)
    const dialog = screen.getByRole('dialog', { name: 'Revoke 5 keys?' })
    expect(dialog.textContent).toContain('matching “deploy”')
    // One key works now, four have expired: no typed count, and "at once" only of the one.
    expect(await within(dialog).findByLabelText('Keys by status')).toBeTruthy()
    expect(dialog.textContent).toContain('The 1 active key stops working at once')
    expect(dialog.textContent).toContain('4 expired keys no longer work')
    expect(within(dialog).queryByRole('textbox', { name: 'Type the number of keys to confirm' })).toBeNull()
    api.keysRevokeMatching.mockResolvedValueOnce(ok({ revoked: 5 }))
    await user.click(within(dialog).getByRole('button', { name: 'Revoke' }))
    expect(api.keysRevokeMatching).toHaveBeenCalledWith({ query: { status: 'all', search: 'deploy' }, expectedCount: 5 })
  })
})

describe('Owner: revoke all keys', () => {
  it('needs the owner’s exact name typed before the button works', async () => {
    const api = installApi()
    const user = userEvent.setup()
    const o = owner('CI Deployer', { keys: { active: 4, expired: 1, revoked: 2 } })
    act(() => useStore.getState().openDialog({ type: 'revokeOwner', owner: o }))
    render(<DialogHost />)
    const dialog = screen.getByRole('dialog', { name: 'Revoke all keys of CI Deployer?' })
    expect(dialog.textContent).toMatch(/5 keys.*Its 4 active keys stop working at once; 1 expired key no longer works anyway/)
    const box = within(dialog).getByRole('textbox', { name: 'Type the owner name to confirm' })
    const button = within(dialog).getByRole('button', { name: 'Revoke all keys' }) as HTMLButtonElement
    for (const wrong of ['ci deployer', 'CI  Deployer', 'CI Deployer ', 'CI']) {
      await user.clear(box)
      await user.type(box, wrong)
      expect(button.disabled, `"${wrong}" must not enable revoke-all`).toBe(true)
    }
    // The same near-miss hint reset gives.
    await user.clear(box)
    await user.type(box, 'ci deployer')
    expect(box.closest('.field')!.textContent).toContain('Almost: capitals and spaces must match the name exactly.')
    await user.keyboard('{Enter}')
    expect(box.getAttribute('aria-invalid')).toBe('true')
    await user.clear(box)
    await user.type(box, 'CI Deployer')
    expect(button.disabled).toBe(false)
    await user.type(within(dialog).getByRole('textbox', { name: 'Reason' }), 'contractor left')
    api.ownersRevokeAll.mockResolvedValueOnce(ok({ owner: 'CI Deployer', revoked: 5 }))
    await user.click(button)
    expect(api.ownersRevokeAll).toHaveBeenCalledWith({ name: 'CI Deployer', confirm: 'CI Deployer', reason: 'contractor left' })
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(useStore.getState().notice?.text).toBe('Revoked 5 keys of “CI Deployer”.')
  })
})
