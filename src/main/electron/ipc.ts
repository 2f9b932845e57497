/**
 * validatedIpcMain: the only place bridge channels are registered. Every
 * message's sender (our window, its main frame, the app origin) is checked
 * before the payload is looked at; a refusal is a typed error, never a parse.
 */
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron'
import { OPERATION_NAMES, channelOf } from '../../shared/operations'
import type { Api, Logger } from '../api/index'
import { FORBIDDEN_SENDER_ERROR, checkSender, type AppOrigin, type SenderInfo } from './security'

export function senderInfo(event: IpcMainInvokeEvent, win: BrowserWindow | null): SenderInfo {
  const live = win !== null && !win.isDestroyed() ? win : null
  try {
    const frame = event.senderFrame
    if (!frame || frame.isDestroyed()) return { frameUrl: null, isMainFrame: false, fromAppWindow: live !== null && event.sender === live.webContents }
    const main = live?.webContents.mainFrame
    return {
      frameUrl: frame.url,
      isMainFrame: frame.parent === null && !!main && frame.processId === main.processId && frame.routingId === main.routingId,
      fromAppWindow: live !== null && event.sender === live.webContents,
    }
  } catch {
    // A frame that vanished mid-call.
    return { frameUrl: null, isMainFrame: false, fromAppWindow: false }
  }
}

export function registerBridge(api: Api, getWindow: () => BrowserWindow | null, origin: AppOrigin, log: Logger): () => void {
  for (const name of OPERATION_NAMES) {
    const channel = channelOf(name)
    ipcMain.removeHandler(channel)
    ipcMain.handle(channel, async (event, raw: unknown) => {
      const verdict = checkSender(senderInfo(event, getWindow()), origin)
      if (!verdict.ok) {
        log.warn(`refused ${name}: ${verdict.reason}`)
        return { ok: false, error: { ...FORBIDDEN_SENDER_ERROR } }
      }
      return api.invoke(name, raw)
    })
  }
  return () => {
    for (const name of OPERATION_NAMES) ipcMain.removeHandler(channelOf(name))
  }
}
