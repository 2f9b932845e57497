import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync, openSync, writeSync, closeSync, fstatSync, readdirSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DB_FILE } from '../../src/main/core/db'
import { openKeyStore, type KeyStore } from '../../src/main/core/keystore'
import { tempDir } from '../helpers'
import { catchKdAsync, dropKeychainEntry, openTestStore } from './support'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function dir(): string {
  const t = tempDir()
  cleanups.push(t.cleanup)
  return t.dir
}

async function open(dataDir: string): Promise<KeyStore> {
  const store = await openKeyStore({ dataDir, actor: 'tester' })
  const storeId = store.health().storeId
  cleanups.push(() => dropKeychainEntry(storeId))
  cleanups.push(() => store.close())
  return store
}

/**
 * Make a directory read-only for this process. Tests run as root here, and root
 * ignores permission bits, so as root use the immutable attribute instead.
 */
function makeReadOnly(d: string): { how: string; undo: () => void } | { skip: string } {
  if (process.getuid?.() !== 0) {
    chmodSync(d, 0o500)
    return { how: 'chmod 0500', undo: () => chmodSync(d, 0o700) }
  }
  try {
    execFileSync('chattr', ['+i', d], { stdio: 'ignore' })
  } catch (e) {
    return { skip: `running as root and chattr +i failed (${(e as Error).message.split('\n')[0]}); root bypasses chmod, so a read-only directory cannot be made here` }
  }
  const undo = () => execFileSync('chattr', ['-i', d], { stdio: 'ignore' })
  try {
    writeFileSync(join(d, 'probe'), 'x')
  } catch {
    return { how: 'chattr +i (running as root)', undo }
  }
  undo()
  return { skip: 'chattr +i did not make the directory read-only on this filesystem' }
}

describe('opening a store', () => {
  it('first use creates the data dir owner-only, the database and the store identity', async () => {
    const parent = dir()
    const dataDir = join(parent, 'nested', 'data')
    const store = await open(dataDir)
    expect(statSync(dataDir).mode & 0o777).toBe(0o700)
    expect(existsSync(join(dataDir, DB_FILE))).toBe(true)
    const h = store.health()
    expect(h.storeId).toMatch(/^[0-9a-f-]{36}$/)
    expect(h.dbPath).toBe(join(dataDir, DB_FILE))
    expect(h.keychain).toBe('keytar')
  })

  it('keys survive close and reopen; the identity stays the same', async () => {
    const d = dir()
    const s1 = await openKeyStore({ dataDir: d, actor: 'tester' })
    const id = s1.health().storeId
    cleanups.push(() => dropKeychainEntry(id))
    const k = s1.create({ name: 'durable' })
    s1.close()
    const s2 = await open(d)
    expect(s2.health().storeId).toBe(id)
    expect(s2.verify({ accessKey: k.accessKey })).toMatchObject({ valid: true, accessId: k.accessId })
  })

  it('two handles on one store (app and CLI) see each other’s writes', async () => {
    const d = dir()
    const a = await open(d)
    const b = await openKeyStore({ dataDir: d, actor: 'cli' })
    cleanups.push(() => b.close())
    const k = a.create({ name: 'shared' })
    expect(b.verify({ accessKey: k.accessKey }).valid).toBe(true)
    b.revoke([k.accessId])
    expect(a.verify({ accessKey: k.accessKey })).toEqual({ valid: false, reason: 'revoked' })
    expect(a.verifyAudit().ok).toBe(true)
  })

  it('a one-shot process (the CLI) can ask for a small page cache; everyone else keeps the default', async () => {
    const d = dir()
    const a = await open(d)
    const cli = await openKeyStore({ dataDir: d, actor: 'cli', create: false, pageCacheKiB: 2048 })
    cleanups.push(() => cli.close())
    expect(cli.database.pragma('cache_size', { simple: true })).toBe(-2048)
    expect(a.database.pragma('cache_size', { simple: true })).toBe(-16000)
  })
})

