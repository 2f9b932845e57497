/**
 * Writing files that may hold secrets: owner-only permissions from the first byte,
 * written to a temporary sibling, fsynced, and renamed into place only on commit.
 * Aborting removes the temporary file, so no secret is left behind.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync, constants } from 'node:fs'
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
