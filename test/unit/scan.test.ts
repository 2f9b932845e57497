/**
 * The leak scanner (src/main/core/scan.ts) on real temp trees and real git
 * repositories, looking keys up in a real store (real SQLite, real keyring).
 * Planted keys live only in temp dirs these tests delete; assertions never print
 * a key (they compare booleans), so a failure cannot leak one either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findKeysInText, formatLocation, isBinary, scanPaths, type ScanResult } from '../../src/main/core/scan'
import { isWellFormedAccessKey, newAccessId, newAccessKey } from '../../src/main/core/keyformat'
import { DAY, HOUR, openTestStore, type TestStore } from './support'

const dirs: string[] = []
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'keydesk-scan-'))
  dirs.push(d)
  return d
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function put(root: string, rel: string, content: string | Buffer): void {
  const p = join(root, rel)
  mkdirSync(join(p, '..'), { recursive: true })
  writeFileSync(p, content)
}

function git(repo: string, ...args: string[]): string {
  const r = spawnSync('git', ['-C', repo, ...args], {
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', GIT_CONFIG_GLOBAL: '/dev/null' },
  })
  if (r.status !== 0) throw new Error(`git ${args[0]} failed: ${r.stderr}`)
  return r.stdout.trim()
}

/** A key with a wrong checksum: same shape, last character changed. */
function badChecksum(key: string): string {
  return key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A')
}

const noSecretIn = (r: ScanResult, ...keys: string[]): boolean => {
  const s = JSON.stringify(r)
  return keys.every((k) => !s.includes(k))
}

describe('findKeysInText', () => {
  it('finds checksum-valid keys with their lines, and nothing else', () => {
    const a = newAccessKey()
    const b = newAccessKey()
    const docsExample = 'kdsk_EXAMPLE0EXAMPLE0EXAMPLE0EXAMPLE03s0tOr'
    expect(isWellFormedAccessKey(docsExample)).toBe(true)
    const text = [`x = 1`, `TOKEN=${a}`, `bad=${badChecksum(b)}`, `id=${newAccessId()}`, `"${b}",`, `embedded${a}`, `${a}X`, docsExample].join('\n')
    const found = findKeysInText(text)
    expect(found.map((f) => f.line)).toEqual([2, 5])
    expect(found[0]!.key === a && found[1]!.key === b).toBe(true)
  })

  it('counts lines across CRLF files and several keys on one line', () => {
    const a = newAccessKey()
    const b = newAccessKey()
    const found = findKeysInText(`one\r\ntwo\r\n${a} ${b}\r\n`)
    expect(found.map((f) => f.line)).toEqual([3, 3])
  })

  it('a NUL byte in the first 8000 bytes marks a binary', () => {
    expect(isBinary(Buffer.from('plain text'))).toBe(false)
    expect(isBinary(Buffer.from([0x41, 0x00, 0x42]))).toBe(true)
  })
})

describe('scanPaths over files', () => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore()
    t.store.addOwner('ci-bot', 'service')
  })
  afterAll(() => t.cleanup())

  it('names a live key of this store by file:line, respects .gitignore, skips binaries, big files and symlinks', () => {
    const live = t.store.create({ name: 'payments', owner: 'ci-bot', expiresIn: '30d' })
    const root = tmp()
    const foreign = newAccessKey()
    put(root, 'app/config.env', `# config\nPAYMENTS_KEY=${live.accessKey}\n`)
    put(root, 'app/other.txt', `from another store: ${foreign}\n`)
    put(root, '.gitignore', 'ignored/\n*.log\n')
    put(root, 'ignored/secret.env', `K=${live.accessKey}\n`)
    put(root, 'debug.log', `K=${live.accessKey}\n`)
    put(root, 'sub/.gitignore', 'local.env\n')
    put(root, 'sub/local.env', `K=${live.accessKey}\n`)
    put(root, 'blob.bin', Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(live.accessKey)]))
    put(root, 'big.txt', `K=${live.accessKey}\n${'x'.repeat(2000)}`)
    symlinkSync(join(root, 'app/config.env'), join(root, 'link.env'))
    // A FIFO never blocks the scan (it is not a regular file).
    expect(spawnSync('mkfifo', [join(root, 'pipe.env')]).status).toBe(0)
    const r = scanPaths([root], (k) => t.store.findByKey(k), { maxFileBytes: 1000, cwd: root })
    expect(r.live).toBe(true)
    expect(r.found).toHaveLength(1)
    const k = r.found[0]!
    expect([k.name, k.owner, k.status, k.live, k.previous, k.accessId]).toEqual(['payments', 'ci-bot', 'active', true, false, live.accessId])
    expect(k.hint).toBe(live.accessKey.slice(0, 9))
    expect(k.locations.map(formatLocation)).toEqual(['app/config.env:2'])
    expect(r.unknown.map((u) => u.locations.map(formatLocation))).toEqual([['app/other.txt:1']])
    expect(r.stats).toMatchObject({ skippedBinary: 1, skippedLarge: 1 })
    expect(noSecretIn(r, live.accessKey, foreign)).toBe(true)
  })

  it('reports a revoked key as dead (exit would be 0), and a previous secret in grace as live', () => {
    const dead = t.store.create({ name: 'old-one', owner: 'ci-bot' })
    t.store.revoke([dead.accessId], 'rotated')
    const rotating = t.store.create({ name: 'rotating', owner: 'ci-bot' })
    t.store.reset(rotating.accessId, { confirm: 'rotating', grace: '24h' })
    const root = tmp()
    put(root, 'a.txt', `${dead.accessKey}\n\n${rotating.accessKey}\n`)
    let r = scanPaths([root], (k) => t.store.findByKey(k), { cwd: root })
    const byName = Object.fromEntries(r.found.map((k) => [k.name, k]))
    expect(byName['old-one']).toMatchObject({ status: 'revoked', live: false })
    expect(byName['rotating']).toMatchObject({ status: 'active', live: true, previous: true })
    expect(byName['rotating']!.locations.map(formatLocation)).toEqual(['a.txt:3'])
    t.clock.advance(25 * HOUR)
    r = scanPaths([root], (k) => t.store.findByKey(k), { cwd: root })
    // After the grace period the old secret no longer verifies (a store may still name it as retired, never live).
    expect(r.live).toBe(false)
    expect(r.found.find((k) => k.name === 'rotating')?.live ?? false).toBe(false)
  })

  it('an expired key is found but not live; a path that does not exist is refused naming it', () => {
    const soon = t.store.create({ name: 'short', owner: 'ci-bot', expiresIn: '1d' })
    const root = tmp()
    put(root, 'x.env', soon.accessKey)
    t.clock.advance(2 * DAY)
    const r = scanPaths([join(root, 'x.env')], (k) => t.store.findByKey(k), { cwd: root })
    expect(r.found[0]).toMatchObject({ name: 'short', status: 'expired', live: false })
    expect(() => scanPaths([join(root, 'nope')], () => null)).toThrow(/nope does not exist/)
  })
})

