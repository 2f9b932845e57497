/**
 * The integrity code, edge by edge: the verified-row memo, the defences that back
 * each other up on a grace secret (row end, tombstone, tombstone MAC), tombstones
 * deleted under a running process, the anchor record, and every finding of the full
 * check. Each test names the defence that would fail without it.
 */
import keytar from 'keytar'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { KEYCHAIN_SERVICE } from '../../src/main/core/keychain'
import { KeydeskError } from '../../src/main/core/errors'
import { decodeAnchor, encodeAnchor, fingerprintV2 } from '../../src/main/core/services/integrity'
import { StoreCrypto, newKeyMaterial } from '../../src/main/core/crypto'
import { createHash, createHmac } from 'node:crypto'
import { storageError } from '../../src/main/core/services/context'
import { openKeyStore } from '../../src/main/core/keystore'
import { DAY, HOUR, MIN, catchKd, catchKdAsync, openTestStore, type TestStore, rawConnection, type RawConnection } from './support'

let t: TestStore
let edit: RawConnection
beforeEach(async () => {
  t = await openTestStore()
  t.store.addOwner('svc', 'service')
  edit = rawConnection(t.store)
})
afterEach(async () => {
  vi.useRealTimers()
  edit.close()
  await t.cleanup()
})

const ok = (key: string) => t.store.verify({ accessKey: key })
const reopen = () => openKeyStore({ ...t.where, now: t.clock.now, actor: 'tester', create: false })

describe('the verified-row memo', () => {
  it('a row verified once is answered from the memo; any MAC-covered change misses it and is checked again', () => {
    const k = t.store.create({ name: 'k', owner: 'svc' })
    expect(ok(k.accessKey).valid).toBe(true)
    const before = t.store.verifier.memoHits
    expect(ok(k.accessKey).valid).toBe(true)
    expect(t.store.verifier.memoHits).toBe(before + 1)
    // last use is not MAC-covered: writing it keeps the memo hit
    t.store.flushLastUsed()
    expect(ok(k.accessKey).valid).toBe(true)
    expect(t.store.verifier.memoHits).toBe(before + 2)
    // a MAC-covered field edited by hand: no memo hit, and refused
    edit.prepare(`UPDATE keys SET scopes = 'admin' WHERE access_id = ?`).run(k.accessId)
    expect(ok(k.accessKey)).toEqual({ valid: false, reason: 'tampered' })
    expect(t.store.verifier.memoHits).toBe(before + 2)
    // the MAC column alone swapped for another row's: refused
    const other = t.store.create({ name: 'o', owner: 'svc' })
    edit.prepare(`UPDATE keys SET scopes = '', mac = (SELECT mac FROM keys WHERE access_id = ?) WHERE access_id = ?`).run(other.accessId, k.accessId)
    expect(ok(k.accessKey)).toEqual({ valid: false, reason: 'tampered' })
  })

  it('vouches for a row only with the secret hash it was proven with: current hashes swapped between two verified rows are refused', () => {
    const victim = t.store.create({ name: 'victim', owner: 'svc', scopes: ['admin'] })
    const mine = t.store.create({ name: 'mine', owner: 'svc' })
    expect(ok(victim.accessKey).valid).toBe(true)
    expect(ok(mine.accessKey).valid).toBe(true)
    expect(ok(victim.accessKey).valid).toBe(true) // now from the memo
    const hashOf = edit.prepare('SELECT hash FROM keys WHERE access_id = ?').pluck()
    const hv = hashOf.get(victim.accessId) as Buffer
    const hm = hashOf.get(mine.accessId) as Buffer
    const setHash = edit.prepare('UPDATE keys SET hash = ? WHERE access_id = ?')
    setHash.run(Buffer.alloc(32), victim.accessId)
    setHash.run(hv, mine.accessId)
    setHash.run(hm, victim.accessId)
    // My own secret now finds the victim's row, every other field of which the memo has seen.
    expect(ok(mine.accessKey)).toEqual({ valid: false, reason: 'tampered' })
    expect(ok(victim.accessKey)).toEqual({ valid: false, reason: 'tampered' })
  })

  it('a revoke made by another connection is seen at once, memo or not', () => {
    const k = t.store.create({ name: 'k', owner: 'svc' })
    expect(ok(k.accessKey).valid).toBe(true)
    expect(ok(k.accessKey).valid).toBe(true)
    // a revocation tombstone appears without the row changing (as the tombstone half of a revoke)
    edit.prepare(`INSERT INTO revocations (access_id, at, audit_id, mac) VALUES (?, 0, 0, zeroblob(32))`).run(k.accessId)
    expect(ok(k.accessKey)).toEqual({ valid: false, reason: 'tampered' })
  })
})

