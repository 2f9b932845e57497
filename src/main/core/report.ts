/**
 * The credential report: one row per key in the shape of AWS's IAM credential
 * report, for API keys. No secret and no hash ever reaches it; cells go through
 * the same formula-safe CSV writer as every other export, and the file is
 * owner-only (0600) and never replaces an existing one.
 */
import { lstatSync } from 'node:fs'
import { resolve } from 'node:path'
import { invalid } from './errors'
import { toCsv } from './csv'
import { DAY_MS } from './duration'
import { writePrivateFile } from './files'
import type { KeyView } from '../../shared/domain'

export const REPORT_FIELDS = [
  'Name',
  'Access ID',
  'Owner',
  'Owner Kind',
  'Status',
  'Created',
  'Last Reset',
  'Last Used',
  'Expires',
  'Age Days',
  'Days Until Expiry',
  'Scopes',
] as const

/** What the report needs from a store (KeyStore has it). */
export interface ReportSource {
  iterateKeys(): IterableIterator<KeyView>
}

/** Whole days between two instants, rounded down (negative when `to` is earlier). */
function wholeDays(from: number, to: number): number {
  return Math.floor((to - from) / DAY_MS)
}

export function reportStatus(k: KeyView): string {
  if (k.tampered) return 'tampered'
  if (k.status === 'active' && k.ownerDisabled) return 'owner disabled'
  return k.status
}

export function reportRow(k: KeyView, now: number): (string | number)[] {
  const created = Date.parse(k.createdAt)
  const expires = Date.parse(k.expiresAt)
  return [
    k.name,
    k.accessId,
    k.owner,
    k.ownerKind,
    reportStatus(k),
    k.createdAt,
    k.resetAt ?? '',
    k.lastUsedAt ?? '',
    k.expiresAt,
    wholeDays(created, now),
    // A revoked key never expires any more; an expired one shows how long ago (negative).
    k.status === 'revoked' ? '' : wholeDays(now, expires),
    k.scopes.join(' '),
  ]
}

export function credentialReportCsv(source: ReportSource, now: number): { text: string; rows: number } {
  // papaparse ends a header-only table with a line break already: keep exactly one.
  const parts: string[] = [toCsv(REPORT_FIELDS, []).replace(/(\r\n)+$/, '\r\n')]
  let batch: (string | number)[][] = []
  let rows = 0
  for (const k of source.iterateKeys()) {
    batch.push(reportRow(k, now))
    rows++
    if (batch.length === 5000) {
      parts.push(toCsv(REPORT_FIELDS, batch, false))
      batch = []
    }
  }
  if (batch.length) parts.push(toCsv(REPORT_FIELDS, batch, false))
  return { text: parts.join(''), rows }
}

/** Refuse a target that already exists (a file, a symlink, a device, anything). */
export function requireNewFile(target: string, field = 'csv'): string {
  if (typeof target !== 'string' || target.trim() === '') throw invalid(field, 'Give a file to write.')
  const path = resolve(target)
  let exists = true
  try {
    lstatSync(path)
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') exists = false
  }
  if (exists) throw invalid(field, `${path} already exists; choose a new file (KeyDesk never overwrites one).`)
  return path
}

/** Write the credential report to a new owner-only file. */
export function writeCredentialReport(source: ReportSource, target: string, now = Date.now()): { path: string; rows: number } {
  const path = requireNewFile(target)
  const { text, rows } = credentialReportCsv(source, now)
  return { path: writePrivateFile(path, text), rows }
}