describe('scanPaths --git: every blob in the history', () => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore()
  })
  afterAll(() => t.cleanup())

  it('finds a key that only an old commit holds, naming the commit that added it and its path and line', () => {
    const k = t.store.create({ name: 'deploy' })
    const repo = tmp()
    git(repo, 'init', '-q', '-b', 'main')
    put(repo, 'README.md', '# demo\n')
    git(repo, 'add', '.')
    git(repo, 'commit', '-q', '-m', 'init')
    put(repo, 'ci/deploy.sh', `#!/bin/sh\nexport TOKEN=${k.accessKey}\n`)
    git(repo, 'add', '.')
    git(repo, 'commit', '-q', '-m', 'add deploy')
    const leakCommit = git(repo, 'rev-parse', 'HEAD')
    put(repo, 'ci/deploy.sh', '#!/bin/sh\nexport TOKEN="$DEPLOY_TOKEN"\n')
    git(repo, 'commit', '-q', '-am', 'use env')
    // On another branch too, and a binary blob with the key in it.
    git(repo, 'checkout', '-q', '-b', 'side')
    put(repo, 'data.bin', Buffer.concat([Buffer.from([0]), Buffer.from(k.accessKey)]))
    git(repo, 'add', '.')
    git(repo, 'commit', '-q', '-m', 'binary')
    git(repo, 'checkout', '-q', 'main')

    const plain = scanPaths([repo], (x) => t.store.findByKey(x), { cwd: repo })
    expect(plain.found).toEqual([])
    const r = scanPaths([repo], (x) => t.store.findByKey(x), { git: true, cwd: repo })
    expect(r.live).toBe(true)
    expect(r.found).toHaveLength(1)
    expect(r.found[0]!.name).toBe('deploy')
    expect(r.found[0]!.locations).toEqual([{ kind: 'git', commit: leakCommit, path: 'ci/deploy.sh', line: 2 }])
    expect(formatLocation(r.found[0]!.locations[0]!)).toBe(`${leakCommit.slice(0, 12)}:ci/deploy.sh:2`)
    expect(r.stats.skippedBinary).toBeGreaterThanOrEqual(1)
    expect(noSecretIn(r, k.accessKey)).toBe(true)
  })

  it('a folder outside any repository is refused with --git, naming the path', () => {
    const d = tmp()
    expect(() => scanPaths([d], () => null, { git: true, cwd: d })).toThrow(/is not inside a git repository/)
  })

  it('an empty repository (no commits) scans without error', () => {
    const repo = tmp()
    git(repo, 'init', '-q')
    const r = scanPaths([repo], () => null, { git: true, cwd: repo })
    expect(r.found).toEqual([])
  })
})

describe('findByKey', () => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore()
  })
  afterAll(() => t.cleanup())

  it('returns no secret, and null for unknown or malformed keys; it records no use', () => {
    const k = t.store.create({ name: 'lookup' })
    const m = t.store.findByKey(k.accessKey)!
    expect(Object.keys(m).sort()).toEqual(['accessId', 'hint', 'live', 'name', 'owner', 'previous', 'status'])
    expect(JSON.stringify(m).includes(k.accessKey)).toBe(false)
    expect(t.store.findByKey(newAccessKey())).toBeNull()
    expect(t.store.findByKey(badChecksum(k.accessKey))).toBeNull()
    expect(t.store.findByKey('kdsk_short')).toBeNull()
    expect(t.store.get(k.accessId).lastUsedAt).toBeNull()
  })

  it('a key of a disabled owner is found but not live', () => {
    t.store.addOwner('paused')
    const k = t.store.create({ name: 'p', owner: 'paused' })
    t.store.disableOwner('paused')
    expect(t.store.findByKey(k.accessKey)).toMatchObject({ name: 'p', live: false })
  })
})
