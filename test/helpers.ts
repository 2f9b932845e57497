import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openKeyStore, type KeyStore, type OpenOptions } from '../src/main/core/index'

/** A fresh data dir under the OS temp dir; removed by the returned cleanup. */
export function tempDir(prefix = 'keydesk-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A real store (real SQLite file, real keychain) in a temp dir. */
export async function tempStore(opts: Partial<OpenOptions> = {}): Promise<{ store: KeyStore; dir: string; cleanup: () => void }> {
  const t = tempDir()
  const store = await openKeyStore({ dataDir: t.dir, actor: 'tester', ...opts })
  return {
    store,
    dir: t.dir,
    cleanup: () => {
      store.close()
      t.cleanup()
    },
  }
}
