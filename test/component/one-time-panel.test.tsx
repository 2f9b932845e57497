import { act, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { DialogHost } from '../../src/renderer/src/components/DialogHost'
import { OneTimeSecretDialog } from '../../src/renderer/src/components/OneTimeSecretDialog'
import { useStore } from '../../src/renderer/src/store'
import { installApi, ok, oneTimeSecret, SECRET_KEY } from './support'

const HANDOFF = '0123456789abcdef0123456789abcdef'

describe('One-time panel “Save your access key”', () => {
  it('shows the pair read-only; Done stays disabled until the box is ticked; Esc cannot close it before', async () => {
    installApi()
    const user = userEvent.setup()
    const onDone = vi.fn()
    render(<OneTimeSecretDialog secret={oneTimeSecret()} context="created" onDone={onDone} />)
    const dialog = screen.getByRole('dialog', { name: 'Save your access key' })
    const id = within(dialog).getByRole('textbox', { name: 'Access ID' }) as HTMLInputElement
    const key = within(dialog).getByRole('textbox', { name: 'Access Key' }) as HTMLInputElement
    expect(id.value).toBe('kdid_BBBBBBBBBBBBBBBB')
    expect(key.value).toBe(SECRET_KEY)
    expect(id.readOnly && key.readOnly).toBe(true)

    const done = within(dialog).getByRole('button', { name: 'Done' }) as HTMLButtonElement
    expect(done.disabled).toBe(true)
    await user.keyboard('{Escape}')
    expect(onDone).not.toHaveBeenCalled()
    expect(screen.getByRole('dialog', { name: 'Save your access key' })).toBeTruthy()
    expect(within(dialog).getByRole('alert').textContent).toMatch(/Download the CSV or tick the box below first/)

    const tick = within(dialog).getByRole('checkbox', { name: 'I have saved this access key' })
    await user.click(tick)
    expect(done.disabled).toBe(false)
    await user.click(tick)
    expect(done.disabled).toBe(true)
    await user.click(tick)
    await user.click(done)
    expect(onDone).toHaveBeenCalledTimes(1)
    expect((window.keydesk.credentialsDiscard as ReturnType<typeof vi.fn>)).toHaveBeenCalledWith({ handoffId: HANDOFF })
  })

  it('Download CSV asks main to save the handoff (no secret crosses back) and then enables Done; a cancelled save does not', async () => {
    const api = installApi()
    const user = userEvent.setup()
    render(<OneTimeSecretDialog secret={oneTimeSecret()} context="created" onDone={() => undefined} />)
    const dialog = screen.getByRole('dialog', { name: 'Save your access key' })
    const done = within(dialog).getByRole('button', { name: 'Done' }) as HTMLButtonElement

    api.credentialsSave.mockResolvedValueOnce(ok({ saved: false, path: null }))
    await user.click(within(dialog).getByRole('button', { name: 'Download CSV' }))
    expect(api.credentialsSave).toHaveBeenLastCalledWith({ handoffId: HANDOFF })
    expect(done.disabled).toBe(true)

    api.credentialsSave.mockResolvedValueOnce(ok({ saved: true, path: '/home/alice/Downloads/deploy-bot-credentials.csv' }))
    await user.click(within(dialog).getByRole('button', { name: 'Download CSV' }))
    expect(done.disabled).toBe(false)
    expect(within(dialog).getByRole('status').textContent).toContain('/home/alice/Downloads/deploy-bot-credentials.csv')

    api.secretCopy.mockResolvedValueOnce(ok({ clearsAfterMs: 30_000 }))
    await user.click(within(dialog).getByRole('button', { name: 'Copy access key' }))
    expect(api.secretCopy).toHaveBeenCalledWith({ handoffId: HANDOFF, accessId: 'kdid_BBBBBBBBBBBBBBBB' })
    expect(within(dialog).getByRole('status').textContent).toMatch(/clears it from the clipboard in 30 seconds/)
    // Nothing sent to main ever carries the secret.
    for (const op of Object.values(api)) for (const call of op.mock.calls) expect(JSON.stringify(call)).not.toContain(SECRET_KEY)
  })

  it('after the create flow closes, the secret is gone from the DOM and from the store, and main was told to forget it', async () => {
    const api = installApi()
    const user = userEvent.setup()
    api.keysCreate.mockResolvedValueOnce(ok(oneTimeSecret()))
    act(() => useStore.getState().openDialog({ type: 'create' }))
    const opener = document.createElement('button')
    opener.textContent = 'Create API key'
    document.body.appendChild(opener)
    render(<DialogHost />)
    await user.type(screen.getByRole('textbox', { name: 'Name' }), 'deploy-bot')
    await user.click(screen.getByRole('button', { name: 'Create key' }))

    const dialog = await screen.findByRole('dialog', { name: 'Save your access key' })
    expect(document.body.innerHTML).toContain(SECRET_KEY)
    // The store never holds the secret, not even while the panel is open.
    expect(JSON.stringify(useStore.getState(), (_k, v) => (typeof v === 'function' ? undefined : v))).not.toContain(SECRET_KEY)

    await user.click(within(dialog).getByRole('checkbox', { name: 'I have saved this access key' }))
    await user.click(within(dialog).getByRole('button', { name: 'Done' }))
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(document.body.innerHTML).not.toContain(SECRET_KEY)
    expect(useStore.getState().dialog).toBeNull()
    expect(api.credentialsDiscard).toHaveBeenCalledWith({ handoffId: HANDOFF })
    expect(api.credentialsDiscard).toHaveBeenCalledTimes(1)
    opener.remove()
  })

  it('if the panel is torn down without Done (window closing), main is still told to forget the handoff', async () => {
    const api = installApi()
    const { unmount } = render(<OneTimeSecretDialog secret={oneTimeSecret()} context="reset" onDone={() => undefined} />)
    unmount()
    await new Promise((r) => setTimeout(r, 5))
    expect(api.credentialsDiscard).toHaveBeenCalledWith({ handoffId: HANDOFF })
  })

  it('shows the store’s message when the handoff has expired', async () => {
    const api = installApi()
    const user = userEvent.setup()
    render(<OneTimeSecretDialog secret={oneTimeSecret()} context="created" onDone={() => undefined} />)
    api.credentialsSave.mockResolvedValueOnce({ ok: false, error: { kind: 'handoff_expired', message: 'This secret is no longer held (10 minutes passed); reset the key to get a new one.' } })
    await user.click(screen.getByRole('button', { name: 'Download CSV' }))
    expect(screen.getByRole('status').textContent).toMatch(/reset the key to get a new one/)
    expect((screen.getByRole('button', { name: 'Done' }) as HTMLButtonElement).disabled).toBe(true)
  })
})
