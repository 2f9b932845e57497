/**
 * validatedIpcMain: every bridge channel is registered once, and the sender
 * (our window, its main frame, the app origin) is checked BEFORE the payload
 * is touched. ipcMain is mocked (no Electron binary here); registerBridge and
 * senderInfo are the real adapter code.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { OPERATION_NAMES, channelOf } from '../../src/shared/operations'
import type { Api } from '../../src/main/api/index'

type Handler = (event: unknown, raw: unknown) => Promise<unknown>
const handlers = new Map<string, Handler>()

vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, fn: Handler) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`)
      handlers.set(channel, fn)
    },
    removeHandler: (channel: string) => handlers.delete(channel),
  },
}))

const { registerBridge } = await import('../../src/main/electron/ipc')
const { ELECTRON_APP_ORIGIN } = await import('../../src/main/electron/security')

const calls: { name: string; raw: unknown }[] = []
const api = {
  invoke: async (name: string, raw: unknown) => {
    calls.push({ name, raw })
    return { ok: true, value: name }
  },
} as unknown as Api
const logs: string[] = []

// A minimal stand-in for BrowserWindow / WebFrameMain, as the adapter reads them.
const mainFrame = { url: 'app://keydesk/index.html', parent: null, processId: 7, routingId: 1, isDestroyed: () => false }
const webContents = { mainFrame }
const win = { webContents, isDestroyed: () => false }

function event(frame: unknown, sender: unknown = webContents) {
  return { senderFrame: frame, sender }
}
/** A payload that fails the test if anything reads it. */
const untouchable = new Proxy(
  {},
  {
    get: () => {
      throw new Error('payload was read before the sender check')
    },
    ownKeys: () => {
      throw new Error('payload was enumerated before the sender check')
    },
    getPrototypeOf: () => {
      throw new Error('payload was inspected before the sender check')
    },
  },
)

beforeAll(() => {
  registerBridge(api, () => win as never, ELECTRON_APP_ORIGIN, { error: (m) => logs.push(m), warn: (m) => logs.push(m) })
})

describe('registerBridge', () => {
  it('registers exactly one handler per operation channel', () => {
    expect([...handlers.keys()].sort()).toEqual(OPERATION_NAMES.map(channelOf).sort())
  })
  it('passes the app main frame through to invoke with the operation name', async () => {
    const raw = { limit: 5 }
    await expect(handlers.get(channelOf('keysList'))!(event(mainFrame), raw)).resolves.toEqual({ ok: true, value: 'keysList' })
    expect(calls.at(-1)).toEqual({ name: 'keysList', raw })
  })
  it.each([
    ['a subframe', { ...mainFrame, parent: mainFrame, routingId: 2 }, webContents],
    ['a frame of another origin', { ...mainFrame, url: 'https://evil.example/' }, webContents],
    ['a file:// frame', { ...mainFrame, url: 'file:///tmp/x.html' }, webContents],
    ['http://localhost', { ...mainFrame, url: 'http://localhost:5173/' }, webContents],
    ['a null frame', null, webContents],
    ['a destroyed frame', { ...mainFrame, isDestroyed: () => true }, webContents],
    ['a top frame of another process', { ...mainFrame, processId: 8 }, webContents],
    ['another webContents', mainFrame, { mainFrame }],
    ['a frame whose url getter throws', Object.defineProperty({ ...mainFrame }, 'url', { get: () => { throw new Error('gone') } }), webContents],
  ])('refuses %s with a typed error, without reading the payload', async (_label, frame, sender) => {
    const before = calls.length
    const r = await handlers.get(channelOf('keysCreate'))!(event(frame, sender), untouchable)
    expect(r).toEqual({ ok: false, error: { kind: 'forbidden', message: expect.any(String) } })
    expect(calls.length).toBe(before)
    expect(logs.at(-1)).toMatch(/^refused keysCreate: /)
  })
})
