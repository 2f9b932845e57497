/**
 * The sandboxed preload: window.keydesk, one named function per operation in
 * src/shared/operations.ts, each invoking exactly its channel. Nothing else is
 * exposed: no ipcRenderer, no generic invoke, no event objects. No zod here
 * (the sandboxed bundle stays small); main validates everything.
 */
import { contextBridge, ipcRenderer } from 'electron'
import { OPERATION_NAMES, channelOf, type OperationName } from '../shared/operations'
import type { KeydeskApi } from '../shared/contract'

function operation(name: OperationName) {
  const channel = channelOf(name)
  // Only the input crosses; the IpcRendererEvent never reaches the page.
  return (input?: unknown): Promise<unknown> => ipcRenderer.invoke(channel, input)
}

const api = Object.freeze(Object.fromEntries(OPERATION_NAMES.map((name) => [name, operation(name)]))) as unknown as KeydeskApi

contextBridge.exposeInMainWorld('keydesk', api)
