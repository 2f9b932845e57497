export const ROOT: string
export function electronPackageDir(env?: NodeJS.ProcessEnv): string
export function electronBinaryPath(env?: NodeJS.ProcessEnv): string | null
export const ELECTRON_MISSING_MESSAGE: string
export function downloadHost(env?: NodeJS.ProcessEnv): string
export function downloadFailureReason(result: { error?: Error & { code?: string }; stderr?: string | null; stdout?: string | null; status: number | null; env?: NodeJS.ProcessEnv }): string
export function ensureElectron(opts: {
  env?: NodeJS.ProcessEnv
  log?: (line: string) => void
  spawnSync: typeof import('node:child_process').spawnSync
}): string | { failed: string }
