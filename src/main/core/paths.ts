import { homedir } from 'node:os'
import { join } from 'node:path'

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