describe('a secret in grace: the row, its tombstone and the tombstone MAC each refuse on their own', () => {
  function graceKey() {
    const k = t.store.create({ name: 'g', owner: 'svc' })
    t.store.reset(k.accessId, { confirm: 'g', grace: '2h' })
    const old = edit.prepare('SELECT prev_hash FROM keys WHERE access_id = ?').pluck().get(k.accessId) as Buffer
    return { k, old }
  }

  it('its retirement tombstone deleted: refused while in grace (a grace secret must have one) and after it', () => {
    const { k, old } = graceKey()
    expect(ok(k.accessKey).valid).toBe(true)
    edit.prepare('DELETE FROM retired WHERE hash = ?').run(old)
    expect(ok(k.accessKey).valid).toBe(false)
    t.clock.advance(3 * HOUR)
    expect(ok(k.accessKey).valid).toBe(false)
  })

  it('its tombstone pushed out by hand (MAC broken): tampered', () => {
    const { k, old } = graceKey()
    edit.prepare('UPDATE retired SET at = at + ? WHERE hash = ?').run(30 * DAY, old)
    expect(ok(k.accessKey)).toEqual({ valid: false, reason: 'tampered' })
  })

  it('the row’s grace end passed: refused even if the tombstone were later', () => {
    const { k, old } = graceKey()
    // a second, later tombstone row with a valid-looking shape does not extend anything: the earliest wins
    t.clock.advance(3 * HOUR)
    expect(ok(k.accessKey).valid).toBe(false)
    expect(edit.prepare('SELECT count(*) FROM retired WHERE hash = ?').pluck().get(old)).toBe(1)
  })

  it('a revocation tombstone deleted under a running process: the row itself still says revoked', () => {
    const k = t.store.create({ name: 'r', owner: 'svc' })
    t.store.revoke([k.accessId])
    edit.prepare('DELETE FROM revocations').run()
    expect(ok(k.accessKey)).toEqual({ valid: false, reason: 'revoked' })
  })
})

describe('last-used times are written off the caller’s path', () => {
  it('by a timer a few seconds after the first use, never by verify', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const k = t.store.create({ name: 'k', owner: 'svc' })
    expect(ok(k.accessKey).valid).toBe(true)
    const lastUsed = () => edit.prepare('SELECT last_used_at FROM keys WHERE access_id = ?').pluck().get(k.accessId)
    expect(lastUsed()).toBeNull()
    await vi.advanceTimersByTimeAsync(4_000)
    expect(lastUsed()).toBeNull()
    await vi.advanceTimersByTimeAsync(2_000)
    expect(lastUsed()).toBe(t.clock.t)
  })

  it('a use within the minute is not queued again', () => {
    const k = t.store.create({ name: 'k', owner: 'svc' })
    ok(k.accessKey)
    t.store.flushLastUsed()
    t.clock.advance(30_000)
    ok(k.accessKey)
    expect(t.store.flushLastUsed()).toBe(0)
    t.clock.advance(MIN)
    ok(k.accessKey)
    expect(t.store.flushLastUsed(0)).toBe(1)
  })
})

