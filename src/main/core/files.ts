/**
 * Delivering files that hold secrets (credential CSVs) or inventories, so that a
 * secret is never lost and nothing the user already has is replaced:
 *
 * 1. checkTarget: before anything is committed, the target must not exist (checked
 *    with lstat: an existing file, symlink — dangling or not —, directory, FIFO or
 *    device is refused) and its parent must be a writable directory.
 * 2. stagePrivateFile: the content goes to a temporary sibling created with
 *    O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600, written in a loop until every byte is
 *    on disk, fsynced and size-checked. On any failure the temporary file is removed.
 * 3. commit: the file is placed with link(tmp, target) — which never replaces an
 *    existing path — then the temporary name is unlinked and the directory fsynced.
 *    If that fails, the temporary file is removed (a secret is never left only in a
 *    temporary file) and a DeliveryError is thrown: the caller has already committed
 *    and must undo what the file was for (revoke the just-issued key, undo a reset).
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  ftruncateSync,
  readlinkSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  statSync,
  unlinkSync,
  writeSync,
  accessSync,
  type BigIntStats,
  type Stats,
} from 'node:fs'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join, resolve } from 'node:path'
import { DeliveryError, KeydeskError, systemErrorDetail } from './errors'

export interface PendingFile {
  readonly path: string
  /** Place the staged file at its path. Throws DeliveryError if that fails. */
  commit(): void
  /** Remove the staged file (no-op after commit). */
  abort(): void
  /**
   * Take back a file already placed by commit() — emptied, then removed — if the path
   * still holds that same file (anything else there is left alone). For a caller that
   * places the file just BEFORE its own commit (so a crash can never leave a live key
   * whose secret exists only in a temporary file) and must undo it when that commit fails.
   */
  withdraw(): void
}

function errCode(e: unknown): string {
  return (e as { code?: string }).code ?? 'error'
}

function writeError(path: string, e: unknown, field: string): KeydeskError {
  return new KeydeskError('invalid_input', `Cannot write ${path}: ${systemErrorDetail(errCode(e))}; choose a writable location.`, field)
}

function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link'
  if (st.isDirectory()) return 'a directory'
  if (st.isFIFO()) return 'a FIFO'
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device'
  if (st.isSocket()) return 'a socket'
  return 'a file'
}

/**
 * Validate a delivery target before anything is committed. Returns the absolute
 * path. Refuses (KeydeskError 'invalid_input' with the given field, exit 2 in the
 * CLI) an existing path of any type, without following a symlink and without
 * opening it, and a parent that is missing, not a directory or not writable.
 */
export function checkTarget(target: string, field = 'csv'): string {
  if (typeof target !== 'string' || target.trim() === '' || target.includes('\0'))
    throw new KeydeskError('invalid_input', 'Give a file name to write to.', field)
  const path = resolve(target)
  let existing: Stats | undefined
  try {
    existing = lstatSync(path)
  } catch (e) {
    const code = errCode(e)
    if (code !== 'ENOENT')
      throw new KeydeskError('invalid_input', `Cannot use ${path}: ${systemErrorDetail(code)}; choose a new file in a writable directory.`, field)
  }
  if (existing)
    throw new KeydeskError(
      'invalid_input',
      `${path} already exists; choose a new file (it is ${kindOf(existing)}, and KeyDesk never replaces or writes through an existing path).`,
      field,
    )
  const dir = dirname(path)
  let d: Stats
  try {
    d = statSync(dir)
  } catch (e) {
    const code = errCode(e)
    throw new KeydeskError(
      'invalid_input',
      code === 'ENOENT' ? `Cannot write ${path}: the directory ${dir} does not exist.` : `Cannot write ${path}: ${systemErrorDetail(code)}.`,
      field,
    )
  }
  if (!d.isDirectory()) throw new KeydeskError('invalid_input', `Cannot write ${path}: ${dir} is not a directory.`, field)
  try {
    accessSync(dir, constants.W_OK | constants.X_OK)
  } catch (e) {
    throw new KeydeskError('invalid_input', `Cannot write ${path}: the directory ${dir} is not writable (${errCode(e)}).`, field)
  }
  return path
}

/** What makes a placed file ours: device, inode, size, modification and birth time (ns). */
function identity(st: BigIntStats): string {
  return [st.dev, st.ino, st.size, st.mtimeNs, st.birthtimeNs].join(':')
}

/** Write every byte of buf to fd (writeSync may write less than asked), fsync, check the size. */
function writeAll(fd: number, buf: Buffer): void {
  let off = 0
  while (off < buf.length) {
    const n = writeSync(fd, buf, off, buf.length - off)
    if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' })
    off += n
  }
  fsyncSync(fd)
  const size = fstatSync(fd).size
  if (size !== buf.length) throw Object.assign(new Error(`wrote ${size} of ${buf.length} bytes`), { code: 'ESHORT' })
}

function tryUnlink(p: string): boolean {
  try {
    unlinkSync(p)
    return true
  } catch (e) {
    return errCode(e) === 'ENOENT'
  }
}

