/**
 * CSV in and out, through papaparse. Output always uses escapeFormulae, on top of
 * the input rule that names cannot begin with a formula character.
 */
import { createRequire } from 'node:module'
import type PapaT from 'papaparse'
import { invalid } from './errors'

// Loaded on first use: most commands (and every verify) never touch a CSV, and
// papaparse was a tenth of a CLI command's start-up.
let papa: typeof PapaT | undefined
const Papa = (): typeof PapaT => (papa ??= createRequire(import.meta.url)('papaparse') as typeof PapaT)

export const CREDENTIAL_FIELDS = ['Name', 'Access ID', 'Access Key', 'Owner', 'Scopes', 'Expires At'] as const
export const INVENTORY_FIELDS = ['Name', 'Access ID', 'Owner', 'Status', 'Scopes', 'Description', 'Created At', 'Expires At', 'Last Used At', 'Revoked At'] as const
export const AUDIT_FIELDS = ['ID', 'Time', 'Actor', 'Action', 'Target', 'Detail'] as const

/**
 * papaparse's own `escapeFormulae: true` pattern (/^[=+\-@\t\r].*$/) misses a cell
 * with a line break after the formula (`.` stops at the newline, `$` needs the end),
 * so a multi-line description could still run as a formula. Only the first
 * character matters.
 */
const FORMULA_CELL = /^[=+\-@\t\r]/

export function toCsv(fields: readonly string[], rows: readonly (readonly unknown[])[], header = true): string {
  return Papa().unparse({ fields: [...fields], data: rows.map((r) => [...r]) }, { escapeFormulae: FORMULA_CELL, header, newline: '\r\n' }) + '\r\n'
}

export interface ImportRow {
  line: number
  name: string
  owner?: string
  scopes?: string[]
  expiresAt?: string
  expiresIn?: string
  description?: string
}

const IMPORT_COLUMNS: Record<string, keyof Omit<ImportRow, 'line'>> = {
  name: 'name',
  owner: 'owner',
  scopes: 'scopes',
  scope: 'scopes',
  'expires at': 'expiresAt',
  'expires in': 'expiresIn',
  description: 'description',
}

export const IMPORT_MAX_ROWS = 100_000

/** A CSV with a header row: Name (required), and optional Owner, Scopes, Expires At, Expires In, Description. */
export function parseImportCsv(text: string): ImportRow[] {
  // A file with one column (just Name) has no delimiter to detect; papaparse then
  // reports "UndetectableDelimiter" and uses ',', which is right, so only quote errors are fatal.
  const parsed = Papa().parse<string[]>(text.replace(/^\ufeff/, ''), { skipEmptyLines: false })
  const fatal = parsed.errors.find((e) => e.type === 'Quotes')
  if (fatal) throw invalid('csv', `The import CSV cannot be read: ${fatal.message} (row ${(fatal.row ?? 0) + 1}).`)
  // Skip blank lines ourselves so every row keeps its own number for error messages.
  const records = parsed.data.map((cells, i) => ({ cells, line: i + 1 })).filter((r) => r.cells.some((c) => c.trim() !== ''))
  const [head, ...rows] = records
  const header = head?.cells
  if (!header) throw invalid('csv', 'The import CSV is empty: it needs a header row with a Name column.')
  const cols = header.map((h, i) => {
    const key = IMPORT_COLUMNS[h.trim().toLowerCase()]
    if (!key) throw invalid('csv', `The import CSV has an unknown column "${h.slice(0, 40)}" (column ${i + 1}); allowed: Name, Owner, Scopes, Expires At, Expires In, Description.`)
    return key
  })
  if (!cols.includes('name')) throw invalid('csv', 'The import CSV needs a Name column.')
  if (rows.length === 0) throw invalid('csv', 'The import CSV has no rows after its header.')
  if (rows.length > IMPORT_MAX_ROWS) throw invalid('csv', `The import CSV has ${rows.length} rows; at most ${IMPORT_MAX_ROWS} at once.`)
  return rows.map(({ cells, line }) => {
    if (cells.length !== cols.length) throw invalid('csv', `Row ${line} of the import CSV has ${cells.length} cells; the header has ${cols.length}.`)
    const row: ImportRow = { line, name: '' }
    cols.forEach((c, j) => {
      const v = cells[j]!.trim()
      if (c === 'scopes') row.scopes = v ? v.split(/[\s,;]+/).filter(Boolean) : []
      else if (v !== '' || c === 'name') row[c] = v
    })
    return row
  })
}
