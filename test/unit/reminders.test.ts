/**
 * Expiry reminders: dueReminders/markReminded on a real store (test clock) and
 * the scheduler over them with a recording notifier: once per key and
 * threshold, persisted across a reopen, grouped when many cross at once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openKeyStore } from '../../src/main/core/index'
import { GROUP_ABOVE, ReminderScheduler, notificationsFor, type ReminderNotification } from '../../src/main/core/reminders'
import { DAY, HOUR, expectKd, openTestStore, type TestStore } from './support'

let t: TestStore
beforeEach(async () => {
  t = await openTestStore()
})
afterEach(() => t.cleanup())

function scheduler(shown: ReminderNotification[], store = t.store) {
  return new ReminderScheduler({ source: () => store, notify: (n) => void shown.push(n), now: t.clock.now })
}

describe('dueReminders', () => {
  it('only the smallest crossed threshold per key, once; active keys only', () => {
    const a = t.store.create({ name: 'a', expiresIn: '40d' })
    t.store.create({ name: 'b', expiresIn: '5d' })
    const c = t.store.create({ name: 'c', expiresIn: '20d' })
    t.store.revoke([c.accessId])
    expect(t.store.dueReminders().map((d) => [d.name, d.thresholdDays])).toEqual([['b', 7]])
    t.store.markReminded(t.store.dueReminders())
    expect(t.store.dueReminders()).toEqual([])
    t.clock.advance(11 * DAY) // a: 29 days left; b: expired
    expect(t.store.dueReminders().map((d) => [d.accessId, d.thresholdDays])).toEqual([[a.accessId, 30]])
    t.store.markReminded(t.store.dueReminders())
    t.clock.advance(22 * DAY + HOUR) // a: < 7 days left
    expect(t.store.dueReminders().map((d) => d.thresholdDays)).toEqual([7])
  })

  it('follows the policy thresholds', () => {
    t.store.setPolicy({ reminderDays: [14, 2] })
    t.store.create({ name: 'x', expiresIn: '10d' })
    expect(t.store.dueReminders().map((d) => d.thresholdDays)).toEqual([14])
    for (const bad of [[7, 7], [400], [], [30, 14, 7, 3, 2, 1], [1.5]]) expectKd(() => t.store.setPolicy({ reminderDays: bad }), 'invalid_input')
    expect(t.store.getPolicy().reminderDays).toEqual([14, 2])
  })
})

describe('ReminderScheduler', () => {
  it('threshold crossed → one notification; the next check and a reopened store → none', async () => {
    t.store.create({ name: 'deploy', expiresIn: '6d' })
    const shown: ReminderNotification[] = []
    expect(await scheduler(shown).check()).toHaveLength(1)
    expect(shown).toHaveLength(1)
    expect(shown[0]!.title).toBe('Key "deploy" expires in 6 days')
    expect(await scheduler(shown).check()).toEqual([])
    // A restart: the same data dir opened again.
    const again = await openKeyStore({ ...t.where, now: t.clock.now })
    try {
      expect(await scheduler(shown, again).check()).toEqual([])
    } finally {
      again.close()
    }
    expect(shown).toHaveLength(1)
    // The next threshold fires once.
    t.clock.advance(5 * DAY + HOUR)
    await scheduler(shown).check()
    expect(shown.map((n) => n.title)).toEqual(['Key "deploy" expires in 6 days', 'Key "deploy" expires within a day'])
  })

  it('many keys crossing at once make one grouped notification', async () => {
    for (let i = 0; i < GROUP_ABOVE + 2; i++) t.store.create({ name: `bulk-${i}`, expiresIn: `${3 + i}d` })
    const shown: ReminderNotification[] = []
    await scheduler(shown).check()
    expect(shown).toHaveLength(1)
    expect(shown[0]!.title).toBe(`${GROUP_ABOVE + 2} keys expire within 7 days`)
    expect(shown[0]!.body).toMatch(/^"bulk-0" \(tester\) in 3 days, "bulk-1" \(tester\) in 4 days, "bulk-2" \(tester\) in 5 days and 2 more\./)
    expect(shown[0]!.accessIds).toHaveLength(GROUP_ABOVE + 2)
  })

  it('a failed notification is not recorded, so the next check tries again', async () => {
    t.store.create({ name: 'retry', expiresIn: '2d' })
    const errors: unknown[] = []
    const failing = new ReminderScheduler({ source: () => t.store, notify: () => { throw new Error('no notification daemon') }, now: t.clock.now, onError: (e) => errors.push(e) })
    expect(await failing.check()).toEqual([])
    expect(errors).toHaveLength(1)
    const shown: ReminderNotification[] = []
    await scheduler(shown).check()
    expect(shown).toHaveLength(1)
  })

  it('no store (unavailable) → nothing, no error', async () => {
    const s = new ReminderScheduler({ source: () => null, notify: () => { throw new Error('must not be called') } })
    expect(await s.check()).toEqual([])
  })

  it('notificationsFor: one per key up to the group size', () => {
    const now = Date.UTC(2031, 0, 1)
    const due = (n: number) => Array.from({ length: n }, (_, i) => ({ accessId: `kdid_${String(i).padStart(16, '0')}`, name: `k${i}`, owner: 'o', expiresAt: new Date(now + (i + 1) * DAY + HOUR).toISOString(), thresholdDays: 7 }))
    expect(notificationsFor(due(GROUP_ABOVE), now)).toHaveLength(GROUP_ABOVE)
    expect(notificationsFor(due(GROUP_ABOVE + 1), now)).toHaveLength(1)
    expect(notificationsFor([], now)).toEqual([])
  })
})
