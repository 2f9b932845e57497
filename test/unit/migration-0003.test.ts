/**
 * 0003-integrity, from a store seeded at version 2 exactly as the previous release
 * wrote it (version-1 MACs not bound to row ids, the old audit-head record, the old
 * fingerprint). Opening it with its keychain entry upgrades every row whose old MAC
 * holds, leaves an edited row tampered, gives revoked keys their tombstones, and
 * keeps the audit chain whole.
 */
import Database from 'better-sqlite3'
import keytar from 'keytar'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DB_FILE, migrate } from '../../src/main/core/db'
import { MIGRATIONS } from '../../src/main/core/migrations/index'
import { StoreCrypto, encodeKeyMaterial, newKeyMaterial, sha256 } from '../../src/main/core/crypto'
import { KEYCHAIN_SERVICE } from '../../src/main/core/keychain'
import { keyHint, newAccessId, newAccessKey } from '../../src/main/core/keyformat'
import { openKeyStore } from '../../src/main/core/keystore'
import { DEFAULT_POLICY } from '../../src/main/core/types'
import { tempDir } from '../helpers'
import { dropKeychainEntry } from './support'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const T = Date.UTC(2031, 0, 1)

// The previous release's MAC formats, written out here (not imported), so the upgrade is
// tested against what that release really wrote, not against core's own idea of it.
const hex = (b: Buffer | null) => (b ? b.toString('hex') : null)
const keyMacDataV1 = (r: { accessId: string; ownerId: number; ownerName: string; ownerDisabledAt: number | null; name: string; hash: Buffer; prevHash: Buffer | null; prevValidUntil: number | null; scopes: string; status: string; createdAt: number; expiresAt: number; revokedAt: number | null }) =>
  JSON.stringify(['key/1', r.accessId, r.ownerId, r.ownerName, r.ownerDisabledAt, r.name, hex(r.hash), hex(r.prevHash), r.prevValidUntil, r.scopes, r.status, r.createdAt, r.expiresAt, r.revokedAt])
const ownerMacDataV1 = (o: { name: string; kind: string; disabledAt: number | null }) => JSON.stringify(['owner/1', o.name, o.kind, o.disabledAt])
const policyMacDataV1 = (p: { maxKeyAgeDays: number; maxKeysPerOwner: number; defaultExpiryDays: number; allowCreation: boolean; retentionDays: number }) =>
  JSON.stringify(['policy/1', p.maxKeyAgeDays, p.maxKeysPerOwner, p.defaultExpiryDays, p.allowCreation, p.retentionDays])

