/**
 * Key format (contract, see DESIGN.md "Keys"):
 *   access ID  = "kdid_" + 16 base62
 *   access key = "kdsk_" + 32 base62 (≈190 bits from crypto.randomBytes, rejection
 *                sampled) + 6 base62 of CRC32 over everything before it.
 * The checksum lets the verifier and secret scanners reject typos without a lookup.
 */
import { randomBytes } from 'node:crypto'

export const ACCESS_ID_PREFIX = 'kdid_'
export const ACCESS_KEY_PREFIX = 'kdsk_'
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const ID_BODY = 16
const KEY_BODY = 32
const CRC_LEN = 6
export const ACCESS_KEY_LENGTH = ACCESS_KEY_PREFIX.length + KEY_BODY + CRC_LEN
export const ACCESS_ID_LENGTH = ACCESS_ID_PREFIX.length + ID_BODY
const ACCESS_ID_RE = /^kdid_[0-9A-Za-z]{16}$/
const ACCESS_KEY_RE = /^kdsk_[0-9A-Za-z]{38}$/

/** n base62 characters, uniform: bytes ≥ 248 are rejected (248 = 62 × 4). */
export function randomBase62(n: number): string {
  let out = ''
  while (out.length < n) {
    const buf = randomBytes(Math.ceil((n - out.length) * 1.1) + 4)
    for (const b of buf) {
      if (b >= 248) continue
      out += ALPHABET[b % 62]
      if (out.length === n) break
    }
  }
  return out
}

function base62Fixed(value: number, width: number): string {
  let s = ''
  let v = value
  for (let i = 0; i < width; i++) {
    s = ALPHABET[v % 62] + s
    v = Math.floor(v / 62)
  }
  return s
}

// node:zlib (and the streams it brings) loads on the first checksum, not with every command.
let crc32: typeof import('node:zlib').crc32 | undefined

function checksum(body: string): string {
  crc32 ??= process.getBuiltinModule('node:zlib').crc32
  return base62Fixed(crc32(body) >>> 0, CRC_LEN)
}

export function newAccessId(): string {
  return ACCESS_ID_PREFIX + randomBase62(ID_BODY)
}

export function newAccessKey(): string {
  const body = ACCESS_KEY_PREFIX + randomBase62(KEY_BODY)
  return body + checksum(body)
}

export function isAccessId(s: string): boolean {
  return ACCESS_ID_RE.test(s)
}

/** Shape and checksum; no lookup. */
export function isWellFormedAccessKey(s: string): boolean {
  if (s.length !== ACCESS_KEY_LENGTH || !ACCESS_KEY_RE.test(s)) return false
  const body = s.slice(0, s.length - CRC_LEN)
  return checksum(body) === s.slice(s.length - CRC_LEN)
}

/** Shown in lists so an admin can tell keys apart: prefix + first 4 characters. */
export function keyHint(key: string): string {
  return key.slice(0, ACCESS_KEY_PREFIX.length + 4)
}