describe('a store that cannot be opened', () => {
  it('a file of garbage is refused as corrupt, named, and left byte-for-byte unchanged', async () => {
    const d = dir()
    const garbage = randomBytes(16384)
    writeFileSync(join(d, DB_FILE), garbage)
    const e = await catchKdAsync(openKeyStore({ dataDir: d }))
    expect(e.kind).toBe('store_unavailable')
    expect(e.message).toMatch(/corrupt|not a KeyDesk database/)
    expect(e.message).toContain(join(d, DB_FILE))
    expect(e.message).not.toMatch(/\n\s+at /)
    expect(readFileSync(join(d, DB_FILE)).equals(garbage)).toBe(true)
  })

  it('a real store with damaged pages is refused at open (integrity check), file unchanged', async () => {
    const d = dir()
    const s = await openKeyStore({ dataDir: d, actor: 'tester' })
    const id = s.health().storeId
    cleanups.push(() => dropKeychainEntry(id))
    s.setPolicy({ maxKeysPerOwner: 1000 })
    s.createMany(Array.from({ length: 400 }, (_, i) => ({ name: `bulk-${i}`, description: 'x'.repeat(100) })))
    s.close()
    const path = join(d, DB_FILE)
    const fd = openSync(path, 'r+')
    const size = fstatSync(fd).size
    const pageSize = 4096
    expect(size).toBeGreaterThan(pageSize * 8)
    // Scribble over the middle pages, leaving the header page intact.
    for (let p = 2; p < size / pageSize - 1; p += 2) writeSync(fd, randomBytes(pageSize), 0, pageSize, p * pageSize + 100)
    closeSync(fd)
    const damaged = readFileSync(path)
    const e = await catchKdAsync(openKeyStore({ dataDir: d }))
    expect(e.kind).toBe('store_unavailable')
    expect(e.message).toMatch(/integrity check|corrupt/)
    expect(readFileSync(path).equals(damaged)).toBe(true)
  })

  it('a data dir path under a regular file is refused with store_unavailable', async () => {
    const d = dir()
    const file = join(d, 'not-a-dir')
    writeFileSync(file, 'x')
    const e = await catchKdAsync(openKeyStore({ dataDir: join(file, 'data') }))
    expect(e.kind).toBe('store_unavailable')
    expect(e.message).toContain(join(file, 'data'))
    expect(readFileSync(file, 'utf8')).toBe('x')
  })

  it('a read-only, empty data dir is refused with store_unavailable and nothing is created', async (ctx) => {
    const d = dir()
    const ro = makeReadOnly(d)
    if ('skip' in ro) {
      console.log(`skipped: ${ro.skip}`)
      ctx.skip()
      return
    }
    cleanups.push(ro.undo)
    const e = await catchKdAsync(openKeyStore({ dataDir: d }))
    expect(e.kind).toBe('store_unavailable')
    expect(e.message).toMatch(/cannot be opened for writing|could not be opened/)
    expect(readdirSync(d)).toEqual([])
  })

  it('an existing store in a data dir made read-only is refused with store_unavailable, store intact', async (ctx) => {
    const d = dir()
    const s = await openKeyStore({ dataDir: d, actor: 'tester' })
    const id = s.health().storeId
    cleanups.push(() => dropKeychainEntry(id))
    const k = s.create({ name: 'before-readonly' })
    s.close()
    const bytes = readFileSync(join(d, DB_FILE))
    const ro = makeReadOnly(d)
    if ('skip' in ro) {
      console.log(`skipped: ${ro.skip}`)
      ctx.skip()
      return
    }
    cleanups.push(ro.undo)
    const e = await catchKdAsync(openKeyStore({ dataDir: d }))
    ro.undo()
    expect(e.kind).toBe('store_unavailable')
    expect(e.message).toContain(join(d, DB_FILE))
    expect(readFileSync(join(d, DB_FILE)).equals(bytes)).toBe(true)
    // Once writable again, the store is fine and the key still verifies.
    const again = await open(d)
    expect(again.verify({ accessKey: k.accessKey }).valid).toBe(true)
  })
})

describe('test store helper', () => {
  it('uses the injected clock for timestamps', async () => {
    const t = await openTestStore()
    cleanups.push(t.cleanup)
    const k = t.store.create({ name: 'clocked' })
    expect(t.store.get(k.accessId).createdAt).toBe(new Date(t.clock.t).toISOString())
  })
})
