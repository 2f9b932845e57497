/**
 * Key expiries as an RFC 5545 calendar (generated with the `ics` package): one
 * event per key at its expiry instant, with a display alarm at each of the
 * policy's reminder thresholds. Holds names, owners and access IDs, never a
 * secret; written owner-only to a new file.
 */
import { createEvents, type EventAttributes } from 'ics'
import { KeydeskError } from './errors'
import { writePrivateFile } from './files'
import { requireNewFile } from './report'
import type { KeyView } from '../../shared/domain'

export const CALENDAR_PRODUCT_ID = '-//KeyDesk//Key expiries//EN'

/** The event's UID is stable per key and expiry, so re-importing a newer file updates rather than duplicates. */
export function expiryUid(k: Pick<KeyView, 'accessId' | 'expiresAt'>): string {
  return `${k.accessId}-${Date.parse(k.expiresAt)}@keydesk`
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

export function expiryEvent(k: KeyView, reminderDays: readonly number[]): EventAttributes {
  const at = Date.parse(k.expiresAt)
  return {
    uid: expiryUid(k),
    start: at,
    startInputType: 'utc',
    startOutputType: 'utc',
    duration: { minutes: 15 },
    title: `KeyDesk key "${k.name}" (${k.owner}) expires`,
    description: `Key "${k.name}" of ${k.owner} (access ID ${k.accessId}) expires at ${k.expiresAt}. Reset or replace it before then: keydesk show ${k.accessId}`,
    categories: ['KeyDesk'],
    transp: 'TRANSPARENT',
    busyStatus: 'FREE',
    alarms: [...reminderDays]
      .sort((a, b) => b - a)
      .map((d) => ({
        action: 'display' as const,
        description: `KeyDesk key "${k.name}" (${k.owner}) expires in ${plural(d, 'day')}`,
        // In hours: `ics` writes a days-only duration as "-P30DT", which RFC 5545's grammar does not allow.
        trigger: { hours: d * 24, before: true },
      })),
  }
}

export function expiryCalendar(keys: readonly KeyView[], reminderDays: readonly number[]): string {
  if (keys.length === 0)
    return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'CALSCALE:GREGORIAN', `PRODID:${CALENDAR_PRODUCT_ID}`, 'METHOD:PUBLISH', 'X-WR-CALNAME:KeyDesk key expiries', 'END:VCALENDAR', ''].join('\r\n')
  const { error, value } = createEvents(
    keys.map((k) => expiryEvent(k, reminderDays)),
    { productId: CALENDAR_PRODUCT_ID, calName: 'KeyDesk key expiries', method: 'PUBLISH' },
  )
  if (error || value === null) throw new KeydeskError('invalid_input', `The calendar could not be written: ${error?.message.split('\n')[0] ?? 'no output'}`, 'ics')
  return value
}

export function writeExpiryCalendar(keys: readonly KeyView[], reminderDays: readonly number[], target: string): { path: string; events: number } {
  const path = requireNewFile(target, 'ics')
  return { path: writePrivateFile(path, expiryCalendar(keys, reminderDays), 'ics'), events: keys.length }
}
