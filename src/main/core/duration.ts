import { invalid } from './errors'

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 }
export const DAY_MS = UNIT_MS.d!

/** "90m", "12h", "30d" → milliseconds. */
export function parseDuration(raw: string, field: string): number {
  const m = /^\s*(\d{1,6})\s*([mhd])\s*$/.exec(raw)
  if (!m) throw invalid(field, `${field} "${raw.slice(0, 40)}" is not a duration: use a number followed by m, h or d (e.g. 90m, 12h, 30d).`)
  return Number(m[1]) * UNIT_MS[m[2]!]!
}

/** ISO-8601 date or date-time → epoch ms. A bare date means the end of that day, UTC. */
export function parseInstant(raw: string, field: string): number {
  const s = raw.trim()
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(s)
  const ok = dateOnly || /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/.test(s)
  const t = ok ? Date.parse(dateOnly ? `${s}T23:59:59.999Z` : s.replace(' ', 'T')) : NaN
  if (!Number.isFinite(t)) throw invalid(field, `${field} "${raw.slice(0, 40)}" is not an ISO-8601 date (e.g. 2027-01-31 or 2027-01-31T12:00:00Z).`)
  return t
}

export const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString()
