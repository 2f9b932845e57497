/**
 * Leak scan: find strings of KeyDesk access-key shape with a valid CRC32 checksum
 * in files (respecting .gitignore, skipping binaries and big files) and, on
 * request, in every blob of a git history (through the git CLI), then name each
 * one through a lookup by HMAC (KeyStore.findByKey).
 *
 * Secrets found stay in this module's memory for the lookup only: results carry
 * the key's hint, name, owner and where it was found, never the key itself.
 */
import { spawnSync } from 'node:child_process'
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readSync, readdirSync, realpathSync } from 'node:fs'
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import ignore, { type Ignore } from 'ignore'
import { KeydeskError, invalid } from './errors'
import { ACCESS_KEY_PREFIX, isWellFormedAccessKey, keyHint } from './keyformat'
import { SCAN_MAX_FILE_BYTES, type KeyMatch } from '../../shared/domain'

/** A NUL byte in the first this many bytes marks a binary file (git's own rule). */
const BINARY_SNIFF_BYTES = 8000
/** Largest `git cat-file --batch` answer read at once. */
const GIT_BATCH_BYTES = 64 * 1024 * 1024
const GIT_TIMEOUT_MS = 10 * 60_000

/**
 * Access-key shape: the prefix, 38 base62 characters, not inside a longer run of
 * letters and digits. The checksum is checked afterwards (isWellFormedAccessKey).
 */
const KEY_SHAPE = /(?<![0-9A-Za-z])kdsk_[0-9A-Za-z]{38}(?![0-9A-Za-z])/g
/** The documentation's example key (README "Scanner rules"): valid checksum, never issued; every shipped rule allows it. */
export const DOCS_EXAMPLE_KEY = /^kdsk_(?:EXAMPLE0){4}[0-9A-Za-z]{6}$/

export interface KeyOccurrence {
  /** The key as found: stays in memory, never printed. */
  key: string
  /** 1-based line of the match. */
  line: number
}

/** Every checksum-valid access key in a text, with its line (not the documentation's example key). */
export function findKeysInText(text: string): KeyOccurrence[] {
  if (!text.includes(ACCESS_KEY_PREFIX)) return []
  const out: KeyOccurrence[] = []
  let line = 1
  let lineFrom = 0
  for (const m of text.matchAll(KEY_SHAPE)) {
    if (!isWellFormedAccessKey(m[0]) || DOCS_EXAMPLE_KEY.test(m[0])) continue
    for (let i = text.indexOf('\n', lineFrom); i !== -1 && i < m.index; i = text.indexOf('\n', i + 1)) {
      line++
      lineFrom = i + 1
    }
    out.push({ key: m[0], line })
  }
  return out
}

export function isBinary(buf: Buffer): boolean {
  return buf.subarray(0, BINARY_SNIFF_BYTES).includes(0)
}

export type Location =
  | { kind: 'file'; path: string; line: number }
  | { kind: 'git'; commit: string; path: string; line: number }

export function formatLocation(l: Location): string {
  return l.kind === 'file' ? `${l.path}:${l.line}` : `${l.commit.slice(0, 12)}:${l.path}:${l.line}`
}

export interface LeakedKey extends KeyMatch {
  locations: Location[]
}

/** A checksum-valid key no key of this store has (another store's, or a retired and purged one). */
export interface UnknownKey {
  hint: string
  locations: Location[]
}

export interface ScanStats {
  files: number
  blobs: number
  skippedBinary: number
  skippedLarge: number
  skippedUnreadable: number
}

export interface ScanResult {
  /** Keys of this store, live ones first. */
  found: LeakedKey[]
  unknown: UnknownKey[]
  stats: ScanStats
  /** True when at least one found key verifies right now. */
  live: boolean
}

export interface ScanOptions {
  /** Also scan every blob in the git history of each path's repository. */
  git?: boolean
  maxFileBytes?: number
  /** Where relative display paths start (default: the process's cwd). */
  cwd?: string
}

export type KeyLookup = (accessKey: string) => KeyMatch | null

/** Collects occurrences and looks each distinct key up once. */
class Collector {
  private readonly byKey = new Map<string, { match: KeyMatch | null; locations: Location[] }>()
  constructor(private readonly lookup: KeyLookup) {}

  add(key: string, loc: Location): void {
    let e = this.byKey.get(key)
    if (!e) this.byKey.set(key, (e = { match: this.lookup(key), locations: [] }))
    e.locations.push(loc)
  }

  result(stats: ScanStats): ScanResult {
    const found = new Map<string, LeakedKey>()
    const unknown: UnknownKey[] = []
    for (const [key, e] of this.byKey) {
      if (!e.match) {
        unknown.push({ hint: keyHint(key), locations: e.locations })
        continue
      }
      const id = `${e.match.accessId}/${e.match.previous ? 'p' : 'c'}`
      const prev = found.get(id)
      if (prev) prev.locations.push(...e.locations)
      else found.set(id, { ...e.match, locations: [...e.locations] })
    }
    this.byKey.clear() // drop the secrets as soon as they are named
    const list = [...found.values()].sort((a, b) => Number(b.live) - Number(a.live) || a.name.localeCompare(b.name))
    return { found: list, unknown, stats, live: list.some((k) => k.live) }
  }
}

