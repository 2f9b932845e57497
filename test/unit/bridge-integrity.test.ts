/** The app's "Check integrity": the same full check as `keydesk check`, through the bridge. */
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { bridgeFixture, type BridgeFixture } from './bridge-fixture'

let f: BridgeFixture | undefined
afterEach(async () => {
  await f?.cleanup()
  f = undefined
})

describe('storeCheck', () => {
  it('an intact store passes; an edited key row is named', async () => {
    f = await bridgeFixture()
    const created = await f.api.invoke('keysCreate', { name: 'k' })
    if (!created.ok) throw new Error(created.error.message)
    const accessId = created.value.keys[0]!.accessId
    expect(await f.api.invoke('storeCheck', {})).toMatchObject({ ok: true, value: { ok: true, problems: [], counts: { keys: 1 } } })
    if (!f.store.ok) throw new Error('store did not open')
    const db = new Database(f.store.store.dbPath)
    db.prepare('UPDATE keys SET expires_at = expires_at + 1 WHERE access_id = ?').run(accessId)
    db.close()
    const r = await f.api.invoke('storeCheck', {})
    expect(r.ok && r.value.ok).toBe(false)
    expect(r.ok && r.value.problems.join('\n')).toMatch(new RegExp(`1 key row\\(s\\) were edited.*${accessId}`))
    expect(await f.api.invoke('storeCheck', { extra: 1 })).toMatchObject({ ok: false, error: { kind: 'invalid_input' } })
  })
})
