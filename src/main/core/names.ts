/**
 * Input rules for names and free text (DESIGN.md "Names and other input").
 * Every function returns the normalised value or throws an invalid_input error
 * naming the field.
 */
import { invalid } from './errors'

// C0/C1 controls, DEL, and bidi embeddings/overrides/isolates + LRM/RLM/ALM.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
const FORMULA_START = /^[=+\-@\t\r ]/
export const NAME_MAX = 128
export const DESCRIPTION_MAX = 1000
export const SCOPE_RE = /^[A-Za-z0-9][A-Za-z0-9_.:*\/-]{0,63}$/
export const MAX_SCOPES = 64

export function normalizeName(raw: string, field = 'name', label = 'Name'): string {
  const s = raw.normalize('NFC').trim()
  if (s.length === 0) throw invalid(field, `${label} must not be empty.`)
  if ([...s].length > NAME_MAX) throw invalid(field, `${label} is too long: at most ${NAME_MAX} characters.`)
  if (CONTROL.test(s)) throw invalid(field, `${label} must not contain control characters.`)
  if (BIDI.test(s)) throw invalid(field, `${label} must not contain bidirectional-override characters.`)
  if (FORMULA_START.test(s)) throw invalid(field, `${label} must not begin with =, +, -, @ or whitespace.`)
  if (s.split('/').some((seg) => seg.trim().length === 0))
    throw invalid(field, `${label} has an empty folder segment: use "folder/name", without leading, trailing or double "/".`)
  return s
}

export function normalizeDescription(raw: string | undefined): string {
  if (raw === undefined) return ''
  const s = raw.normalize('NFC').trim()
  if ([...s].length > DESCRIPTION_MAX)
    throw invalid('description', `Description is too long: at most ${DESCRIPTION_MAX} characters.`)
  if (/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(s) || BIDI.test(s))
    throw invalid('description', 'Description must not contain control or bidirectional-override characters.')
  return s
}

export function normalizeScopes(raw: readonly string[] | undefined): string[] {
  if (!raw) return []
  const out = new Set<string>()
  for (const r of raw) {
    for (const part of r.split(/[\s,]+/)) {
      if (part === '') continue
      if (!SCOPE_RE.test(part))
        throw invalid('scopes', `Scope "${part.slice(0, 70)}" is not valid: use letters, digits and _ . : * / - (at most 64 characters, starting with a letter or digit).`)
      out.add(part)
    }
  }
  if (out.size > MAX_SCOPES) throw invalid('scopes', `Too many scopes: at most ${MAX_SCOPES}.`)
  return [...out].sort()
}
