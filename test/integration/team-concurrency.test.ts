/**
 * Four admins, as four streams of real CLI processes, race for one name and for the
 * last slots under the key cap, then create, reset and revoke keys on one team
 * database at the same time for 30 seconds. Afterwards: no two live keys
 * of an owner share a name, no owner is over the key cap, every secret an admin was
 * last given verifies, and every secret retired by a reset or a revoke does not.
 * (The rules live in the domain services; on PostgreSQL they hold because every
 * writer takes the store's advisory lock first, as BEGIN IMMEDIATE does on SQLite.)
 */
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import keytar from 'keytar'
import { KEYCHAIN_SERVICE } from '../../src/main/core/keychain'
import { openKeyStore } from '../../src/main/core/keystore'
import { freshTeamDatabase, tempDir } from '../helpers'
import { BIN } from './cli-helpers'

const CAP = 5
const RUN_MS = 30_000
let url = ''
let storeId = ''
const dirs: (() => void)[] = []

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '--store', url, '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

interface Mine {
  accessId: string
  name: string
  secret: string
}

beforeAll(async () => {
  url = await freshTeamDatabase()
  const d = tempDir()
  dirs.push(d.cleanup)
  const s = await openKeyStore({ dataDir: d.dir, store: url, initTeam: true, actor: 'setup' })
  storeId = s.storeId
  s.addOwner('team-a', 'service')
  s.addOwner('team-b', 'service')
  s.addOwner('team-c', 'service')
  s.setPolicy({ maxKeysPerOwner: CAP })
  await s.closeAsync()
}, 60_000)

afterAll(async () => {
  dirs.forEach((c) => c())
  if (storeId) {
    await keytar.deletePassword(KEYCHAIN_SERVICE, storeId)
    await keytar.deletePassword(KEYCHAIN_SERVICE, `${storeId}:anchor`)
  }
})

const NAMED = /already has a live key named/
const CAPPED = /the policy's maximum/

describe('four admins on one team store for 30 s', () => {
  it('no duplicate live names, the cap never exceeded, every printed secret right', async () => {
    const live: Mine[] = []
    const retired: string[] = []
    const unexpected: string[] = []
    let ops = 0
    const create = async (name: string, owner: string): Promise<Mine | 'named' | 'capped'> => {
      const r = await run(['create', '--name', name, '--owner', owner, '--expires-in', '30d'])
      ops++
      if (r.code === 0) {
        const k = JSON.parse(r.stdout) as { accessId: string; accessKey: string }
        return { accessId: k.accessId, name, secret: k.accessKey }
      }
      if (r.code === 2 && NAMED.test(r.stderr)) return 'named'
      if (r.code === 2 && CAPPED.test(r.stderr)) return 'capped'
      unexpected.push(`create ${r.code}: ${r.stderr.trim()}`)
      return 'named'
    }

    // 1. Four admins race for one name: exactly one gets it.
    const race = await Promise.all([0, 1, 2, 3].map(() => create('svc/same', 'team-a')))
    expect(race.filter((x) => typeof x === 'object')).toHaveLength(1)
    expect(race.filter((x) => x === 'named')).toHaveLength(3)
    live.push(...race.filter((x): x is Mine => typeof x === 'object'))

    // 2. Four admins race for the last slots under the cap: exactly CAP keys, the rest refused.
    const slots: (Mine | 'named' | 'capped')[] = []
    for (let wave = 0; wave < 3; wave++) slots.push(...(await Promise.all([0, 1, 2, 3].map((n) => create(`svc/w${wave}-${n}`, 'team-b')))))
    expect(slots.filter((x) => typeof x === 'object')).toHaveLength(CAP)
    expect(slots.filter((x) => x === 'capped')).toHaveLength(12 - CAP)
    live.push(...slots.filter((x): x is Mine => typeof x === 'object'))

    // 3. Until the deadline, each admin creates, resets and revokes at once with the others.
    const deadline = Date.now() + RUN_MS
    const admin = async (n: number): Promise<void> => {
      const mine: Mine[] = []
      let i = 0
      while (Date.now() < deadline) {
        i++
        const pick = (i * 7 + n) % 10
        if (pick < 5 || mine.length === 0) {
          const got = await create(`svc/n${(i * 3 + n * 5) % 6}`, 'team-c')
          if (typeof got === 'object') mine.push(got)
        } else if (pick < 8) {
          const k = mine[i % mine.length]!
          const r = await run(['reset', k.accessId, '--confirm', k.name])
          ops++
          if (r.code === 0) {
            retired.push(k.secret)
            k.secret = (JSON.parse(r.stdout) as { accessKey: string }).accessKey
          } else unexpected.push(`reset ${r.code}: ${r.stderr.trim()}`)
        } else {
          const k = mine.splice(i % mine.length, 1)[0]!
          const r = await run(['revoke', k.accessId, '--reason', 'rotation drill'])
          ops++
          if (r.code === 0) retired.push(k.secret)
          else unexpected.push(`revoke ${r.code}: ${r.stderr.trim()}`)
        }
      }
      live.push(...mine)
    }
    await Promise.all([0, 1, 2, 3].map(admin))
    expect(unexpected).toEqual([])
    expect(ops).toBeGreaterThan(24)

    const d = tempDir()
    dirs.push(d.cleanup)
    const s = await openKeyStore({ dataDir: d.dir, store: url, create: false, actor: 'checker' })
    try {
      for (const k of live) expect(s.verify({ accessKey: k.secret }), k.accessId).toMatchObject({ valid: true, accessId: k.accessId })
      for (const secret of retired) expect(s.verify({ accessKey: secret }).valid).toBe(false)
      const all = [...s.iterateKeys()]
      const now = Date.now()
      const liveNames = all.filter((k) => k.status === 'active' && Date.parse(k.expiresAt) > now).map((k) => `${k.owner}\u0000${k.name}`)
      expect(new Set(liveNames).size).toBe(liveNames.length)
      for (const owner of ['team-a', 'team-b', 'team-c']) expect(all.filter((k) => k.owner === owner).length).toBeLessThanOrEqual(CAP)
      expect(all.some((k) => k.tampered)).toBe(false)
      expect(s.verifyAudit().ok).toBe(true)
      // Every admin action is in the one chain, by a named admin.
      expect(s.listAudit({ limit: 5 }).every((e) => /@/.test(e.actor))).toBe(true)
    } finally {
      await s.closeAsync()
    }
  }, 180_000)
})
