import { Encrypter, armor } from 'age-encryption'
import keytar from 'keytar'
import { chmodSync, chownSync, existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { decodeKeyMaterial, encodeKeyMaterial, newKeyMaterial, type KeyMaterial } from '../../src/main/core/crypto'
import { KEYCHAIN_SERVICE, keytarKeychain } from '../../src/main/core/keychain'
import { openKeyStore } from '../../src/main/core/keystore'
import {
  fileKeychain,
  joinTeam,
  openTeamSecret,
  readGatewaySecretFile,
  sealTeamSecret,
  teamSecretPayload,
  writeTeamSecretFile,
} from '../../src/main/core/team-secret'
import { tempDir } from '../helpers'
import { catchKd, catchKdAsync, dropKeychainEntry } from './support'

// Sealing and opening run scrypt at age's default work factor (2^18): seconds each.
const SLOW = 60_000
const OPEN_FAILED = 'The team secret file could not be opened: wrong passphrase or damaged file.'
const PASS = 'twelve-chars' // exactly the minimum length
const LABEL = 'postgresql://keydesk_admin@db.example.org:5432/keydesk'

const material = newKeyMaterial()
const storeId = randomUUID()
const secretStrings = [material.pepper.toString('base64'), material.macKey.toString('base64'), material.pepper.toString('hex'), material.macKey.toString('hex')]
let sealed = ''

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})
function dir(): string {
  const t = tempDir()
  cleanups.push(t.cleanup)
  return t.dir
}

function expectSameMaterial(a: KeyMaterial, b: KeyMaterial): void {
  expect(a.pepper.equals(b.pepper)).toBe(true)
  expect(a.macKey.equals(b.macKey)).toBe(true)
}

function expectNoSecret(text: string): void {
  for (const s of secretStrings) expect(text).not.toContain(s)
}

/** An age file sealed with a cheap work factor, holding any plaintext (for payloads sealTeamSecret would never write). */
async function sealRaw(plaintext: string, passphrase = PASS): Promise<string> {
  const e = new Encrypter()
  e.setScryptWorkFactor(10)
  e.setPassphrase(passphrase)
  return armor.encode(await e.encrypt(plaintext))
}

beforeAll(async () => {
  sealed = await sealTeamSecret(material, storeId, LABEL, PASS)
}, SLOW)

