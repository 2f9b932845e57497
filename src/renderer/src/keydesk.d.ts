/**
 * window.keydesk: the only door from the renderer to the key store. Installed by
 * the preload (Electron) or by the end-to-end harness (Chromium + Playwright
 * binding); both expose exactly one function per operation in
 * src/shared/operations.ts, typed by src/shared/contract.ts. Every call resolves
 * to a Result ({ ok: true, value } | { ok: false, error }); none rejects.
 */
import type { KeydeskApi } from '../../shared/contract'

declare global {
  interface Window {
    readonly keydesk: KeydeskApi
  }
}

export {}
