/**
 * The renderer's only door to the key store: window.keydesk (installed by the
 * preload in Electron, by the harness in end-to-end tests). Calls never reject by
 * contract; `call` still turns a missing bridge or a thrown error into a typed
 * error result so no screen has to guard against exceptions.
 */
import type { BridgeError, Input, KeydeskApi, Output, Result } from '../../../shared/contract'
import type { OperationName } from '../../../shared/operations'

export type { BridgeError, Result }

function bridge(): KeydeskApi | undefined {
  return (globalThis as { keydesk?: KeydeskApi }).keydesk
}

export async function call<K extends OperationName>(op: K, input: Input<K>): Promise<Result<Output<K>>> {
  const api = bridge()
  const fn = api?.[op] as ((i: Input<K>) => Promise<Result<Output<K>>>) | undefined
  if (!fn)
    return {
      ok: false,
      error: { kind: 'internal', message: 'KeyDesk cannot reach its key store from this window (the bridge is missing). Restart KeyDesk.' },
    }
  try {
    const r = await fn(input)
    if (r && typeof r === 'object' && 'ok' in r) return r
    return { ok: false, error: { kind: 'internal', message: 'The key store gave an unexpected answer. Try again; if it persists, restart KeyDesk.' } }
  } catch {
    return { ok: false, error: { kind: 'internal', message: 'The request to the key store failed. Try again; if it persists, restart KeyDesk.' } }
  }
}

/** Errors that mean the store itself is unusable, not just this request. */
export function isHealthError(e: BridgeError): boolean {
  return e.kind === 'keychain_unavailable' || e.kind === 'store_unavailable'
}