describe('sealTeamSecret / openTeamSecret', () => {
  it('round-trips through an armored age file that shows no secret', { timeout: SLOW }, async () => {
    expect(sealed.startsWith('-----BEGIN AGE ENCRYPTED FILE-----\n')).toBe(true)
    expectNoSecret(sealed)
    expect(sealed).not.toContain(storeId)
    const opened = await openTeamSecret(sealed, PASS)
    expect(opened.storeId).toBe(storeId)
    expect(opened.store).toBe(LABEL)
    expectSameMaterial(opened.material, material)
  })

  it('refuses a wrong passphrase with one fixed message that echoes nothing', { timeout: SLOW }, async () => {
    const e = await catchKdAsync(openTeamSecret(sealed, 'twelve-chars!'))
    expect(e.kind).toBe('invalid_input')
    expect(e.message).toBe(OPEN_FAILED)
    expectNoSecret(e.message)
  })

  it('refuses a passphrase shorter than 12 characters, before sealing anything', async () => {
    for (const p of ['', 'elevenchars', '🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑']) {
      const e = await catchKdAsync(sealTeamSecret(material, storeId, LABEL, p))
      expect(e.kind).toBe('invalid_input')
      expect(e.field).toBe('passphrase')
      expect(e.message).toBe('The passphrase must be at least 12 characters long.')
    }
  })

  it('refuses a store label that carries a password, without repeating it', async () => {
    for (const label of ['postgresql://admin:hunter2-pw@db.example.org/keydesk', 'postgresql://db.example.org/keydesk?password=hunter2-pw', 'not a url']) {
      const e = await catchKdAsync(sealTeamSecret(material, storeId, label, PASS))
      expect(e.kind).toBe('invalid_input')
      expect(e.field).toBe('store')
      expect(e.message).not.toContain('hunter2')
    }
    expect((await catchKdAsync(sealTeamSecret(material, 'not-a-uuid', LABEL, PASS))).field).toBe('storeId')
  })

  it('refuses a tampered or damaged file with the same message', { timeout: SLOW }, async () => {
    // One bit flipped in the encrypted payload (the armor stays valid): the AEAD refuses it.
    const bin = armor.decode(sealed)
    bin[bin.length - 20]! ^= 1
    const flipped = armor.encode(bin)
    expect(flipped).not.toBe(sealed)
    for (const damaged of [flipped, sealed.slice(0, sealed.length / 2), sealed.replace('-----BEGIN AGE', '-----BEGIN XGE'), 'garbage', '']) {
      const e = await catchKdAsync(openTeamSecret(damaged, PASS))
      expect(e.kind).toBe('invalid_input')
      expect(e.message).toBe(OPEN_FAILED)
    }
  })

  it('refuses a decrypted payload of the wrong shape, echoing none of it', { timeout: SLOW }, async () => {
    const good = JSON.parse(teamSecretPayload(material, storeId, LABEL)) as Record<string, unknown>
    expect(good).toEqual({ v: 1, kind: 'keydesk-team-secret', storeId, store: LABEL, pepper: secretStrings[0], mac: secretStrings[1] })
    const wrong = [
      'plain text',
      'null',
      '[]',
      encodeKeyMaterial(material), // a bare keychain entry: no kind, no store id
      JSON.stringify({ ...good, v: 2 }),
      JSON.stringify({ ...good, kind: 'something-else' }),
      JSON.stringify({ ...good, storeId: 'not-a-uuid' }),
      JSON.stringify({ ...good, store: 'postgresql://admin:pw@db/keydesk' }),
      JSON.stringify({ ...good, pepper: material.pepper.subarray(0, 16).toString('base64') }),
      JSON.stringify({ ...good, mac: 'not base64 at all!' }),
      JSON.stringify({ ...good, mac: `!${secretStrings[1]}` }), // decodes to the same 32 bytes, but is not plain base64
    ]
    for (const plaintext of wrong) {
      const e = await catchKdAsync(openTeamSecret(await sealRaw(plaintext), PASS))
      expect(e.kind).toBe('invalid_input')
      expect(e.message).toBe('The team secret file opened, but it does not hold a KeyDesk team secret.')
      expectNoSecret(e.message)
    }
    // The same file with the right shape opens (the refusals above are about the shape, not the work factor).
    expect((await openTeamSecret(await sealRaw(JSON.stringify(good)), PASS)).storeId).toBe(storeId)
  })
})

describe('writeTeamSecretFile', () => {
  it('creates a new 0600 file holding exactly the sealed text', () => {
    const p = join(dir(), 'team.age')
    expect(writeTeamSecretFile(p, sealed)).toBe(p)
    expect(readFileSync(p, 'utf8')).toBe(sealed)
    const st = lstatSync(p)
    expect(st.isFile()).toBe(true)
    expect(st.mode & 0o7777).toBe(0o600)
  })

  it('refuses an existing file, naming it, and leaves it untouched', () => {
    const p = join(dir(), 'team.age')
    writeFileSync(p, 'keep me')
    const e = catchKd(() => writeTeamSecretFile(p, sealed))
    expect(e.kind).toBe('invalid_input')
    expect(e.message).toContain(p)
    expect(readFileSync(p, 'utf8')).toBe('keep me')
  })

  it('refuses a symlink (to a file or dangling) and writes nothing through it', () => {
    const d = dir()
    const target = join(d, 'target')
    writeFileSync(target, 'keep me')
    symlinkSync(target, join(d, 'link'))
    symlinkSync(join(d, 'nowhere'), join(d, 'dangling'))
    for (const name of ['link', 'dangling']) {
      const e = catchKd(() => writeTeamSecretFile(join(d, name), sealed))
      expect(e.message).toContain(join(d, name))
      expect(e.message).toContain('symbolic link')
    }
    expect(readFileSync(target, 'utf8')).toBe('keep me')
    expect(existsSync(join(d, 'nowhere'))).toBe(false)
  })

  it('refuses to write anything but a sealed file', () => {
    const p = join(dir(), 'team.age')
    const e = catchKd(() => writeTeamSecretFile(p, teamSecretPayload(material, storeId, LABEL)))
    expect(e.kind).toBe('invalid_input')
    expectNoSecret(e.message)
    expect(existsSync(p)).toBe(false)
  })
})