/** Scan files under the given paths (and, with git, their repositories' histories). */
/** A scan's findings as plain data (locations as text), for JSON output and the bridge. Never a secret. */
export function scanSummary(r: ScanResult) {
  return {
    live: r.live,
    found: r.found.map((k) => ({
      accessId: k.accessId,
      name: k.name,
      owner: k.owner,
      status: k.status,
      hint: k.hint,
      previous: k.previous,
      live: k.live,
      locations: k.locations.map(formatLocation),
    })),
    unknown: r.unknown.map((u) => ({ hint: u.hint, locations: u.locations.map(formatLocation) })),
    stats: r.stats,
  }
}

export function scanPaths(paths: readonly string[], lookup: KeyLookup, opts: ScanOptions = {}): ScanResult {
  if (paths.length === 0) throw invalid('path', 'Give at least one file or folder to scan.')
  const max = opts.maxFileBytes ?? SCAN_MAX_FILE_BYTES
  const cwd = opts.cwd ?? process.cwd()
  const show = (abs: string): string => {
    const rel = relative(cwd, abs)
    return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? abs : rel
  }
  const stats: ScanStats = { files: 0, blobs: 0, skippedBinary: 0, skippedLarge: 0, skippedUnreadable: 0 }
  const c = new Collector(lookup)
  const roots = paths.map((p) => {
    const abs = resolve(cwd, p)
    try {
      lstatSync(abs)
    } catch {
      throw invalid('path', `${p} does not exist.`)
    }
    return abs
  })
  for (const root of roots) walk(root, (file) => scanFile(file, show(file), max, stats, c))
  if (opts.git) {
    const repos = new Set<string>()
    for (const root of roots) repos.add(gitTopLevel(root, show(root)))
    for (const repo of repos) scanGitHistory(repo, max, stats, c)
  }
  return c.result(stats)
}

function scanFile(abs: string, shown: string, max: number, stats: ScanStats, c: Collector): void {
  let buf: Buffer | null
  try {
    buf = readSmallFile(abs, max)
  } catch {
    stats.skippedUnreadable++
    return
  }
  if (buf === null) return // not a regular file (any more)
  if (buf.length > max) {
    stats.skippedLarge++
    return
  }
  if (isBinary(buf)) {
    stats.skippedBinary++
    return
  }
  stats.files++
  for (const o of findKeysInText(buf.toString('utf8'))) c.add(o.key, { kind: 'file', path: shown, line: o.line })
}

/**
 * Read a regular file of at most max bytes; a bigger one comes back max+1 bytes
 * long (so it is counted as too large), anything else as null. Opened without
 * following a symlink and without blocking (a FIFO swapped in after the walk saw a
 * file must not hang the scan), then checked on the open descriptor.
 */
function readSmallFile(abs: string, max: number): Buffer | null {
  const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) return null
    if (st.size > max) return Buffer.alloc(max + 1)
    // Read to the end (a file may grow while it is read), but never past max+1 bytes.
    const chunks: Buffer[] = []
    let total = 0
    let chunk = Buffer.alloc(Math.min(st.size, max) + 1)
    for (;;) {
      const r = readSync(fd, chunk, 0, Math.min(chunk.length, max + 1 - total), null)
      if (r === 0) break
      chunks.push(chunk.subarray(0, r))
      total += r
      if (total > max) break
      chunk = Buffer.alloc(64 * 1024)
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)
  } finally {
    closeSync(fd)
  }
}

interface IgnoreScope {
  base: string
  ig: Ignore
}

function readGitignore(dir: string): Ignore | null {
  let text: string
  try {
    text = readFileSync(join(dir, '.gitignore'), 'utf8')
  } catch {
    return null
  }
  return ignore().add(text)
}

function ignored(scopes: readonly IgnoreScope[], abs: string, isDir: boolean): boolean {
  for (const s of scopes) {
    const rel = relative(s.base, abs).split(sep).join('/')
    if (rel === '' || rel.startsWith('..')) continue
    if (s.ig.ignores(isDir ? `${rel}/` : rel)) return true
  }
  return false
}

/**
 * Depth-first walk: never follows symbolic links, never enters .git, and skips
 * what the .gitignore files on the way (from the given root down) exclude. A path
 * given explicitly is always scanned.
 */
function walk(root: string, onFile: (abs: string) => void): void {
  let st
  try {
    st = lstatSync(root)
  } catch {
    return
  }
  if (st.isFile()) return onFile(root)
  if (!st.isDirectory()) return
  const visit = (dir: string, scopes: IgnoreScope[]): void => {
    const own = readGitignore(dir)
    const here = own ? [...scopes, { base: dir, ig: own }] : scopes
    let entries
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const e of entries) {
      const abs = join(dir, e.name)
      if (e.isSymbolicLink()) continue
      if (e.isDirectory()) {
        if (e.name === '.git' || ignored(here, abs, true)) continue
        visit(abs, here)
      } else if (e.isFile()) {
        if (!ignored(here, abs, false)) onFile(abs)
      }
    }
  }
  visit(root, [])
}

