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
  it('has the five navigation links and the Keys screen’s named controls; / focuses search', async () => {
    const api = installApi()
    api.keysList.mockResolvedValue(ok({ items: [keyView()], total: 1 }))
    const user = userEvent.setup()
    render(<App />)
    const nav = screen.getByRole('navigation', { name: 'Main' })
    expect(within(nav).getAllByRole('link').map((a) => a.textContent)).toEqual(['Keys', 'Needs attention', 'Owners', 'Policy', 'Audit log'])
    expect(screen.getByRole('heading', { level: 1, name: 'API keys' })).toBeTruthy()
    const status = screen.getByRole('combobox', { name: 'Status' })
    expect(within(status).getAllByRole('option').map((o) => o.textContent)).toEqual(['All', 'Active', 'Expired', 'Revoked'])
    for (const name of ['Name', 'Access ID', 'Owner', 'Status', 'Expires', 'Last used']) expect(screen.getByRole('columnheader', { name })).toBeTruthy()
    expect(screen.getByRole('columnheader', { name: 'Name' }).getAttribute('aria-sort')).toBe('none')

    await user.click(screen.getByRole('button', { name: 'Name' }))
    expect(screen.getByRole('columnheader', { name: 'Name' }).getAttribute('aria-sort')).toBe('ascending')
    await waitFor(() => expect(api.keysList).toHaveBeenCalledWith(expect.objectContaining({ sort: 'name', order: 'asc', offset: 0, limit: 200 })))
    await user.click(screen.getByRole('button', { name: 'Name' }))
    expect(screen.getByRole('columnheader', { name: 'Name' }).getAttribute('aria-sort')).toBe('descending')

    ;(document.activeElement as HTMLElement | null)?.blur()
    await user.keyboard('/')
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('searchbox', { name: 'Search keys' })))

    await user.click(within(nav).getByRole('link', { name: 'Owners' }))
    expect(screen.getByRole('heading', { level: 1, name: 'Owners' })).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Add owner' })).toBeTruthy()
  })

  it('says what is wrong and what to do when the keychain is unavailable, and disables issuing', async () => {
    const bad = {
      ...HEALTH,
      ok: false,
      keychain: 'unavailable' as const,
      problem: { kind: 'keychain_unavailable' as const, message: 'The OS keychain is locked or not running (Secret Service did not answer).' },
    }
    installApi({ health: bad })
    render(<App />)
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toMatch(/Issuing and resetting keys are turned off/)
    expect(alert.textContent).toMatch(/keychain is locked or not running/)
    expect(alert.textContent).toMatch(/Unlock your login keyring/)
    expect((screen.getByRole('button', { name: 'Create API key' }) as HTMLButtonElement).disabled).toBe(true)
  })
})