describe('readGatewaySecretFile', () => {
  const payload = teamSecretPayload(material, storeId, LABEL)
  function gatewayFile(mode: number, d = dir(), name = 'gateway.json'): string {
    const p = join(d, name)
    writeFileSync(p, payload, { mode: 0o600 })
    chmodSync(p, mode)
    return p
  }
  function refused(p: string, expectedStoreId?: string): string {
    const e = catchKd(() => readGatewaySecretFile(p, expectedStoreId))
    expect(e.kind).toBe('keychain_unavailable')
    expect(e.message).not.toContain('\n')
    expectNoSecret(e.message)
    return e.message
  }

  it('reads a 0600 or 0400 file owned by this user', () => {
    for (const mode of [0o600, 0o400]) {
      const got = readGatewaySecretFile(gatewayFile(mode), storeId)
      expect(got.storeId).toBe(storeId)
      expect(got.store).toBe(LABEL)
      expectSameMaterial(got, material)
    }
  })

  it('refuses a file that group or others can read, naming it and the chmod that fixes it', () => {
    for (const mode of [0o644, 0o640, 0o604, 0o660, 0o700]) {
      const p = gatewayFile(mode)
      const msg = refused(p)
      expect(msg).toContain(p)
      expect(msg).toContain(`chmod 600 ${p}`)
    }
  })

  it('refuses a symlink, even to a good file', () => {
    const d = dir()
    const real = gatewayFile(0o600, d)
    symlinkSync(real, join(d, 'link.json'))
    expect(refused(join(d, 'link.json'))).toContain('symbolic link')
  })

  it.runIf(process.getuid?.() === 0)('refuses a file owned by another user (test runs as root)', () => {
    const p = gatewayFile(0o600)
    chownSync(p, 65534, 65534)
    const msg = refused(p)
    expect(msg).toContain('uid 65534')
    expect(msg).toContain('chown')
  })

  it('refuses a directory, a missing file, a file that is not a secret file and another store', () => {
    const d = dir()
    expect(refused(d)).toContain('not a regular file')
    expect(refused(join(d, 'missing.json'))).toContain('does not exist')
    const junk = join(d, 'junk.json')
    writeFileSync(junk, JSON.stringify({ v: 1, kind: 'keydesk-team-secret', pepper: 'x' }), { mode: 0o600 })
    expect(refused(junk)).toContain('not a KeyDesk gateway secret file')
    const other = randomUUID()
    expect(refused(gatewayFile(0o600), other)).toContain(`not of store ${other}`)
  })

  describe('as a systemd credential', () => {
    const saved = process.env.CREDENTIALS_DIRECTORY
    afterEach(() => {
      if (saved === undefined) delete process.env.CREDENTIALS_DIRECTORY
      else process.env.CREDENTIALS_DIRECTORY = saved
    })

    it('reads a relative name from $CREDENTIALS_DIRECTORY, where 0440 is allowed too (but not elsewhere)', () => {
      const creds = dir()
      process.env.CREDENTIALS_DIRECTORY = creds
      gatewayFile(0o440, creds, 'keydesk-secret')
      expect(readGatewaySecretFile('keydesk-secret', storeId).storeId).toBe(storeId)
      gatewayFile(0o444, creds, 'world-readable')
      expect(refused('world-readable')).toContain(join(creds, 'world-readable'))
      const elsewhere = gatewayFile(0o440)
      expect(refused(elsewhere)).toContain('chmod 600')
    })
  })
})

