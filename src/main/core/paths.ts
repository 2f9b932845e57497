import { homedir } from 'node:os'
import { join } from 'node:path'
import { KeydeskError } from './errors'

export const APP_NAME = 'KeyDesk'

/** Where Electron's app.getPath('userData') points for this app, computed without Electron. */
export function defaultUserDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_NAME)
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_NAME)
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), APP_NAME)
}

/** --data-dir, else KEYDESK_DATA_DIR, else the app's user-data dir. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.KEYDESK_DATA_DIR || defaultUserDataDir(env)
}

/** Where a command's store is: the local directory, or a team database (postgres://…). */
export interface StoreLocation {
  dataDir: string
  store?: string
}

/** --store, else KEYDESK_STORE (a postgres:// URL: the team store); otherwise the local store in the data dir. */
export function resolveStore(o: { dataDir?: string; store?: string }, env: NodeJS.ProcessEnv = process.env): StoreLocation {
  const store = o.store || env.KEYDESK_STORE || undefined
  if (store !== undefined && !/^postgres(ql)?:\/\//i.test(store))
    throw new KeydeskError('invalid_input', `--store (or KEYDESK_STORE) takes a team database URL (postgres://…); for a local store use --data-dir.`, 'store')
  return { dataDir: resolveDataDir(o.dataDir, env), ...(store !== undefined ? { store } : {}) }
}
