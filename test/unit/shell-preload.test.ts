/**
 * The preload exposes exactly window.keydesk: one function per operation, each
 * invoking exactly its channel with only the input. Electron is mocked here
 * (the binary cannot run in this environment); the module under test is the
 * real src/preload/index.ts.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { OPERATION_NAMES, channelOf } from '../../src/shared/operations'

const exposed: { key: string; api: Record<string, unknown> }[] = []
const invoked: unknown[][] = []

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, api: Record<string, unknown>) => exposed.push({ key, api }),
  },
  ipcRenderer: {
    invoke: async (...args: unknown[]) => {
      invoked.push(args)
      return { ok: true, value: 'answer' }
    },
    send: () => {
      throw new Error('the preload must not use send')
    },
    on: () => {
      throw new Error('the preload must not listen')
    },
  },
}))

beforeAll(async () => {
  await import('../../src/preload/index')
})

describe('preload', () => {
  it('exposes one object, keydesk, with exactly the operations, frozen', () => {
    expect(exposed.map((e) => e.key)).toEqual(['keydesk'])
    const api = exposed[0]!.api
    expect(Object.keys(api)).toEqual([...OPERATION_NAMES])
    expect(Object.getOwnPropertyNames(api)).toEqual([...OPERATION_NAMES])
    expect(Object.isFrozen(api)).toBe(true)
    for (const name of OPERATION_NAMES) expect(typeof api[name]).toBe('function')
  })
  it('each function invokes its own channel with only the input', async () => {
    const api = exposed[0]!.api as Record<string, (input?: unknown) => Promise<unknown>>
    for (const name of OPERATION_NAMES) {
      invoked.length = 0
      const input = { probe: name }
      await expect(api[name]!(input)).resolves.toEqual({ ok: true, value: 'answer' })
      expect(invoked).toEqual([[channelOf(name), input]])
    }
  })
  it('channels are keydesk:<operation> and unique', () => {
    const channels = OPERATION_NAMES.map(channelOf)
    expect(new Set(channels).size).toBe(OPERATION_NAMES.length)
    for (const c of channels) expect(c).toMatch(/^keydesk:[a-zA-Z]+$/)
  })
})
