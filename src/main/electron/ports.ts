/** The platform ports over Electron: native save/open/folder dialogs, the clipboard and desktop notifications. */
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { Notification, app, clipboard, dialog, type BrowserWindow, type OpenDialogOptions, type SaveDialogOptions } from 'electron'
import { readImportFile, type PlatformPorts } from '../api/ports'

const digest = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex')

export interface ElectronPorts extends PlatformPorts {
  /** A copied secret may still be on the clipboard (its 30 s clear has not run). */
  hasPendingSecrets(): boolean
  /** Clear the clipboard now if it still holds a secret we put there (app quitting). */
  clearPendingSecrets(): Promise<void>
}

export function electronPorts(getWindow: () => BrowserWindow | null): ElectronPorts {
  // Only digests of copied secrets are kept, to recognise them on the clipboard later.
  const pending = new Map<string, NodeJS.Timeout>()
  const clearIfOurs = async (d: string): Promise<void> => {
    const t = pending.get(d)
    if (t) clearTimeout(t)
    pending.delete(d)
    try {
      if (digest(await clipboard.readText()) === d) clipboard.clear()
    } catch {
      clipboard.clear() // cannot tell: err on the side of not leaving a secret behind
    }
  }
  const parent = (): BrowserWindow | null => {
    const w = getWindow()
    return w && !w.isDestroyed() ? w : null
  }
  return {
    async chooseSavePath(defaultName, title) {
      const opts: SaveDialogOptions = {
        title,
        defaultPath: join(app.getPath('downloads'), defaultName),
        filters: [{ name: 'CSV', extensions: ['csv'] }],
        // No overwrite prompt: an existing path is always refused (a credential file never replaces anything).
        properties: ['createDirectory'],
      }
      const w = parent()
      const r = w ? await dialog.showSaveDialog(w, opts) : await dialog.showSaveDialog(opts)
      return r.canceled || !r.filePath ? null : r.filePath
    },
    async chooseOpenFile(title) {
      const opts: OpenDialogOptions = { title, filters: [{ name: 'CSV', extensions: ['csv', 'txt'] }], properties: ['openFile'] }
      const w = parent()
      const r = w ? await dialog.showOpenDialog(w, opts) : await dialog.showOpenDialog(opts)
      const path = r.canceled ? undefined : r.filePaths[0]
      return path === undefined ? null : readImportFile(path)
    },
    async chooseFolder(title) {
      const opts: OpenDialogOptions = { title, properties: ['openDirectory'] }
      const w = parent()
      const r = w ? await dialog.showOpenDialog(w, opts) : await dialog.showOpenDialog(opts)
      return r.canceled ? null : (r.filePaths[0] ?? null)
    },
    notify({ title, body }) {
      if (!Notification.isSupported()) return
      const n = new Notification({ title, body })
      // A click brings the window forward; the "Needs attention" screen lists the keys.
      n.on('click', () => {
        const w = parent()
        if (!w) return
        if (w.isMinimized()) w.restore()
        w.focus()
      })
      n.show()
    },
    async copySecret(text, clearAfterMs) {
      await clipboard.writeText(text)
      const d = digest(text)
      const old = pending.get(d)
      if (old) clearTimeout(old)
      pending.set(d, setTimeout(() => void clearIfOurs(d), clearAfterMs))
    },
    hasPendingSecrets() {
      return pending.size > 0
    },
    async clearPendingSecrets() {
      await Promise.all([...pending.keys()].map((d) => clearIfOurs(d)))
    },
  }
}
