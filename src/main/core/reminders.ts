/**
 * Expiry reminders while the app runs: at start and every hour, the keys that
 * crossed a policy threshold (KeyStore.dueReminders) become desktop notifications
 * through a port, one per key, or one grouped notification when many cross at
 * once; then they are recorded (KeyStore.markReminded), so a restart does not
 * repeat them. No secret is ever part of a notification.
 */
import { DAY_MS } from './duration'
import type { ReminderDue } from '../../shared/domain'

export interface ReminderNotification {
  title: string
  body: string
  /** The keys it is about (for the app to open them). */
  accessIds: string[]
}

/** What the scheduler needs from a store (KeyStore has it). */
export interface ReminderSource {
  dueReminders(now?: number): ReminderDue[]
  markReminded(items: readonly ReminderDue[]): void
}

export type Notify = (n: ReminderNotification) => void | Promise<void>

export const REMINDER_INTERVAL_MS = 60 * 60_000
/** More keys than this crossing at once make one grouped notification. */
export const GROUP_ABOVE = 3
const GROUP_NAMES_SHOWN = 3

function inDays(expiresAt: string, now: number): string {
  const ms = Date.parse(expiresAt) - now
  if (ms < DAY_MS) return 'within a day'
  const d = Math.floor(ms / DAY_MS)
  return `in ${d} day${d === 1 ? '' : 's'}`
}

/** The notifications for one check: one per key, or one for the lot when there are many. */
export function notificationsFor(due: readonly ReminderDue[], now: number): ReminderNotification[] {
  if (due.length === 0) return []
  const sorted = [...due].sort((a, b) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt) || a.name.localeCompare(b.name))
  if (sorted.length <= GROUP_ABOVE)
    return sorted.map((d) => ({
      title: `Key "${d.name}" expires ${inDays(d.expiresAt, now)}`,
      body: `Owner ${d.owner}; expires ${d.expiresAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}. Reset or replace it in KeyDesk before then.`,
      accessIds: [d.accessId],
    }))
  const widest = Math.max(...sorted.map((d) => d.thresholdDays))
  const names = sorted.slice(0, GROUP_NAMES_SHOWN).map((d) => `"${d.name}" (${d.owner}) ${inDays(d.expiresAt, now)}`)
  const rest = sorted.length - names.length
  return [
    {
      title: `${sorted.length} keys expire within ${widest} day${widest === 1 ? '' : 's'}`,
      body: `${names.join(', ')}${rest > 0 ? ` and ${rest} more` : ''}. See Needs attention in KeyDesk.`,
      accessIds: sorted.map((d) => d.accessId),
    },
  ]
}

export interface SchedulerOptions {
  /** The store, or null while it is unavailable (then a check does nothing). */
  source: () => ReminderSource | null
  notify: Notify
  now?: () => number
  intervalMs?: number
  /** Reports a failed check (never with a secret; there is none here). */
  onError?: (e: unknown) => void
}

export class ReminderScheduler {
  private timer: ReturnType<typeof setInterval> | undefined
  private running = false
  private readonly now: () => number

  constructor(private readonly opts: SchedulerOptions) {
    this.now = opts.now ?? Date.now
  }

  /**
   * One check: notify what is due, then record it. A notification that fails is
   * not recorded, so the next check tries again. Returns what was shown.
   */
  async check(): Promise<ReminderNotification[]> {
    if (this.running) return []
    this.running = true
    try {
      const source = this.opts.source()
      if (!source) return []
      const now = this.now()
      const due = source.dueReminders(now)
      if (due.length === 0) return []
      const notes = notificationsFor(due, now)
      const shown: ReminderNotification[] = []
      for (const n of notes) {
        await this.opts.notify(n)
        shown.push(n)
      }
      source.markReminded(due)
      return shown
    } catch (e) {
      this.opts.onError?.(e)
      return []
    } finally {
      this.running = false
    }
  }

  /** Check now, then every interval (an hour by default). */
  start(): Promise<ReminderNotification[]> {
    this.stop()
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs ?? REMINDER_INTERVAL_MS)
    this.timer.unref?.()
    return this.check()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}