function fsyncDir(dir: string): void {
  let dfd: number
  try {
    dfd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY)
  } catch {
    return // cannot open the directory for reading: fsync is best effort there
  }
  try {
    fsyncSync(dfd)
  } catch (e) {
    // Filesystems that cannot fsync a directory say EINVAL/ENOTSUP; a real I/O error is a failure.
    if (['EIO', 'ENOSPC', 'EDQUOT'].includes(errCode(e))) throw e
  } finally {
    closeSync(dfd)
  }
}

/** Exclusive create at the final path (fallback for filesystems without hard links). */
function writeExclusive(path: string, buf: Buffer): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
  try {
    fchmodSync(fd, 0o600)
    writeAll(fd, buf)
  } catch (e) {
    closeSync(fd)
    tryUnlink(path)
    throw e
  }
  closeSync(fd)
}

/**
 * Stage content for target: validated (checkTarget), written in full to a 0600
 * temporary sibling, fsynced and size-checked. Nothing is at target until commit().
 * Errors are KeydeskError 'invalid_input' (field), "disk full" for ENOSPC/EDQUOT;
 * no temporary file is left behind on failure.
 */
export function stagePrivateFile(target: string, content: string, field = 'csv'): PendingFile {
  const path = checkTarget(target, field)
  const buf = Buffer.from(content, 'utf8')
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  let fd: number
  try {
    fd = openSync(tmp, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
  } catch (e) {
    throw writeError(path, e, field)
  }
  // The descriptor stays open until commit or abort: whatever happens to the name
  // meanwhile (directory renamed, entry replaced), the content can still be wiped.
  let open = true
  const discard = (): void => {
    if (!open) return
    open = false
    let current: string | undefined
    try {
      const p = readlinkSync(`/proc/self/fd/${fd}`)
      if (!p.endsWith(' (deleted)')) current = p
    } catch {
      /* no /proc: only the name we chose is known */
    }
    try {
      ftruncateSync(fd, 0)
      fsyncSync(fd)
    } catch {
      /* best effort: the unlink below still removes the name */
    }
    closeSync(fd)
    tryUnlink(tmp)
    if (current !== undefined && current !== tmp) tryUnlink(current)
  }
  try {
    fchmodSync(fd, 0o600) // a restrictive umask may have removed the owner's write bit; never widen beyond 0600
    writeAll(fd, buf)
  } catch (e) {
    discard()
    throw writeError(path, e, field)
  }
  let done = false
  let placed: string | undefined
  return {
    path,
    withdraw() {
      const was = placed
      placed = undefined
      if (!was) return
      let wfd: number
      try {
        wfd = openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
      } catch {
        return // gone, or replaced by a symlink: nothing of ours to take back
      }
      try {
        const st = fstatSync(wfd, { bigint: true })
        if (!st.isFile() || identity(st) !== was) return // an inode number can be reused: compare times and size too
        ftruncateSync(wfd, 0)
        unlinkSync(path)
      } catch {
        /* best effort */
      } finally {
        closeSync(wfd)
      }
    },
    commit() {
      if (done) return
      done = true
      try {
        try {
          linkSync(tmp, path)
        } catch (e) {
          // No hard links on this filesystem (vfat, some FUSE mounts): exclusive create and copy.
          if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK'].includes(errCode(e))) throw e
          writeExclusive(path, buf)
        }
      } catch (e) {
        discard()
        const code = errCode(e)
        throw new DeliveryError(
          path,
          code === 'EEXIST'
            ? `Could not deliver ${path}: something was created at that path meanwhile; it was left untouched.`
            : `Could not deliver ${path}: ${systemErrorDetail(code)}.`,
          field,
          code,
        )
      }
      // From here the file at path is ours (link succeeded or exclusive create).
      try {
        placed = identity(lstatSync(path, { bigint: true }))
      } catch {
        /* vanished at once: the unlink below still cleans up */
      }
      open = false
      closeSync(fd)
      if (!tryUnlink(tmp)) {
        // The secret would stay in a stray temporary file as well: treat it as not delivered.
        tryUnlink(path)
        throw new DeliveryError(path, `Could not deliver ${path}: its temporary file ${tmp} could not be removed.`, field, 'EIO')
      }
      try {
        fsyncDir(dirname(path))
      } catch (e) {
        tryUnlink(path)
        throw new DeliveryError(path, `Could not deliver ${path}: ${systemErrorDetail(errCode(e))} while saving it.`, field, errCode(e))
      }
    },
    abort() {
      if (done) return
      done = true
      discard()
    },
  }
}

/**
 * checkTarget + stage + commit in one step, for files written with nothing to
 * commit first (inventory export, the app's save of a credential CSV). A failure
 * at the last step is a DeliveryError.
 */
export function writePrivateFile(target: string, content: string, field = 'csv'): string {
  const f = stagePrivateFile(target, content, field)
  try {
    f.commit()
  } catch (e) {
    f.abort()
    throw e
  }
  return f.path
}
