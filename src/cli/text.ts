/**
 * Text output of the CLI: user data shown with control characters escaped.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }
/**
 * Text output shows user data with control characters escaped (\n, \r, \t, \x1b,
 * \u2028, bidi overrides as \u202e …), so a name or description cannot forge lines,
 * move the cursor or recolour the terminal. JSON output is untouched.
 */
export function esc(v: unknown): string {
  return String(v).replace(
    CONTROL,
    (c) => NAMED[c] ?? (c.charCodeAt(0) < 0x100 ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  )
}
/** Template tag: every interpolated value is escaped (esc); the literal text is kept. */
export function t(strings: TemplateStringsArray, ...values: unknown[]): string {
  return strings.reduce((acc, str, i) => acc + str + (i < values.length ? esc(values[i]) : ''), '')
}

