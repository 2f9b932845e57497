import { render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { beforeAll, describe, expect, it } from 'vitest'
import { App } from '../../src/renderer/src/App'
import { HEALTH, installApi, keyView, ok } from './support'

beforeAll(() => {
  // jsdom has no layout: give the virtualizer a ResizeObserver that reports nothing.
  ;(globalThis as { ResizeObserver?: unknown }).ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  }
})

describe('App shell', () => {
  it('has the six navigation links and the Keys screen’s named controls; / focuses search', async () => {
    const api = installApi()
    api.keysList.mockResolvedValue(ok({ items: [keyView()], total: 1 }))
    const user = userEvent.setup()
    render(<App />)
    const nav = screen.getByRole('navigation', { name: 'Main' })
    expect(within(nav).getAllByRole('link').map((a) => a.textContent)).toEqual(['Keys', 'Needs attention', 'Owners', 'Policy', 'Audit log', 'Settings'])
    expect(screen.getByRole('heading', { level: 1, name: 'API keys' })).toBeTruthy()
    const status = screen.getByRole('combobox', { name: 'Status' })
    expect(within(status).getAllByRole('option').map((o) => o.textContent)).toEqual(['All', 'Active', 'Disabled', 'Expired', 'Revoked'])
    for (const name of ['Name', 'Access ID', 'Owner', 'Status', 'Expires', 'Last used', 'Created']) expect(screen.getByRole('columnheader', { name })).toBeTruthy()
    expect(screen.getByRole('columnheader', { name: 'Name' }).getAttribute('aria-sort')).toBe('none')
    // The default order is shown and can be chosen again: newest first.
    expect(screen.getByRole('columnheader', { name: 'Created' }).getAttribute('aria-sort')).toBe('descending')
    expect((screen.getByRole('combobox', { name: 'Sort' }) as HTMLSelectElement).selectedOptions[0]!.textContent).toBe('Newest first')

    await user.click(screen.getByRole('button', { name: 'Name' }))
    expect(screen.getByRole('columnheader', { name: 'Name' }).getAttribute('aria-sort')).toBe('ascending')
    await waitFor(() => expect(api.keysList).toHaveBeenCalledWith(expect.objectContaining({ sort: 'name', order: 'asc', offset: 0, limit: 200 })))
    await user.click(screen.getByRole('button', { name: 'Name' }))
    expect(screen.getByRole('columnheader', { name: 'Name' }).getAttribute('aria-sort')).toBe('descending')
    await user.selectOptions(screen.getByRole('combobox', { name: 'Sort' }), 'Newest first')
    await waitFor(() => expect(api.keysList).toHaveBeenLastCalledWith(expect.objectContaining({ sort: 'created', order: 'desc' })))

    ;(document.activeElement as HTMLElement | null)?.blur()
    await user.keyboard('/')
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('searchbox', { name: 'Search keys' })))

    await user.click(within(nav).getByRole('link', { name: 'Owners' }))
    expect(screen.getByRole('heading', { level: 1, name: 'Owners' })).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Add owner' })).toBeTruthy()
  })

  it('says what is wrong, exactly what is off and what still works when the keychain is unavailable, and hides what cannot work', async () => {
    const bad = {
      ...HEALTH,
      ok: false,
      keychain: 'unavailable' as const,
      problem: { kind: 'keychain_unavailable' as const, message: 'The OS keychain is locked or not running (Secret Service did not answer).' },
    }
    installApi({ health: bad })
    render(<App />)
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toMatch(/issuing, resetting, revoking and editing keys are off/)
    expect(alert.textContent).toMatch(/Still works:.*keydesk serve that is already running keeps verifying them/)
    expect(alert.textContent).toMatch(/keychain is locked or not running/)
    expect(alert.textContent).toMatch(/Unlock your login keyring/)
    for (const name of ['Create API key', 'Import CSV', 'Export inventory']) expect(screen.queryByRole('button', { name })).toBeNull()
    expect(screen.queryByRole('searchbox', { name: 'Search keys' })).toBeNull()
  })
})
