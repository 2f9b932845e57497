/**
 * Platform services the handlers need, as small ports. The Electron adapter
 * (src/main/electron/ports.ts) implements them with dialog and clipboard; the
 * end-to-end harness (test/e2e/harness.ts) with a downloads dir, a path fed by
 * the test and an in-memory clipboard.
 */
import { readFileSync, statSync } from 'node:fs'
import { KeydeskError } from '../core/errors'

export interface OpenedFile {
  path: string
  content: string
}

export interface PlatformPorts {
  /** Ask where to save a file; null when the user cancels. */
  chooseSavePath(defaultName: string, title: string): Promise<string | null>
  /** Ask for a file to open and read it as text; null when the user cancels. */
  chooseOpenFile(title: string): Promise<OpenedFile | null>
  /** Put a secret on the clipboard; clear it after clearAfterMs if it is still there. */
  copySecret(text: string, clearAfterMs: number): Promise<void> | void
  /** Ask for a folder (the leak scan); null when the user cancels. */
  chooseFolder(title: string): Promise<string | null>
  /** Show a desktop notification (expiry reminders). Never carries a secret. */
  notify(n: DesktopNotification): Promise<void> | void
}

export interface DesktopNotification {
  title: string
  body: string
}

/** Largest import CSV read (100 000 rows of names fit well within it). */
export const IMPORT_FILE_MAX_BYTES = 32 * 1024 * 1024

/** Read a chosen import file as UTF-8, refusing anything that is not a regular file or is too big. */
export function readImportFile(path: string): OpenedFile {
  let size: number
  try {
    const st = statSync(path)
    if (!st.isFile()) throw new KeydeskError('invalid_input', `${path} is not a regular file.`, 'csv')
    size = st.size
  } catch (e) {
    if (e instanceof KeydeskError) throw e
    throw new KeydeskError('invalid_input', `Cannot read ${path} (${(e as { code?: string }).code ?? 'error'}).`, 'csv')
  }
  if (size > IMPORT_FILE_MAX_BYTES)
    throw new KeydeskError('invalid_input', `The import CSV is too big (${Math.ceil(size / 1024 / 1024)} MB); at most ${IMPORT_FILE_MAX_BYTES / 1024 / 1024} MB.`, 'csv')
  try {
    return { path, content: readFileSync(path, 'utf8') }
  } catch (e) {
    throw new KeydeskError('invalid_input', `Cannot read ${path} (${(e as { code?: string }).code ?? 'error'}).`, 'csv')
  }
}