describe('fileKeychain', () => {
  it('serves the store entry and keeps the anchor in memory; stores nothing else', async () => {
    const kc = fileKeychain(material, storeId)
    expect(kc.backend).toBe('secret-file')
    expectSameMaterial(decodeKeyMaterial((await kc.get(storeId))!), material)
    expect(await kc.get(randomUUID())).toBeNull()
    expect(await kc.get(`${storeId}:anchor`)).toBeNull()
    await kc.set(`${storeId}:anchor`, 'anchor-1')
    expect(await kc.get(`${storeId}:anchor`)).toBe('anchor-1')
    expect(await fileKeychain(material, storeId).get(`${storeId}:anchor`)).toBeNull() // memory of that port only
    for (const account of [storeId, randomUUID(), `${randomUUID()}:anchor`]) {
      const e = await catchKdAsync(kc.set(account, encodeKeyMaterial(newKeyMaterial())))
      expect(e.kind).toBe('keychain_unavailable')
      expectNoSecret(e.message)
    }
    expectSameMaterial(decodeKeyMaterial((await kc.get(storeId))!), material)
  })
})

describe('joinTeam (real Secret Service) and a gateway opening the store', () => {
  it('adds the entry, says "same" for the same secret, and refuses a different one without replacing it', async () => {
    const id = randomUUID()
    cleanups.push(() => dropKeychainEntry(id))
    const kc = keytarKeychain()
    expect(await joinTeam(kc, { storeId: id, material })).toBe('added')
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, id)).toBe(encodeKeyMaterial(material))
    expect(await joinTeam(kc, { storeId: id, material })).toBe('same')
    const e = await catchKdAsync(joinTeam(kc, { storeId: id, material: newKeyMaterial() }))
    expect(e.kind).toBe('keychain_unavailable')
    expect(e.message).toBe(`This keychain already holds a different secret for store ${id}; KeyDesk will not replace it.`)
    // Only the MAC key differs: still refused.
    const halfSame = { pepper: material.pepper, macKey: newKeyMaterial().macKey }
    expect((await catchKdAsync(joinTeam(kc, { storeId: id, material: halfSame }))).kind).toBe('keychain_unavailable')
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, id)).toBe(encodeKeyMaterial(material))
  })

  it('refuses to replace an entry it cannot read', async () => {
    const id = randomUUID()
    cleanups.push(() => dropKeychainEntry(id))
    await keytar.setPassword(KEYCHAIN_SERVICE, id, 'not key material')
    expect((await catchKdAsync(joinTeam(keytarKeychain(), { storeId: id, material }))).kind).toBe('keychain_unavailable')
    expect(await keytar.getPassword(KEYCHAIN_SERVICE, id)).toBe('not key material')
  })

  it('a gateway opens a real store from its secret file alone', async () => {
    const d = dir()
    const admin = await openKeyStore({ dataDir: d, actor: 'tester' })
    const id = admin.storeId
    cleanups.push(() => dropKeychainEntry(id))
    const key = admin.create({ name: 'gateway-check' })
    await admin.closeAsync()
    const entry = decodeKeyMaterial((await keytar.getPassword(KEYCHAIN_SERVICE, id))!)
    const file = join(dir(), 'gateway.json')
    writeFileSync(file, teamSecretPayload(entry, id, LABEL), { mode: 0o600 })
    const got = readGatewaySecretFile(file, id)
    const gw = await openKeyStore({ dataDir: d, keychain: fileKeychain(got, id), create: false })
    try {
      expect(gw.verify({ accessKey: key.accessKey })).toMatchObject({ valid: true, accessId: key.accessId })
    } finally {
      gw.close()
    }
  })
})
