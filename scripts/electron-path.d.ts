export const ROOT: string
export function electronBinaryPath(env?: NodeJS.ProcessEnv): string | null
export const ELECTRON_MISSING_MESSAGE: string
