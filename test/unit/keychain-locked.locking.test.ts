/**
 * A locked keyring is not a missing entry. Real gnome-keyring: the test runs the
 * keychain module (TypeScript, run by Node's type stripping) in a child process
 * inside its OWN private D-Bus session and keyring, so
 * locking that keyring cannot disturb the tests running beside it.
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { PRIVATE_KEYRING } from '../private-keyring'
import { tempDir } from '../helpers'

const ROOT = resolve(__dirname, '../..')
/**
 * Run a bash script in its own D-Bus session with its own unlocked gnome-keyring,
 * and stop that daemon afterwards (a daemon left behind would hold our pipes open).
 */
const t = tempDir('keydesk-locked-')
afterAll(() => t.cleanup())

/** Resolve the source's extensionless relative imports to .ts files. */
writeFileSync(
  join(t.dir, 'hooks.mjs'),
  `export async function resolve(spec, ctx, next) {
  try { return await next(spec, ctx) } catch (e) {
    if (spec.startsWith('.') && !spec.endsWith('.ts')) return next(spec + '.ts', ctx)
    throw e
  }
}\n`,
)
writeFileSync(join(t.dir, 'register.mjs'), `import { register } from 'node:module'\nregister('./hooks.mjs', import.meta.url)\n`)

const probe = `
import { execFileSync } from 'node:child_process'
const { keytarKeychain, secretServiceLockState } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src/main/core/keychain.ts')).href)})
const SERVICE = 'KeyDesk locked-keyring test'
const port = keytarKeychain(SERVICE)
const res = {}
const attempt = async (name, fn) => {
  try { res[name] = { value: await fn() } } catch (e) { res[name] = { error: { name: e.name, kind: e.kind, message: e.message, locked: e.locked === true } } }
}
await port.set('store-1', 'material-1')
await attempt('unlockedGet', () => port.get('store-1'))
await attempt('unlockedMissing', () => port.get('store-none'))
res.stateBefore = await secretServiceLockState(SERVICE, 'store-1')
execFileSync('dbus-send', ['--session', '--dest=org.freedesktop.secrets', '--type=method_call', '--print-reply',
  '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.Lock', 'array:objpath:/org/freedesktop/secrets/collection/login'])
res.stateAfter = await secretServiceLockState(SERVICE, 'store-1')
await attempt('lockedGet', () => port.get('store-1'))
await attempt('lockedMissing', () => port.get('store-none'))
await attempt('lockedSet', () => port.set('store-2', 'material-2'))
process.stdout.write('RESULT ' + JSON.stringify(res) + '\\n')
`
writeFileSync(join(t.dir, 'probe.mjs'), probe)

type Outcome = { value?: string | null; error?: { name: string; kind: string; message: string; locked: boolean } }

describe('locked keyring (real gnome-keyring in a private session)', () => {
  it('get on a locked collection throws KeychainLockedError saying "locked", never "no entry" / "restore"; an unlocked missing entry is still null', () => {
    const cmd = `"${process.execPath}" --import "${pathToFileURL(join(t.dir, 'register.mjs')).href}" "${join(t.dir, 'probe.mjs')}"`
    const r = spawnSync('bash', ['-c', PRIVATE_KEYRING, 'sh', cmd], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '))
    if (!line) throw new Error(`probe failed (${r.status}): ${r.stdout}\n${r.stderr}`)
    const res = JSON.parse(line.slice(7)) as Record<string, Outcome> & { stateBefore: string; stateAfter: string }
    expect(res.unlockedGet).toEqual({ value: 'material-1' })
    expect(res.unlockedMissing).toEqual({ value: null })
    expect(res.stateBefore).toBe('unlocked')
    expect(res.stateAfter).toBe('locked')
    for (const k of ['lockedGet', 'lockedMissing', 'lockedSet'] as const) {
      const e = res[k]!.error
      expect(e, k).toBeDefined()
      expect(e!.kind).toBe('keychain_unavailable')
      expect(e!.name).toBe('KeychainLockedError')
      expect(e!.locked).toBe(true)
      expect(e!.message).toMatch(/keychain is locked/)
      expect(e!.message).toMatch(/Unlock it/)
      expect(e!.message).not.toMatch(/no entry|restore/i)
      expect(e!.message).not.toContain('material')
    }
  })
})
