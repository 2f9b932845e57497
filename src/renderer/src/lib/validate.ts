/**
 * Early, as-you-type checks that mirror the store's input rules (DESIGN.md "Names
 * and other input"). The store stays the authority: its field errors are shown
 * at the same place, in its own words.
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
const FORMULA_START = /^[=+\-@\t\r ]/
const SCOPE_RE = /^[A-Za-z0-9][A-Za-z0-9_.:*/-]{0,63}$/
export const NAME_MAX = 128
export const DESCRIPTION_MAX = 1000
export const MAX_SCOPES = 64

/** Name of a key or owner. `optional`: blank is allowed (a key gets a generated name). */
export function nameError(raw: string, label: string, optional: boolean): string | null {
  if (raw.trim() === '') return optional ? null : `${label} must not be empty.`
  const s = raw.normalize('NFC').trim()
  if ([...s].length > NAME_MAX) return `${label} is too long: at most ${NAME_MAX} characters.`
  if (CONTROL.test(s)) return `${label} must not contain control characters.`
  if (BIDI.test(s)) return `${label} must not contain bidirectional-override characters.`
  if (FORMULA_START.test(s)) return `${label} must not begin with =, +, -, @ or whitespace.`
  if (s.split('/').some((seg) => seg.trim().length === 0))
    return `${label} has an empty folder segment: use "folder/name", without leading, trailing or double "/".`
  return null
}

export function splitScopes(raw: string): string[] {
  return raw.split(/[\s,]+/).filter((s) => s !== '')
}

export function scopesError(raw: string): string | null {
  const parts = splitScopes(raw)
  for (const p of parts)
    if (!SCOPE_RE.test(p))
      return `Scope "${p.slice(0, 70)}" is not valid: use letters, digits and _ . : * / - (at most 64 characters, starting with a letter or digit).`
  if (new Set(parts).size > MAX_SCOPES) return `Too many scopes: at most ${MAX_SCOPES}.`
  return null
}

export function descriptionError(raw: string): string | null {
  const s = raw.normalize('NFC').trim()
  if ([...s].length > DESCRIPTION_MAX) return `Description is too long: at most ${DESCRIPTION_MAX} characters.`
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(s) || BIDI.test(s))
    return 'Description must not contain control or bidirectional-override characters.'
  return null
}

export function reasonError(raw: string): string | null {
  const s = raw.trim()
  if ([...s].length > 500) return 'Reason is too long: at most 500 characters.'
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(s) || BIDI.test(s)) return 'Reason must not contain control or bidirectional-override characters.'
  return null
}
