/**
 * Credential delivery (files.ts) against real files: a full disk, existing targets of
 * every kind, and a placement that fails after the content was staged. Runs as root
 * on the project's machines (a small tmpfs is mounted); where mounting is not
 * allowed the disk-full test is skipped with the reason printed.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DeliveryError, KeydeskError, isDeliveryError } from '../../src/main/core/errors'
import { checkTarget, stagePrivateFile, writePrivateFile } from '../../src/main/core/files'
import { tempDir } from '../helpers'
import { openTestStore, type TestStore } from './support'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function dir(): string {
  const t = tempDir('keydesk-delivery-')
  cleanups.push(t.cleanup)
  return t.dir
}

function caught(fn: () => unknown): KeydeskError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(KeydeskError)
    return e as KeydeskError
  }
  throw new Error('expected a KeydeskError')
}

/** Every entry under d (recursively), with its size. */
function listing(d: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(d)) {
    const p = join(d, name)
    const st = lstatSync(p)
    if (st.isDirectory()) out.push(...listing(p).map((x) => `${name}/${x}`))
    else out.push(`${name}:${st.size}`)
  }
  return out.sort()
}

const SECRET = 'Name,Access ID,Access Key\nk,kdid_x,kdsk_SECRETSECRETSECRET\n'

describe('checkTarget: an existing path is refused, never followed or opened', () => {
  const kinds: [string, string, (p: string, d: string) => void][] = [
    ['a file', 'an earlier batch', (p) => writeFileSync(p, 'earlier batch\n')],
    ['a symbolic link', 'a symlink to /dev/null', (p) => symlinkSync('/dev/null', p)],
    ['a symbolic link', 'a dangling symlink', (p, d) => symlinkSync(join(d, 'nowhere.csv'), p)],
    ['a directory', 'a directory', (p) => mkdirSync(p)],
    ['a FIFO', 'a FIFO (never opened: opening it would block)', (p) => execFileSync('mkfifo', [p])],
  ]
  for (const [kind, label, make] of kinds) {
    it(`${label} at the target → invalid_input naming the path; the path is untouched`, () => {
      const d = dir()
      const p = join(d, 'creds.csv')
      make(p, d)
      const before = lstatSync(p)
      const linkTarget = before.isSymbolicLink() ? readlinkSync(p) : undefined
      for (const fn of [() => checkTarget(p), () => stagePrivateFile(p, SECRET), () => writePrivateFile(p, SECRET)]) {
        const e = caught(fn)
        expect(e.kind).toBe('invalid_input')
        expect(e.field).toBe('csv')
        expect(e.message).toContain(`${p} already exists; choose a new file (it is ${kind},`)
      }
      const after = lstatSync(p)
      expect(after.ino).toBe(before.ino)
      expect(after.mtimeMs).toBe(before.mtimeMs)
      if (before.isFile()) expect(readFileSync(p, 'utf8')).toBe('earlier batch\n')
      if (linkTarget !== undefined) expect(readlinkSync(p)).toBe(linkTarget)
      // the dangling symlink's target was not created through the link
      expect(existsSync(join(d, 'nowhere.csv'))).toBe(false)
      // no temporary file
      expect(readdirSync(d).filter((f) => f.endsWith('.tmp'))).toEqual([])
    })
  }

  it('/dev/null itself is refused as a device and stays a device', () => {
    const e = caught(() => writePrivateFile('/dev/null', SECRET, 'out'))
    expect(e.kind).toBe('invalid_input')
    expect(e.field).toBe('out')
    expect(e.message).toContain('/dev/null already exists; choose a new file (it is a device,')
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true)
  })

  it('a missing or non-directory parent is refused with the reason', () => {
    const d = dir()
    expect(caught(() => checkTarget(join(d, 'no/such/creds.csv'))).message).toMatch(/does not exist/)
    writeFileSync(join(d, 'plain'), 'x')
    expect(caught(() => checkTarget(join(d, 'plain/creds.csv'))).message).toMatch(/not a directory|ENOTDIR/)
    expect(caught(() => checkTarget('  ')).field).toBe('csv')
  })

  it('the store refuses an existing --csv target before committing anything', async () => {
    const t: TestStore = await openTestStore()
    cleanups.push(t.cleanup)
    const p = join(t.dir, 'earlier.csv')
    writeFileSync(p, 'earlier batch\n')
    const before = { keys: t.store.list({ limit: 1 }).total, audit: t.store.listAudit({ limit: 1000 }).length }
    for (const fn of [() => t.store.create({ name: 'a' }, p), () => t.store.createMany([{ name: 'b' }, { name: 'c' }], p)]) {
      const e = caught(fn)
      expect(e.kind).toBe('invalid_input')
      expect(e.message).toContain(`${p} already exists`)
    }
    const k = t.store.create({ name: 'r' })
    const mid = t.store.listAudit({ limit: 1000 }).length
    expect(caught(() => t.store.reset(k.accessId, { confirm: 'r' }, p)).message).toContain('already exists')
    expect(t.store.verify({ accessKey: k.accessKey }).valid).toBe(true) // the reset did not happen
    expect(t.store.listAudit({ limit: 1000 }).length).toBe(mid)
    expect(caught(() => t.store.exportInventory(p)).message).toContain('already exists')
    expect(t.store.list({ limit: 1 }).total).toBe(before.keys + 1)
    expect(readFileSync(p, 'utf8')).toBe('earlier batch\n')
  })
})

