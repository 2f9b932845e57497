/**
 * Writing files that may hold secrets: owner-only permissions from the first byte,
 * written to a temporary sibling, fsynced, and renamed into place only on commit.
 * Aborting removes the temporary file, so no secret is left behind.
 */
import { accessSync, closeSync, fsyncSync, lstatSync, openSync, renameSync, statSync, unlinkSync, writeSync, constants } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join, resolve } from 'node:path'
import { KeydeskError } from './errors'

export interface PendingFile {
  readonly path: string
  commit(): void
  abort(): void
}

function fileError(path: string, e: unknown, field: string): KeydeskError {
  const code = (e as { code?: string }).code ?? 'error'
  return new KeydeskError('invalid_input', `Cannot write ${path} (${code}); choose a writable location.`, field)
}

/**
 * Before anything is committed: the target must not exist (no file, symlink,
 * directory, FIFO or device is ever replaced or opened) and its directory must exist.
 */
export function checkTarget(target: string, field = 'csv'): string {
  const path = resolve(target)
  try {
    lstatSync(path)
    throw new KeydeskError('invalid_input', `${path} already exists; choose a new file (KeyDesk never replaces a file).`, field)
  } catch (e) {
    if (e instanceof KeydeskError) throw e
    if ((e as { code?: string }).code !== 'ENOENT') throw fileError(path, e, field)
  }
  try {
    if (!statSync(dirname(path)).isDirectory()) throw new Error('ENOTDIR')
    accessSync(dirname(path), constants.W_OK)
  } catch (e) {
    throw new KeydeskError('invalid_input', `Cannot write ${path}: its folder does not exist or is not writable.`, field)
  }
  return path
}

export function stagePrivateFile(target: string, content: string, field = 'csv'): PendingFile {
  const path = resolve(target)
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  let fd: number
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
  } catch (e) {
    throw fileError(path, e, field)
  }
  try {
    writeSync(fd, content)
    fsyncSync(fd)
  } catch (e) {
    closeSync(fd)
    try { unlinkSync(tmp) } catch { /* already gone */ }
    throw fileError(path, e, field)
  }
  closeSync(fd)
  let done = false
  return {
    path,
    commit() {
      if (done) return
      done = true
      try {
        renameSync(tmp, path)
      } catch (e) {
        try { unlinkSync(tmp) } catch { /* already gone */ }
        throw fileError(path, e, field)
      }
      try {
        const dfd = openSync(dirname(path), 'r')
        try { fsyncSync(dfd) } finally { closeSync(dfd) }
      } catch { /* directory fsync is best effort on some filesystems */ }
    },
    abort() {
      if (done) return
      done = true
      try { unlinkSync(tmp) } catch { /* already gone */ }
    },
  }
}

export function writePrivateFile(target: string, content: string, field = 'csv'): string {
  const f = stagePrivateFile(target, content, field)
  f.commit()
  return f.path
}