// ── git history ───────────────────────────────────────────────────────────

function git(repo: string, args: string[], input?: string): Buffer {
  const r = spawnSync('git', ['-C', repo, '-c', 'core.quotePath=false', ...args], {
    input,
    maxBuffer: GIT_BATCH_BYTES * 2,
    timeout: GIT_TIMEOUT_MS,
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
  })
  if (r.error) {
    const code = (r.error as { code?: string }).code
    if (code === 'ENOENT') throw new KeydeskError('invalid_input', 'git is not installed or not on PATH; --git needs the git command.', 'git')
    throw new KeydeskError('invalid_input', `git ${args[0]} failed in ${repo} (${code ?? 'error'}).`, 'git')
  }
  if (r.status !== 0) {
    const first = r.stderr.toString('utf8').split('\n')[0]?.replace(/^fatal: /, '').slice(0, 200) ?? ''
    throw new KeydeskError('invalid_input', `git ${args[0]} failed in ${repo}: ${first}`, 'git')
  }
  return r.stdout
}

function gitTopLevel(abs: string, shown: string): string {
  let dir = abs
  try {
    if (!lstatSync(abs).isDirectory()) dir = resolve(abs, '..')
  } catch {
    /* checked before */
  }
  const r = spawnSync('git', ['-C', dir, 'rev-parse', '--show-toplevel'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, LC_ALL: 'C' } })
  if (r.error && (r.error as { code?: string }).code === 'ENOENT')
    throw new KeydeskError('invalid_input', 'git is not installed or not on PATH; --git needs the git command.', 'git')
  if (r.status !== 0 || !r.stdout.trim()) throw invalid('path', `${shown} is not inside a git repository (needed for --git).`)
  return realpathSync(r.stdout.trim())
}

interface BlobRef {
  sha: string
  size: number
  path: string
}

/** Every blob reachable from any ref, with the path it was first seen at; then read in batches. */
function scanGitHistory(repo: string, max: number, stats: ScanStats, c: Collector): void {
  // No commits yet (a fresh `git init`): nothing to read.
  const refs = git(repo, ['for-each-ref', '--format=%(objectname)']).toString('utf8').trim()
  const head = spawnSync('git', ['-C', repo, 'rev-parse', '--verify', '-q', 'HEAD'], { timeout: 30_000 })
  if (refs === '' && head.status !== 0) return
  const listing = git(repo, ['rev-list', '--objects', '--all']).toString('utf8')
  const pathOf = new Map<string, string>()
  for (const line of listing.split('\n')) {
    // "<id> <path>" for trees and blobs; commits have no path, the root tree an empty one. (SHA-1 or SHA-256 ids.)
    const sp = line.indexOf(' ')
    if (sp <= 0 || sp === line.length - 1) continue
    pathOf.set(line.slice(0, sp), line.slice(sp + 1))
  }
  if (pathOf.size === 0) return
  const check = git(repo, ['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)'], [...pathOf.keys()].join('\n') + '\n').toString('utf8')
  const blobs: BlobRef[] = []
  for (const line of check.split('\n')) {
    const [sha, type, size] = line.split(' ')
    if (!sha || type !== 'blob') continue
    const n = Number(size)
    if (n > max) {
      stats.skippedLarge++
      continue
    }
    blobs.push({ sha, size: n, path: pathOf.get(sha)! })
  }
  const hits: { blob: BlobRef; found: KeyOccurrence[] }[] = []
  for (let i = 0; i < blobs.length; ) {
    const batch: BlobRef[] = []
    let bytes = 0
    while (i < blobs.length && (batch.length === 0 || bytes + blobs[i]!.size <= GIT_BATCH_BYTES)) {
      bytes += blobs[i]!.size
      batch.push(blobs[i++]!)
    }
    const out = git(repo, ['cat-file', '--batch'], batch.map((b) => b.sha).join('\n') + '\n')
    let at = 0
    for (const b of batch) {
      const nl = out.indexOf(0x0a, at)
      const header = out.subarray(at, nl).toString('utf8')
      const size = Number(header.split(' ')[2])
      const content = out.subarray(nl + 1, nl + 1 + size)
      at = nl + 1 + size + 1
      if (isBinary(content)) {
        stats.skippedBinary++
        continue
      }
      stats.blobs++
      const found = findKeysInText(content.toString('utf8'))
      if (found.length) hits.push({ blob: b, found })
    }
  }
  for (const { blob, found } of hits) {
    const commit = introducingCommit(repo, blob.sha)
    // The path inside the repository, as git names it.
    for (const o of found) c.add(o.key, { kind: 'git', commit, path: blob.path, line: o.line })
  }
}

/** The oldest commit whose diff adds this blob (where the leak entered the history). */
function introducingCommit(repo: string, sha: string): string {
  const lines = git(repo, ['log', '--all', '--format=%H', `--find-object=${sha}`]).toString('utf8').trim().split('\n').filter(Boolean)
  return lines[lines.length - 1] ?? 'unknown'
}