describe('staging writes every byte or nothing', () => {
  it('a file written in full: 0600, exact content, no temporary file left', () => {
    const d = dir()
    const big = 'x'.repeat(3 * 1024 * 1024) + SECRET
    const old = process.umask(0o277) // even a umask that removes the owner's write bit
    try {
      const p = writePrivateFile(join(d, 'creds.csv'), big)
      expect(statSync(p).mode & 0o777).toBe(0o600)
      expect(readFileSync(p, 'utf8')).toBe(big)
    } finally {
      process.umask(old)
    }
    expect(listing(d)).toEqual([`creds.csv:${Buffer.byteLength(big)}`])
  })

  it('on a full disk (64 KiB tmpfs) → "disk full", no target and no temporary file', (ctx) => {
    const d = dir()
    const mnt = join(d, 'small')
    mkdirSync(mnt)
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', mnt], { stdio: 'pipe' })
    } catch (e) {
      const why = (e as { stderr?: Buffer }).stderr?.toString().trim() || String(e)
      console.log(`SKIPPED disk-full delivery test: cannot mount a tmpfs here (${why})`)
      ctx.skip()
      return
    }
    cleanups.push(() => execFileSync('umount', [mnt]))
    // 200 000 bytes into 64 KiB: the kernel writes what fits (a short write), then ENOSPC.
    const content = 'Name,Access ID,Access Key\n' + 'row,kdid_0000000000000000,kdsk_SECRET00000000000000000000000000000\n'.repeat(3000)
    const target = join(mnt, 'creds.csv')
    for (const fn of [() => stagePrivateFile(target, content), () => writePrivateFile(target, content)]) {
      const e = caught(fn)
      expect(e.kind).toBe('invalid_input')
      expect(e.field).toBe('csv')
      expect(e.message).toMatch(/disk is full/)
      expect(e.message).toContain(target)
      expect(listing(mnt)).toEqual([])
    }
    // a small file still fits afterwards: nothing was left occupying the space
    expect(readFileSync(writePrivateFile(target, SECRET), 'utf8')).toBe(SECRET)
  })

  it('abort removes the staged file', () => {
    const d = dir()
    const f = stagePrivateFile(join(d, 'creds.csv'), SECRET)
    expect(listing(d)).toHaveLength(1)
    f.abort()
    expect(listing(d)).toEqual([])
  })
})

describe('commit places the file without replacing anything; a failed placement leaves no secret', () => {
  it('a path created between stage and commit is left untouched → DeliveryError, temp file gone', () => {
    const d = dir()
    const p = join(d, 'creds.csv')
    const f = stagePrivateFile(p, SECRET)
    writeFileSync(p, 'someone else\n') // created meanwhile
    let err: unknown
    try {
      f.commit()
    } catch (e) {
      err = e
    }
    expect(isDeliveryError(err)).toBe(true)
    const de = err as DeliveryError
    expect(de).toBeInstanceOf(KeydeskError)
    expect(de.kind).toBe('store_unavailable')
    expect(de.deliveryFailed).toBe(true)
    expect(de.path).toBe(p)
    expect(de.message).toContain(p)
    expect(readFileSync(p, 'utf8')).toBe('someone else\n')
    expect(listing(d)).toEqual(['creds.csv:13'])
  })

  it('withdraw takes back a placed file, but never a file that replaced it', () => {
    const d = dir()
    const p = join(d, 'creds.csv')
    const f = stagePrivateFile(p, SECRET)
    f.commit()
    expect(readFileSync(p, 'utf8')).toBe(SECRET)
    f.withdraw()
    expect(listing(d)).toEqual([])
    const g = stagePrivateFile(p, SECRET)
    g.commit()
    unlinkSync(p)
    const other = SECRET.replace('SECRETSECRET', 'someoneelse!') // same size; likely the same inode number
    writeFileSync(p, other)
    g.withdraw()
    expect(readFileSync(p, 'utf8')).toBe(other)
    stagePrivateFile(join(d, 'never.csv'), SECRET).withdraw() // never placed: no-op, the temp file stays until abort
  })

  it('a symlink planted between stage and commit is not followed', () => {
    const d = dir()
    const p = join(d, 'creds.csv')
    const f = stagePrivateFile(p, SECRET)
    symlinkSync(join(d, 'elsewhere.csv'), p)
    expect(isDeliveryError(caught(() => f.commit()))).toBe(true)
    expect(existsSync(join(d, 'elsewhere.csv'))).toBe(false)
    expect(readdirSync(d)).toEqual(['creds.csv'])
  })

  it('the target directory moved away between stage and commit → DeliveryError, no copy of the secret anywhere', () => {
    const d = dir()
    mkdirSync(join(d, 'out'))
    const f = stagePrivateFile(join(d, 'out/creds.csv'), SECRET)
    renameSync(join(d, 'out'), join(d, 'moved'))
    const e = caught(() => f.commit())
    expect(isDeliveryError(e)).toBe(true)
    expect(e.message).toMatch(/Could not deliver .*out\/creds\.csv/)
    // the staged file followed the directory; it was found through its descriptor and removed
    expect(listing(d)).toEqual([])
    f.abort() // no-op after a failed commit
  })
})
