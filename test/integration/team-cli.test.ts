/**
 * `keydesk team init | export-secret | join` through the real CLI process, on a real
 * PostgreSQL server (KEYDESK_TEST_PG) and real Secret Service keyrings: admin A is
 * this suite's keyring (scripts/with-keyring.sh); admin B runs in a keyring of its own
 * (PRIVATE_KEYRING: its own D-Bus session and gnome-keyring, gone when its script ends,
 * so each B script is one B session).
 *
 * Sealing and opening cost ~4 s of scrypt each, so the CLI does only two (A's export,
 * B's join); the other sealed files the test needs (the same secret again, another
 * store's, a forged one) are sealed here with a cheap work factor, which age records in
 * the file, so opening them (right or wrong passphrase) is cheap. Every CLI process
 * costs ~1 s, so B's steps share one keyring session.
 */
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { hostname, userInfo } from 'node:os'
import { join } from 'node:path'
import { Encrypter, armor } from 'age-encryption'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeKeyMaterial, newKeyMaterial, type KeyMaterial } from '../../src/main/core/crypto'
import { keytarKeychain } from '../../src/main/core/keychain'
import { readGatewaySecretFile, teamSecretPayload } from '../../src/main/core/team-secret'
import { freshTeamDatabase, tempDir } from '../helpers'
import { PRIVATE_KEYRING } from '../private-keyring'
import { BIN, ROOT, cli, type CliResult } from './cli-helpers'

if (!process.env.KEYDESK_TEST_PG)
  throw new Error('KEYDESK_TEST_PG is not set: this test needs a PostgreSQL server. Run it through npm test, or: eval "$(scripts/pg-test-server.sh start)" first.')

const PASS = 'correct horse battery staple'
const ME = `${userInfo().username}@${hostname()}`
const B_HOST = 'kd-admin-b'
/** B's session: ten CLI processes (~1 s each, several on a loaded machine) and one scrypt open. */
const B_SESSION_MS = 110_000
/** As root, B also gets a host name of its own (a UTS namespace), so A and B are different audit actors. */
const B_OWN_HOST = spawnSync('unshare', ['--uts', 'true']).status === 0

const t = tempDir('keydesk-team-')
let url = '' // team store 1 (A creates it)
let otherUrl = '' // team store 2 (another team)
let storeId = ''
let material: KeyMaterial
let aKey = { accessId: '', accessKey: '' }
let sealedFile = ''
const passFile = join(t.dir, 'pass.txt')
const wrongPassFile = join(t.dir, 'wrong-pass.txt')