async function seedV2(opts: { audit?: boolean; policy?: 'ok' | 'no-mac' | 'garbage'; policySet?: boolean; headMac?: boolean } = {}): Promise<{ dir: string; storeId: string; keys: { active: string; revoked: string; edited: string } }> {
  const withAudit = opts.audit ?? true
  const t = tempDir()
  cleanups.push(t.cleanup)
  const db = new Database(join(t.dir, DB_FILE))
  db.pragma('journal_mode = WAL')
  migrate(db, MIGRATIONS.slice(0, 2))
  const storeId = randomUUID()
  const material = newKeyMaterial()
  await keytar.setPassword(KEYCHAIN_SERVICE, storeId, encodeKeyMaterial(material))
  cleanups.push(() => dropKeychainEntry(storeId))
  const c = new StoreCrypto(material)
  const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)')
  meta.run('store_id', storeId)
  meta.run('keychain_fingerprint', c.fingerprint(storeId))
  meta.run('policy', opts.policy === 'garbage' ? '{"maxKeyAgeDays":' : JSON.stringify({ maxKeyAgeDays: 365, maxKeysPerOwner: 100, defaultExpiryDays: 30, allowCreation: true, retentionDays: 90 }))
  if (opts.policy !== 'no-mac') meta.run('policy_mac', c.mac(policyMacDataV1(DEFAULT_POLICY)).toString('hex'))
  const owner = { id: 1, name: 'alice', kind: 'user', disabledAt: null }
  db.prepare('INSERT INTO owners (id, name, kind, created_at, disabled_at, mac) VALUES (1, ?, ?, ?, NULL, ?)').run('alice', 'user', T, c.mac(ownerMacDataV1(owner)))
  const keys: Record<string, string> = {}
  const insert = db.prepare(`INSERT INTO keys (id, access_id, owner_id, owner_name, owner_disabled_at, name, scopes, hash, hash_alg, hint, status, created_at, expires_at, revoked_at, mac)
    VALUES (@id, @accessId, 1, 'alice', NULL, @name, 'read', @hash, 'hmac-sha256-v1', @hint, @status, @createdAt, @expiresAt, @revokedAt, @mac)`)
  let prev: Buffer = Buffer.alloc(32)
  const audit = db.prepare('INSERT INTO audit (id, at, actor, action, target, detail, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
  ;['active', 'revoked', 'edited'].forEach((name, i) => {
    const accessKey = newAccessKey()
    const r = {
      id: i + 1, accessId: newAccessId(), ownerId: 1, ownerName: 'alice', ownerDisabledAt: null, name, hash: c.hashKey(accessKey), hint: keyHint(accessKey),
      prevHash: null, prevValidUntil: null, prev2Hash: null, prev2ValidUntil: null, scopes: 'read', status: (name === 'revoked' ? 'revoked' : 'active') as 'active' | 'revoked',
      createdAt: T, expiresAt: T + 200 * 86_400_000, revokedAt: name === 'revoked' ? T + 1000 : null, disabledAt: null,
    }
    insert.run({ ...r, mac: c.mac(keyMacDataV1(r)) })
    db.prepare('INSERT INTO key_scopes (scope, key_id) VALUES (?, ?)').run('read', r.id)
    keys[name] = accessKey
    const detail = JSON.stringify({ name })
    const hash = sha256(Buffer.concat([prev, Buffer.from(JSON.stringify([i + 1, T, 'tester', 'key.create', r.accessId, detail]))]))
    if (withAudit) audit.run(i + 1, T, 'tester', 'key.create', r.accessId, detail, prev, hash, c.mac(hash))
    prev = hash
  })
  // the edit made outside KeyDesk, before the upgrade
  db.prepare(`UPDATE keys SET scopes = 'admin' WHERE name = 'edited'`).run()
  let last = 3
  if (withAudit && opts.policySet) {
    // the policy was last set through the log (entry 4): the upgrade must keep it bound there
    const detail = JSON.stringify({ maxKeyAgeDays: 365 })
    const hash = sha256(Buffer.concat([prev, Buffer.from(JSON.stringify([4, T, 'tester', 'policy.set', 'policy', detail]))]))
    audit.run(4, T, 'tester', 'policy.set', 'policy', detail, prev, hash, c.mac(hash))
    prev = hash
    last = 4
  }
  if (withAudit) {
    const head = `${last}:${prev.toString('hex')}`
    meta.run('audit_head', head)
    if (opts.headMac !== false) meta.run('audit_head_mac', c.mac(`audit-head:${head}`).toString('hex'))
  }
  db.close()
  return { dir: t.dir, storeId, keys: keys as { active: string; revoked: string; edited: string } }
}

