/**
 * The trust boundary's parser: everything from the renderer is `unknown` until
 * the operation's schema accepts it. Before the schema runs, a structural scan
 * refuses what a schema cannot be trusted to see: prototype keys (`__proto__`,
 * `constructor`, `prototype`), objects that are not plain data, and absurd nesting.
 * Errors name the field and never echo a value (values can be confirmations or
 * worse).
 */
import type { z } from 'zod'
import type { BridgeError } from '../../shared/contract'

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])
const MAX_DEPTH = 8

function printable(key: string): string {
  const s = key.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '?')
  return s.length > 64 ? `${s.slice(0, 64)}…` : s
}

function fieldLabel(path: readonly PropertyKey[]): string {
  let out = ''
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`
  return out
}

/** Structural scan: plain objects, arrays and primitives only; no prototype keys. */
export function checkPlainData(value: unknown): BridgeError | null {
  const stack: { v: unknown; path: PropertyKey[] }[] = [{ v: value, path: [] }]
  while (stack.length) {
    const { v, path } = stack.pop()!
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint')
        return { kind: 'invalid_input', message: `${fieldLabel(path) || 'The request'} is not plain data.`, ...(path.length ? { field: String(path[0]) } : {}) }
      continue
    }
    if (path.length >= MAX_DEPTH) return { kind: 'invalid_input', message: 'The request is nested too deeply.', ...(path.length ? { field: String(path[0]) } : {}) }
    const proto = Object.getPrototypeOf(v)
    const isArray = Array.isArray(v)
    if (isArray ? proto !== Array.prototype : proto !== Object.prototype && proto !== null)
      return { kind: 'invalid_input', message: `${fieldLabel(path) || 'The request'} must be plain data.`, ...(path.length ? { field: String(path[0]) } : {}) }
    for (const key of Reflect.ownKeys(v)) {
      if (typeof key === 'symbol') return { kind: 'invalid_input', message: 'The request must not have symbol keys.' }
      if (FORBIDDEN_KEYS.has(key)) {
        const where = fieldLabel(path)
        return { kind: 'invalid_input', message: `Field "${key}"${where ? ` in ${where}` : ''} is not allowed.`, field: path.length ? String(path[0]) : key }
      }
      if (isArray && key === 'length') continue
      stack.push({ v: (v as Record<string, unknown>)[key], path: [...path, isArray ? Number(key) : key] })
    }
  }
  return null
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, p)) return undefined
    v = (v as Record<PropertyKey, unknown>)[p]
  }
  return v
}

/** One zod issue → a plain sentence naming the field (never the value). */
export function issueToError(issue: z.core.$ZodIssue, input: unknown): BridgeError {
  const path = issue.path
  const label = fieldLabel(path)
  const field = path.length ? String(path[0]) : undefined
  const named = label ? `"${label}"` : 'The request'
  const out = (message: string, f = field): BridgeError => ({ kind: 'invalid_input', message, ...(f !== undefined ? { field: f } : {}) })
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = printable(String(issue.keys[0] ?? ''))
      const where = label ? ` in ${label}` : ''
      return out(`Unknown field "${key}"${where}.`, field ?? key)
    }
    case 'invalid_type': {
      if (path.length && valueAt(input, path) === undefined) return out(`${named} is required.`)
      const expected = String(issue.expected)
      const noun: Record<string, string> = {
        string: 'text', number: 'a number', int: 'a whole number', boolean: 'true or false', array: 'a list', object: 'an object',
      }
      if (!path.length) return out(`The request must be ${noun[expected] ?? expected}.`)
      return out(`${named} must be ${noun[expected] ?? expected}.`)
    }
    case 'too_big': {
      const max = String(issue.maximum)
      if (issue.origin === 'string') return out(`${named} is too long: at most ${max} characters.`)
      if (issue.origin === 'array') return out(`${named} has too many items: at most ${max}.`)
      return out(`${named} must be at most ${max}.`)
    }
    case 'too_small': {
      const min = String(issue.minimum)
      if (issue.origin === 'string') return out(`${named} is too short: at least ${min} characters.`)
      if (issue.origin === 'array') return out(`${named} needs at least ${min} item${min === '1' ? '' : 's'}.`)
      return out(`${named} must be at least ${min}.`)
    }
    case 'invalid_format':
      return out(`${named} ${issue.message.startsWith('must') ? issue.message : 'has the wrong format'}.`.replace(/\.\.$/, '.'))
    case 'invalid_value':
      return out(`${named} must be one of ${issue.values.map((v) => String(v)).join(', ')}.`)
    case 'not_multiple_of':
      return out(`${named} must be a whole number.`)
    default:
      return out(`${named} is invalid.`)
  }
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: BridgeError }

/** Scan, then parse with the schema. `undefined` stands for "no input" (`{}`). */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): Parsed<z.output<S>> {
  const input = raw === undefined ? {} : raw
  const bad = checkPlainData(input)
  if (bad) return { ok: false, error: bad }
  const r = schema.safeParse(input)
  if (r.success) return { ok: true, value: r.data }
  return { ok: false, error: issueToError(r.error.issues[0]!, input) }
}