/** Admin A: this suite's keyring. */
function a(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  return cli(t.dir, args, { env: { KEYDESK_STORE: '', ...env } })
}
function okJson<T>(r: CliResult): T {
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as T
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * Admin B: run the steps in ONE fresh keyring of B's own; each step's exit code,
 * stdout and stderr come back by name.
 */
function asAdminB(steps: [name: string, args: string[]][]): Record<string, CliResult> {
  const out = join(t.dir, `b-${randomUUID().slice(0, 8)}`)
  const script = [
    `mkdir -p ${shq(out)}`,
    ...steps.map(
      ([name, args]) =>
        `"$KD_NODE" "$KD_BIN" --data-dir ${shq(t.dir)} ${args.map(shq).join(' ')} </dev/null >${shq(join(out, `${name}.out`))} 2>${shq(join(out, `${name}.err`))}; echo $? >${shq(join(out, `${name}.code`))}`,
    ),
  ].join('\n')
  const env = { ...process.env, KD_NODE: process.execPath, KD_BIN: BIN, KEYDESK_STORE: '', PRIVATE_KEYRING }
  const r = B_OWN_HOST
    ? spawnSync('unshare', ['--uts', 'bash', '-c', `hostname ${B_HOST} && exec bash -c "$PRIVATE_KEYRING" sh "$1"`, 'sh', script], { cwd: ROOT, encoding: 'utf8', env, timeout: B_SESSION_MS })
    : spawnSync('bash', ['-c', PRIVATE_KEYRING, 'sh', script], { cwd: ROOT, encoding: 'utf8', env, timeout: B_SESSION_MS })
  expect(r.status, `admin B's session failed: ${r.stdout}${r.stderr}`).toBe(0)
  const results: Record<string, CliResult> = {}
  for (const [name] of steps) {
    const read = (ext: string) => readFileSync(join(out, `${name}.${ext}`), 'utf8')
    results[name] = { code: Number(read('code').trim()), stdout: read('out'), stderr: read('err') }
  }
  return results
}

/** A sealed team secret file with a cheap scrypt work factor (age stores it in the file). */
async function sealCheap(m: KeyMaterial, id: string, label: string, passphrase = PASS): Promise<string> {
  const e = new Encrypter()
  e.setScryptWorkFactor(10)
  e.setPassphrase(passphrase)
  const path = join(t.dir, `cheap-${randomUUID().slice(0, 8)}.age`)
  writeFileSync(path, armor.encode(await e.encrypt(teamSecretPayload(m, id, label))), { mode: 0o600 })
  return path
}

function secretStrings(m: KeyMaterial): string[] {
  return [m.pepper.toString('base64'), m.macKey.toString('base64'), m.pepper.toString('hex'), m.macKey.toString('hex')]
}

beforeAll(async () => {
  url = await freshTeamDatabase()
  otherUrl = await freshTeamDatabase()
  writeFileSync(passFile, PASS + '\n', { mode: 0o600 })
  writeFileSync(wrongPassFile, PASS + '!\n', { mode: 0o600 })
})
afterAll(() => t.cleanup())

describe('keydesk team', () => {
  it('init: needs --store; creates the store and this admin keychain entry once; a second init is refused with a pointer to join', async () => {
    const none = a(['team', 'init'])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/^keydesk: team init needs --store postgres:\/\//)
    expect(none.stderr.trim().split('\n')).toHaveLength(1)

    const init = a(['--store', url, 'team', 'init'])
    expect(init.code, init.stderr).toBe(0)
    storeId = /Created team store ([0-9a-f-]{36})/.exec(init.stdout)?.[1] ?? ''
    expect(storeId).not.toBe('')
    expect(init.stdout).toMatch(/export-secret/)
    expect(init.stdout).toMatch(/team join/)
    const entry = await keytarKeychain().get(storeId)
    expect(entry).not.toBeNull()
    material = decodeKeyMaterial(entry!)

    // Again, by URL in the environment this time, and as JSON: refused, nothing changed.
    const again = a(['--json', 'team', 'init'], { KEYDESK_STORE: url })
    expect(again.code).toBe(2)
    expect(again.stdout).toBe('')
    expect(again.stderr).toMatch(/already holds KeyDesk team store/)
    expect(again.stderr).toContain(storeId)
    expect(again.stderr).toMatch(/keydesk team join/)
    expect(decodeKeyMaterial((await keytarKeychain().get(storeId))!).pepper.equals(material.pepper)).toBe(true)
  })

  it('export-secret (sealed): a new 0600 armored age file that shows neither the secret nor any key', () => {
    aKey = okJson(a(['--store', url, '--json', 'create', '--name', 'from-a']))
    sealedFile = join(t.dir, 'team.age')
    const r = a(['--store', url, 'team', 'export-secret', sealedFile, '--passphrase-file', passFile])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`Wrote the sealed secret of team store ${storeId} to ${sealedFile} (owner-only`)
    expect(statSync(sealedFile).mode & 0o777).toBe(0o600)
    const text = readFileSync(sealedFile, 'utf8')
    expect(text.startsWith('-----BEGIN AGE ENCRYPTED FILE-----\n')).toBe(true)
    expect(text.trimEnd().endsWith('-----END AGE ENCRYPTED FILE-----')).toBe(true)
    for (const s of [...secretStrings(material), aKey.accessKey, aKey.accessId, storeId, PASS]) {
      expect(text).not.toContain(s)
      if (s !== storeId) expect(r.stdout + r.stderr).not.toContain(s)
    }

    // Without a passphrase and without a terminal: exit 2, naming the option. (The export's audit entry: see --gateway below.)
    const noPass = a(['--store', url, 'team', 'export-secret', join(t.dir, 'nopass.age')])
    expect(noPass.code).toBe(2)
    expect(noPass.stderr).toMatch(/--passphrase-file/)
  })

  it("join: admin B (another keyring) is refused a wrong passphrase, another store's file and a forged one, with nothing written to its keychain; then joins, lists and verifies A's keys and issues one A verifies", { timeout: B_SESSION_MS + 20_000 }, async () => {
    // Another team's store (A is its admin too) and its properly sealed secret.
    const other = okJson<{ storeId: string }>(a(['--store', otherUrl, '--json', 'team', 'init']))
    const otherMaterial = decodeKeyMaterial((await keytarKeychain().get(other.storeId))!)
    const otherFile = await sealCheap(otherMaterial, other.storeId, otherUrl)
    const forged = await sealCheap(newKeyMaterial(), storeId, url) // this store's id, a secret not its own
    const same = await sealCheap(material, storeId, url) // this store's secret (joins with PASS)
    const b = asAdminB([
      ['wrong', ['--store', url, 'team', 'join', same, '--passphrase-file', wrongPassFile]],
      ['other', ['--store', url, 'team', 'join', otherFile, '--passphrase-file', passFile]],
      ['forged', ['--store', url, 'team', 'join', forged, '--passphrase-file', passFile]],
      ['listBefore', ['--store', url, 'list']],
      ['listOther', ['--store', otherUrl, 'list']],
      ['join', ['--store', url, '--json', 'team', 'join', sealedFile, '--passphrase-file', passFile]],
      ['again', ['team', 'join', same, '--store', url, '--passphrase-file', passFile]],
      ['list', ['--store', url, '--json', 'list']],
      ['verify', ['--store', url, '--json', 'verify', '--key', aKey.accessKey]],
      ['create', ['--store', url, '--json', 'create', '--name', 'from-b']],
    ])

    expect(b.wrong!.code).toBe(2)
    expect(b.wrong!.stderr).toBe('keydesk: The team secret file could not be opened: wrong passphrase or damaged file.\n')
    expect(b.other!.code).toBe(2)
    expect(b.other!.stderr).toMatch(new RegExp(`holds the secret of team store ${other.storeId}, but the database at .* holds store ${storeId}; nothing was added to the keychain`))
    expect(b.forged!.code).toBe(2)
    expect(b.forged!.stderr).toMatch(/does not match that store's keychain fingerprint.*nothing was added to the keychain/)
    for (const r of [b.wrong!, b.other!, b.forged!]) {
      expect(r.stdout).toBe('')
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      for (const s of [...secretStrings(material), ...secretStrings(otherMaterial), PASS]) expect(r.stderr).not.toContain(s)
    }
    // Nothing reached B's keychain: neither store opens, and the real join below is a first one ("joined").
    for (const r of [b.listBefore!, b.listOther!]) {
      expect(r.code).toBe(3)
      expect(r.stderr).toMatch(/^keydesk: The OS keychain has no entry for the key store/)
    }

    expect(b.join!.code, b.join!.stderr).toBe(0)
    expect(JSON.parse(b.join!.stdout)).toEqual({ result: 'joined', storeId, store: url, keys: 1 })
    expect(b.again!.code, b.again!.stderr).toBe(0)
    expect(b.again!.stdout).toMatch(/^Already joined team store/)
    expect(b.list!.code, b.list!.stderr).toBe(0)
    expect((JSON.parse(b.list!.stdout) as { accessId: string }[]).map((k) => k.accessId)).toEqual([aKey.accessId])
    expect(JSON.parse(b.verify!.stdout)).toMatchObject({ valid: true, accessId: aKey.accessId })
    expect(b.create!.code, b.create!.stderr).toBe(0)
    const bKey = JSON.parse(b.create!.stdout) as { accessId: string; accessKey: string }

    expect(okJson(a(['--store', url, '--json', 'verify', '--key', bKey.accessKey]))).toMatchObject({ valid: true, accessId: bKey.accessId })
    const audit = okJson<{ actor: string; action: string; target: string }[]>(a(['--store', url, '--json', 'audit', '--action', 'key.create']))
    const actorOf = (id: string) => audit.find((e) => e.target === id)?.actor
    expect(actorOf(aKey.accessId)).toBe(ME)
    expect(actorOf(bKey.accessId)).toBe(B_OWN_HOST ? `${userInfo().username}@${B_HOST}` : ME)
  })

  it('export-secret --gateway: a 0600 unsealed JSON file with the store id and a password-free store URL', () => {
    const withPassword = url.replace('://postgres@', '://postgres:s3cret-pw@') // trust auth ignores it
    expect(withPassword).not.toBe(url)
    const file = join(t.dir, 'gateway.json')
    const r = okJson<{ path: string; kind: string; storeId: string; store: string }>(a(['--store', withPassword, '--json', 'team', 'export-secret', file, '--gateway']))
    expect(r).toEqual({ path: file, kind: 'gateway', storeId, store: url })
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const text = readFileSync(file, 'utf8')
    expect(JSON.parse(text)).toMatchObject({ v: 1, kind: 'keydesk-team-secret', storeId, store: url })
    expect(text).not.toContain('s3cret-pw')
    expect(text).not.toContain('***')
    const g = readGatewaySecretFile(file, storeId)
    expect(g.pepper.equals(material.pepper) && g.macKey.equals(material.macKey)).toBe(true)
    const audit = okJson<{ actor: string; target: string; detail: { kind: string } }[]>(a(['--store', url, '--json', 'audit', '--action', 'team.export_secret']))
    expect(audit.map((e) => e.actor)).toEqual([ME, ME])
    expect(audit.map((e) => [e.target, e.detail.kind])).toEqual([
      [file, 'gateway'],
      [sealedFile, 'sealed'],
    ])
  })
})