describe('the keychain anchor', () => {
  it('round-trips, and a damaged record is refused plainly (never treated as missing)', () => {
    const a = { id: 7, hash: Buffer.alloc(32, 3) }
    expect(decodeAnchor(encodeAnchor(a))).toEqual(a)
    for (const bad of ['', 'nope', '{"v":2,"id":1,"hash":"' + '00'.repeat(32) + '"}', '{"v":1,"id":-1,"hash":"' + '00'.repeat(32) + '"}',
      '{"v":1,"id":1.5,"hash":"' + '00'.repeat(32) + '"}', '{"v":1,"id":"1","hash":"' + '00'.repeat(32) + '"}', '{"v":1,"id":1,"hash":"' + '00'.repeat(31) + '"}',
      '{"v":1,"id":1,"hash":"x' + '00'.repeat(32) + '"}', '{"v":1,"id":1,"hash":"' + '00'.repeat(32) + 'x"}', '{"v":1,"id":1,"hash":"' + 'G0'.repeat(32) + '"}'])
      expect(() => decodeAnchor(bad), bad).toThrow(KeydeskError)
  })

  it('a hash given as anything but a string is refused, with the plain message', () => {
    const hex = '00'.repeat(32)
    for (const bad of [`{"v":1,"id":1,"hash":["${hex}"]}`, `{"v":1,"id":1,"hash":{"h":"${hex}"}}`, '{"v":1,"id":1}']) {
      const e = catchKd(() => decodeAnchor(bad))
      expect(e.kind, bad).toBe('keychain_unavailable')
      expect(e.message, bad).toBe("The keychain's record of this store's last known state is unreadable; it was not changed.")
    }
  })

  it('the fingerprint is HMAC(MAC key) and HMAC(pepper) of one label, hashed: pinned, since every store records it', () => {
    const m = newKeyMaterial()
    const label = 'keydesk-fingerprint/2:store-1'
    const want = createHash('sha256')
      .update(Buffer.concat([createHmac('sha256', m.macKey).update(label).digest(), createHmac('sha256', m.pepper).update(label).digest()]))
      .digest('hex')
    expect(fingerprintV2({ crypto: new StoreCrypto(m) }, 'store-1')).toBe(want)
    expect(fingerprintV2({ crypto: new StoreCrypto(m) }, 'store-2')).not.toBe(want)
  })

  it('a store behind its anchor is refused at open as a rollback, naming both entries', async () => {
    t.store.create({ name: 'k', owner: 'svc' })
    await t.store.settled()
    const head = decodeAnchor((await keytar.getPassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`))!)
    await keytar.setPassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`, encodeAnchor({ id: head.id + 5, hash: head.hash }))
    t.store.close()
    const e = await catchKdAsync(reopen())
    expect(e.kind).toBe('tampered')
    expect(e.message).toContain(`older than its last known state — was a backup restored? use \`keydesk restore\` (it ends at audit entry ${head.id}; the keychain last saw entry ${head.id + 5})`)
    await keytar.setPassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`, encodeAnchor(head))
    t.store = await reopen()
  })

  it('an anchor naming an entry that was deleted from the log: refused at open, and named by check', async () => {
    t.store.create({ name: 'a', owner: 'svc' })
    t.store.create({ name: 'b', owner: 'svc' })
    await t.store.settled()
    const mid = edit.prepare('SELECT id, hash FROM audit ORDER BY id LIMIT 1 OFFSET 1').get() as { id: number; hash: Buffer }
    await keytar.setPassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`, encodeAnchor(mid))
    edit.prepare('DELETE FROM audit WHERE id = ?').run(mid.id)
    expect((await t.store.check({ pages: false })).problems).toContain(`the audit log does not continue the history the keychain last saw (entry ${mid.id} differs)`)
    t.store.close()
    const e = await catchKdAsync(reopen())
    expect(e.kind).toBe('tampered')
    expect(e.message).toMatch(new RegExp(`does not continue the history the keychain last saw \\(audit entry ${mid.id} differs\\)`))
  })

  it('an anchor naming an entry whose hash differs (another history) is refused at open and named by check', async () => {
    t.store.create({ name: 'k', owner: 'svc' })
    await t.store.settled()
    const anchor = decodeAnchor((await keytar.getPassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`))!)
    await keytar.setPassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`, encodeAnchor({ id: anchor.id, hash: Buffer.alloc(32, 9) }))
    expect((await t.store.check()).problems.join('\n')).toMatch(/does not continue the history the keychain last saw/)
    t.store.close()
    const e = await catchKdAsync(reopen())
    expect(e.kind).toBe('tampered')
    expect(e.message).toMatch(/does not continue the history/)
    await keytar.setPassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`, encodeAnchor(anchor))
    t.store = await reopen()
  })

  it('an anchor ahead of the store is named by check as a rollback; an anchor that matches is not re-written at open', async () => {
    t.store.create({ name: 'k', owner: 'svc' })
    await t.store.settled()
    const raw = (await keytar.getPassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`))!
    await keytar.setPassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`, encodeAnchor({ id: 999, hash: Buffer.alloc(32) }))
    expect((await t.store.check()).problems.join('\n')).toMatch(/older than its last known state .*log ends at entry \d+, keychain last saw 999/)
    await keytar.setPassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`, raw)
    t.store.close()
    const spy = vi.spyOn(keytar, 'setPassword')
    t.store = await reopen()
    expect(spy.mock.calls.filter((c) => c[1] === `${t.storeId}:anchor`)).toEqual([])
    // positive control: an anchor one entry behind is moved forward at open (so the spy does see writes)
    t.store.close()
    const behind = decodeAnchor(raw)
    const prev = edit.prepare('SELECT hash FROM audit WHERE id = ?').pluck().get(behind.id - 1) as Buffer
    await keytar.setPassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`, encodeAnchor({ id: behind.id - 1, hash: prev }))
    spy.mockClear()
    t.store = await reopen()
    expect(spy.mock.calls.filter((c) => c[1] === `${t.storeId}:anchor`)).toHaveLength(1)
    spy.mockRestore()
  })

  it('a keychain that cannot record the anchor makes settled() fail plainly; the change itself is saved', async () => {
    const failing = { backend: 'keytar', get: (a: string) => keytar.getPassword(KEYCHAIN_SERVICE, a), set: async () => { throw new Error('nope') } }
    t.store.close()
    t.store = await openKeyStore({ ...t.where, now: t.clock.now, actor: 'tester', keychain: failing })
    const k = t.store.create({ name: 'saved', owner: 'svc' })
    const e = await catchKdAsync(t.store.settled())
    expect(e.kind).toBe('keychain_unavailable')
    expect(e.message).toMatch(/did not record the store's new state; the change is saved/)
    await t.store.settled() // reported once
    expect(ok(k.accessKey).valid).toBe(true)
  })
})

describe('keydesk check names each finding', () => {
  it('an edited owner, an edited retirement tombstone, a tampered policy, many tampered keys (sampled)', async () => {
    const keys = t.store.createMany(Array.from({ length: 7 }, (_, i) => ({ name: `k${i}`, owner: 'svc' })))
    t.store.reset(keys[0]!.accessId, { confirm: 'k0', grace: '1h' })
    expect((await t.store.check()).ok).toBe(true)
    edit.prepare(`UPDATE owners SET kind = 'user' WHERE name = 'svc'`).run()
    edit.prepare('UPDATE retired SET at = at + 1').run()
    edit.prepare(`UPDATE meta SET value = replace(value, '"maxKeyAgeDays":365', '"maxKeyAgeDays":3650') WHERE key = 'policy'`).run()
    edit.prepare(`UPDATE keys SET scopes = 'admin'`).run()
    const r = await t.store.check({ yieldEvery: 1 })
    const text = r.problems.join('\n')
    expect(r.ok).toBe(false)
    expect(text).toMatch(/owner "svc" was edited outside KeyDesk/)
    expect(text).toMatch(/(^|\n)1 tombstone\(s\) of revoked keys or retired secrets were edited/)
    expect(text).toMatch(/policy in the key store was edited/)
    expect(text).toMatch(/7 key row\(s\) were edited, swapped or copied back from an older state: (kdid_\w+, ){4}kdid_\w+, …/)
    expect(r.counts).toMatchObject({ keys: 7, owners: 1, tombstones: 1 })
  })

  it('exactly five tampered keys are all named, with no "…"; a revocation tombstone edited is counted once', async () => {
    const keys = t.store.createMany(Array.from({ length: 5 }, (_, i) => ({ name: `k${i}`, owner: 'svc' })))
    t.store.revoke([keys[0]!.accessId])
    edit.prepare(`UPDATE keys SET description = description, expires_at = expires_at + 1`).run()
    edit.prepare('UPDATE revocations SET at = at + 1').run()
    const text = (await t.store.check()).problems.join('\n')
    expect(text).toMatch(/(^|\n)5 key row\(s\) were edited, swapped or copied back from an older state: (kdid_\w+, ){4}kdid_\w+(\n|$)/)
    expect(text).toMatch(/(^|\n)1 tombstone\(s\) of revoked keys or retired secrets were edited/)
  })

  it('with yieldEvery, the check lets other work run between pages of keys (not only at its end)', async () => {
    t.store.setPolicy({ maxKeysPerOwner: 5000 })
    t.store.createMany(Array.from({ length: 2500 }, (_, i) => ({ name: `p${i}`, owner: 'svc' })))
    const storage = (t.store as unknown as { storage: { keysAfter: (...a: unknown[]) => unknown } }).storage
    const pages = vi.spyOn(storage, 'keysAfter')
    let pagesWhenOtherWorkRan = -1
    setImmediate(() => (pagesWhenOtherWorkRan = pages.mock.calls.length))
    expect((await t.store.check({ pages: false, yieldEvery: 1 })).ok).toBe(true)
    expect(pages.mock.calls.length).toBe(4) // three pages of 1 000 and the empty one
    expect(pagesWhenOtherWorkRan).toBe(1)
    // without it, the walk finishes before anything else runs
    pages.mockClear()
    setImmediate(() => (pagesWhenOtherWorkRan = pages.mock.calls.length))
    expect((await t.store.check({ pages: false })).ok).toBe(true)
    expect(pagesWhenOtherWorkRan).toBe(4)
    // every second page: the first pause comes after two pages
    pages.mockClear()
    setImmediate(() => (pagesWhenOtherWorkRan = pages.mock.calls.length))
    expect((await t.store.check({ pages: false, yieldEvery: 2 })).ok).toBe(true)
    expect(pagesWhenOtherWorkRan).toBe(2)
    pages.mockRestore()
  })

  it('a store nothing was ever written to checks intact (its anchor is entry 0)', async () => {
    const fresh = await openTestStore()
    try {
      const r = await fresh.store.check()
      expect(r).toEqual({ ok: true, problems: [], counts: { keys: 0, owners: 0, tombstones: 0, auditEntries: 0 } })
    } finally {
      await fresh.cleanup()
    }
  })

  it('no anchor in the keychain is no finding (the next open writes one); an unreadable one is named', async () => {
    t.store.create({ name: 'k', owner: 'svc' })
    await t.store.settled()
    await keytar.deletePassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`)
    expect(await t.store.check({ pages: false })).toMatchObject({ ok: true, problems: [] })
    await keytar.setPassword(KEYCHAIN_SERVICE, `${t.storeId}:anchor`, 'not an anchor')
    expect((await t.store.check({ pages: false })).problems).toEqual([expect.stringMatching(/^The keychain's record of this store's last known state is unreadable/)])
  })

  it('the page check runs unless pages: false, and each damaged page is named', async () => {
    const port = t.store.port as unknown as { integrityCheck: () => string[] }
    const pages = vi.spyOn(port, 'integrityCheck').mockReturnValue(['row 3 missing from index keys_name', 'wrong # of entries in index keys_name'])
    const r = await t.store.check()
    expect(r.ok).toBe(false)
    expect(r.problems).toEqual(['database pages: row 3 missing from index keys_name', 'database pages: wrong # of entries in index keys_name'])
    pages.mockClear()
    expect(await t.store.check({ pages: false })).toMatchObject({ ok: true })
    expect(pages).not.toHaveBeenCalled()
    pages.mockRestore()
  })

  it('tombstones deleted: the message counts both kinds, found against recorded', async () => {
    const keys = t.store.createMany(Array.from({ length: 3 }, (_, i) => ({ name: `k${i}`, owner: 'svc' })))
    t.store.revoke([keys[0]!.accessId])
    t.store.revoke([keys[1]!.accessId])
    t.store.reset(keys[2]!.accessId, { confirm: 'k2' })
    expect(Number(edit.prepare('SELECT count(*) FROM retired').pluck().get())).toBe(1)
    edit.prepare('DELETE FROM revocations WHERE access_id = ?').run(keys[0]!.accessId)
    const r = await t.store.check({ pages: false })
    expect(r.problems).toContainEqual(expect.stringMatching(/deleted or added outside KeyDesk \(2 found, 3 recorded\)/))
  })

  it('a retired secret’s tombstone deleted alone (revocations intact) is named, and refused at open', async () => {
    const k = t.store.create({ name: 'k', owner: 'svc' })
    t.store.reset(k.accessId, { confirm: 'k' })
    await t.store.settled()
    edit.prepare('DELETE FROM retired').run()
    const r = await t.store.check({ pages: false })
    expect(r.problems).toContainEqual(expect.stringMatching(/deleted or added outside KeyDesk \(0 found, 1 recorded\)/))
    t.store.close()
    const e = await catchKdAsync(reopen())
    expect(e.kind).toBe('tampered')
    expect(e.message).toMatch(/tombstones of revoked keys or retired secrets were deleted or added outside KeyDesk/)
  })

  it('a log cut at its end is named once, by the chain (the open check saying the same is not repeated)', async () => {
    t.store.create({ name: 'a', owner: 'svc' })
    t.store.create({ name: 'b', owner: 'svc' })
    const last = Number(edit.prepare('SELECT max(id) FROM audit').pluck().get())
    edit.prepare('DELETE FROM audit WHERE id = ?').run(last)
    const r = await t.store.check({ pages: false })
    expect(r.problems).toContainEqual(expect.stringMatching(/^audit log: the log ends at entry \d+ but its recorded head is entry \d+/))
    expect(r.problems.join('\n')).not.toMatch(/does not end where its recorded head says/)
  })

  it('at open: a missing head record, and a log longer than its head, are refused as edits', async () => {
    t.store.create({ name: 'a', owner: 'svc' })
    await t.store.settled()
    t.store.close()
    const head = edit.prepare(`SELECT value FROM meta WHERE key = 'audit_head'`).pluck().get() as string
    edit.prepare(`DELETE FROM meta WHERE key = 'audit_head'`).run()
    let e = await catchKdAsync(reopen())
    expect(e.kind).toBe('tampered')
    expect(e.message).toMatch(/the record of its audit log's last entry is missing or was edited outside KeyDesk\. Run keydesk check\.$/)
    edit.prepare(`INSERT INTO meta (key, value) VALUES ('audit_head', ?)`).run(head)
    const row = edit.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT 1').get() as Record<string, unknown>
    edit.prepare('INSERT INTO audit (id, at, actor, action, target, detail, prev_hash, hash, mac) VALUES (@id, @at, @actor, @action, @target, @detail, @prev_hash, @hash, @mac)').run({ ...row, id: Number(row.id) + 1 })
    e = await catchKdAsync(reopen())
    expect(e.kind).toBe('tampered')
    expect(e.message).toMatch(/its audit log does not end where its recorded head says \(entry \d+\)\. Run keydesk check\.$/)
    edit.prepare('DELETE FROM audit WHERE id = ?').run(Number(row.id) + 1)
    t.store = await reopen()
  })

  it('a deleted tombstone with an intact chain is named (the open check, run inside check)', async () => {
    const k = t.store.create({ name: 'k', owner: 'svc' })
    t.store.revoke([k.accessId])
    edit.prepare('DELETE FROM revocations').run()
    const r = await t.store.check({ pages: false })
    expect(r.problems).toEqual([expect.stringMatching(/tombstones of revoked keys or retired secrets were deleted or added outside KeyDesk \(0 found, 1 recorded\)/)])
  })
})

describe('engine failures become one plain sentence', () => {
  it('disk full, other SQLite codes, domain errors and anything else', () => {
    const sqlite = (code: string) => Object.assign(new Error('x'), { code })
    expect((storageError(sqlite('SQLITE_FULL')) as KeydeskError).message).toMatch(/the disk is full/)
    expect((storageError(sqlite('ENOSPC')) as KeydeskError).message).toMatch(/the disk is full/)
    const busy = storageError(sqlite('SQLITE_BUSY')) as KeydeskError
    expect(busy).toBeInstanceOf(KeydeskError)
    expect(busy.kind).toBe('store_unavailable')
    expect(busy.message).toBe('The key store could not be written (SQLITE_BUSY); nothing was changed.')
    const domain = new KeydeskError('conflict', 'c')
    expect(storageError(domain)).toBe(domain)
    const other = new TypeError('bug')
    expect(storageError(other)).toBe(other)
    const noCode = new Error('plain')
    expect(storageError(noCode)).toBe(noCode)
    expect(storageError(sqlite('EIO_SQLITE_'))).not.toBeInstanceOf(KeydeskError)
  })
})
