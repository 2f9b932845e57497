/** Display helpers: dates, relative times, counts. Pure functions of their inputs (and the clock passed in). */

export const DAY_MS = 86_400_000
export const EXPIRING_SOON_DAYS = 7

const dateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' })
const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
})
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
const numFmt = new Intl.NumberFormat()
const rel = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })

export const formatDate = (iso: string | null | undefined): string => (iso ? dateFmt.format(new Date(iso)) : '—')
export const formatDateTime = (iso: string | null | undefined): string => (iso ? dateTimeFmt.format(new Date(iso)) : '—')
export const formatTime = (iso: string | null | undefined): string => (iso ? timeFmt.format(new Date(iso)) : '—')
export const formatCount = (n: number): string => numFmt.format(n)

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`
}

/** "in 3 days", "2 hours ago", "tomorrow". */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—'
  const diff = new Date(iso).getTime() - now
  const abs = Math.abs(diff)
  if (abs < 60_000) return diff >= 0 ? 'in under a minute' : 'just now'
  if (abs < 3_600_000) return rel.format(Math.round(diff / 60_000), 'minute')
  if (abs < DAY_MS) return rel.format(Math.round(diff / 3_600_000), 'hour')
  if (abs < 45 * DAY_MS) return rel.format(Math.round(diff / DAY_MS), 'day')
  if (abs < 365 * DAY_MS) return rel.format(Math.round(diff / (30 * DAY_MS)), 'month')
  return rel.format(Math.round(diff / (365 * DAY_MS)), 'year')
}

/** Active and expiring within EXPIRING_SOON_DAYS. */
export function isExpiringSoon(k: { status: string; expiresAt: string }, now = Date.now()): boolean {
  if (k.status !== 'active') return false
  const t = new Date(k.expiresAt).getTime()
  return t > now && t - now <= EXPIRING_SOON_DAYS * DAY_MS
}

/** Local calendar date (YYYY-MM-DD) of an instant. */
export function localDate(ms: number): string {
  const d = new Date(ms)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`
}

/** The last instant of a local calendar date, as ISO-8601 with the local offset (what the store's parser accepts). */
export function endOfLocalDayIso(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const end = new Date(y, m - 1, d, 23, 59, 59, 0)
  const off = -end.getTimezoneOffset()
  const sign = off >= 0 ? '+' : '-'
  const p = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, '0')
  return `${date}T23:59:59${sign}${p(off / 60)}:${p(off % 60)}`
}

export function endOfLocalDayMs(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  return new Date(y, m - 1, d, 23, 59, 59, 0).getTime()
}

/** The range of local dates a custom expiry may take under a max key age: today … the last day whose end is within the age. */
export function expiryDateBounds(maxKeyAgeDays: number, now = Date.now()): { min: string; max: string } {
  const limit = now + maxKeyAgeDays * DAY_MS
  let max = localDate(limit)
  if (endOfLocalDayMs(max) > limit) max = localDate(new Date(endOfLocalDayMs(max)).setDate(new Date(endOfLocalDayMs(max)).getDate() - 1))
  let min = localDate(now)
  if (endOfLocalDayMs(min) <= now) min = localDate(now + DAY_MS)
  return { min, max }
}