describe('0003-integrity, from a seeded version 2', () => {
  it('upgrades MACs that hold, keeps edited rows tampered, tombstones revoked keys, keeps the chain', async () => {
    const s = await seedV2()
    const store = await openKeyStore({ dataDir: s.dir, now: () => T + 86_400_000, actor: 'tester', create: false })
    cleanups.push(() => store.close())
    expect(store.database.pragma('user_version', { simple: true })).toBe(3)
    expect(store.verify({ accessKey: s.keys.active })).toMatchObject({ valid: true, owner: 'alice', scopes: ['read'] })
    expect(store.verify({ accessKey: s.keys.revoked })).toEqual({ valid: false, reason: 'revoked' })
    expect(store.verify({ accessKey: s.keys.edited })).toEqual({ valid: false, reason: 'tampered' })
    // the tombstone keeps the time the key was revoked, not the time of the upgrade
    expect(store.database.prepare('SELECT at FROM revocations').pluck().all()).toEqual([T + 1000])
    expect(store.verifyAudit()).toEqual({ ok: true, checked: 4 })
    expect(store.listAudit({ limit: 1 })[0]).toMatchObject({ action: 'store.upgrade', target: 'store', detail: { macVersion: 2, revocations: 1 } })
    expect(store.getPolicy()).toEqual(DEFAULT_POLICY)
    const check = await store.check()
    // the edit shows twice: the row's MAC, and the scope index that no longer matches its scopes
    expect(check.problems).toEqual([expect.stringMatching(/1 key row\(s\) were edited/), expect.stringMatching(/scope index disagrees with 1 key row/)])
    // and the upgraded store keeps working: a new key, a write, a reopen
    const k = store.create({ name: 'after', owner: 'alice' })
    await store.settled()
    store.close()
    const again = await openKeyStore({ dataDir: s.dir, now: () => T + 86_400_000, actor: 'tester', create: false })
    cleanups.push(() => again.close())
    expect(again.verify({ accessKey: k.accessKey }).valid).toBe(true)
  })

  it('an owner or policy edited before the upgrade stays tampered; an edited audit head refuses the upgrade', async () => {
    const s = await seedV2()
    const db = new Database(join(s.dir, DB_FILE))
    db.prepare(`UPDATE owners SET kind = 'service'`).run()
    db.prepare(`UPDATE meta SET value = replace(value, '"allowCreation":true', '"allowCreation":false') WHERE key = 'policy'`).run()
    db.close()
    const store = await openKeyStore({ dataDir: s.dir, now: () => T + 86_400_000, actor: 'tester', create: false })
    cleanups.push(() => store.close())
    expect(store.listOwners()[0]!.tampered).toBe(true)
    expect(() => store.getPolicy()).toThrow(/edited outside KeyDesk/)
    // a key row's own copies still verify (verify reads them, MAC'd), the owner row is flagged
    expect(store.verify({ accessKey: s.keys.active }).valid).toBe(true)
    expect(store.get('active').tampered).toBe(true)

    const s2 = await seedV2()
    const db2 = new Database(join(s2.dir, DB_FILE))
    db2.prepare(`UPDATE meta SET value = '2:' || substr(value, 3) WHERE key = 'audit_head'`).run()
    db2.close()
    await expect(openKeyStore({ dataDir: s2.dir, actor: 'tester', create: false })).rejects.toMatchObject({ kind: 'tampered', message: expect.stringMatching(/audit log's last entry was edited/) })
  })

  it('a version-2 store whose keychain entry was replaced is refused at upgrade, not re-signed', async () => {
    const s = await seedV2()
    const m = newKeyMaterial()
    await keytar.setPassword(KEYCHAIN_SERVICE, s.storeId, encodeKeyMaterial(m))
    await expect(openKeyStore({ dataDir: s.dir, actor: 'tester', create: false })).rejects.toMatchObject({ kind: 'keychain_unavailable' })
  })

  it('a store whose log was never written upgrades, and its log starts with the upgrade', async () => {
    const s = await seedV2({ audit: false })
    const store = await openKeyStore({ dataDir: s.dir, now: () => T + 86_400_000, actor: 'tester', create: false })
    cleanups.push(() => store.close())
    expect(store.verify({ accessKey: s.keys.active }).valid).toBe(true)
    expect(store.verifyAudit()).toEqual({ ok: true, checked: 1 })
    expect(store.listAudit({ limit: 5 }).map((e) => e.action)).toEqual(['store.upgrade'])
  })

  it('a policy without its MAC, or not even JSON, is not signed by the upgrade: it stays refused', async () => {
    for (const policy of ['no-mac', 'garbage'] as const) {
      const s = await seedV2({ policy })
      const store = await openKeyStore({ dataDir: s.dir, now: () => T + 86_400_000, actor: 'tester', create: false })
      cleanups.push(() => store.close())
      expect(() => store.getPolicy(), policy).toThrow(/edited outside KeyDesk/)
      expect(store.verify({ accessKey: s.keys.active }).valid, policy).toBe(true)
      expect(store.listAudit({ limit: 1 })[0], policy).toMatchObject({ action: 'store.upgrade' })
    }
  })

  it('a policy last set through the log stays bound to that entry after the upgrade', async () => {
    const s = await seedV2({ policySet: true })
    const store = await openKeyStore({ dataDir: s.dir, now: () => T + 86_400_000, actor: 'tester', create: false })
    cleanups.push(() => store.close())
    expect(store.getPolicy()).toEqual(DEFAULT_POLICY)
    expect(JSON.parse(store.database.prepare(`SELECT value FROM meta WHERE key = 'policy'`).pluck().get() as string).setBy).toBe(4)
    expect(store.verifyAudit()).toEqual({ ok: true, checked: 5 })
  })

  it('an audit head whose MAC was removed refuses the upgrade like an edited one', async () => {
    const s = await seedV2({ headMac: false })
    await expect(openKeyStore({ dataDir: s.dir, actor: 'tester', create: false })).rejects.toMatchObject({ kind: 'tampered', message: expect.stringMatching(/audit log's last entry was edited/) })
  })
})
