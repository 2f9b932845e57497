import { describe, expect, it } from 'vitest'
import {
  ACCESS_ID_LENGTH,
  ACCESS_ID_PREFIX,
  ACCESS_KEY_LENGTH,
  ACCESS_KEY_PREFIX,
  isAccessId,
  isWellFormedAccessKey,
  keyHint,
  newAccessId,
  newAccessKey,
  randomBase62,
} from '../../src/main/core/keyformat'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const BASE62 = /^[0-9A-Za-z]+$/

describe('access key format', () => {
  it('is kdsk_ + 32 base62 + 6 base62 checksum characters', () => {
    expect(ACCESS_KEY_PREFIX).toBe('kdsk_')
    expect(ACCESS_KEY_LENGTH).toBe(5 + 32 + 6)
    for (let i = 0; i < 200; i++) {
      const k = newAccessKey()
      expect(k).toHaveLength(43)
      expect(k.startsWith('kdsk_')).toBe(true)
      expect(k.slice(5)).toMatch(BASE62)
      expect(isWellFormedAccessKey(k)).toBe(true)
    }
  })

  it('carries at least 180 bits of entropy: a 32-character random body over all 62 symbols', () => {
    expect(32 * Math.log2(62)).toBeGreaterThanOrEqual(180)
    const seen = new Set<string>()
    const keys = new Set<string>()
    for (let i = 0; i < 300; i++) {
      const k = newAccessKey()
      keys.add(k)
      for (const ch of k.slice(5, 37)) seen.add(ch)
    }
    expect(keys.size).toBe(300)
    expect(seen.size).toBe(62)
  })

  it('never begins with a CSV formula character', () => {
    for (let i = 0; i < 500; i++) {
      expect(newAccessKey()).not.toMatch(/^[=+\-@\t\r ]/)
      expect(newAccessId()).not.toMatch(/^[=+\-@\t\r ]/)
    }
  })

  it('the checksum rejects every single-character typo, without a lookup', () => {
    const k = newAccessKey()
    let checked = 0
    for (let pos = ACCESS_KEY_PREFIX.length; pos < k.length; pos++) {
      for (const ch of ALPHABET) {
        if (ch === k[pos]) continue
        const typo = k.slice(0, pos) + ch + k.slice(pos + 1)
        expect(isWellFormedAccessKey(typo), `typo at ${pos}`).toBe(false)
        checked++
      }
    }
    expect(checked).toBe(38 * 61)
  })

  it('the checksum rejects adjacent transpositions', () => {
    const k = newAccessKey()
    for (let pos = 5; pos < k.length - 1; pos++) {
      if (k[pos] === k[pos + 1]) continue
      const swapped = k.slice(0, pos) + k[pos + 1] + k[pos] + k.slice(pos + 2)
      expect(isWellFormedAccessKey(swapped)).toBe(false)
    }
  })

  it('rejects wrong prefix, length and alphabet', () => {
    const k = newAccessKey()
    expect(isWellFormedAccessKey('kdid_' + k.slice(5))).toBe(false)
    expect(isWellFormedAccessKey(k.slice(0, -1))).toBe(false)
    expect(isWellFormedAccessKey(k + 'A')).toBe(false)
    expect(isWellFormedAccessKey(k.slice(0, 10) + '_' + k.slice(11))).toBe(false)
    expect(isWellFormedAccessKey(k.toUpperCase())).toBe(false)
    expect(isWellFormedAccessKey('')).toBe(false)
    expect(isWellFormedAccessKey(' ' + k)).toBe(false)
  })

  it('hint is the prefix plus the first 4 characters, and nothing more', () => {
    const k = newAccessKey()
    expect(keyHint(k)).toBe(k.slice(0, 9))
    expect(keyHint(k)).toHaveLength(9)
  })
})

describe('access ID format', () => {
  it('is kdid_ + 16 base62', () => {
    expect(ACCESS_ID_PREFIX).toBe('kdid_')
    expect(ACCESS_ID_LENGTH).toBe(21)
    const ids = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const id = newAccessId()
      ids.add(id)
      expect(id).toMatch(/^kdid_[0-9A-Za-z]{16}$/)
      expect(isAccessId(id)).toBe(true)
    }
    expect(ids.size).toBe(200)
  })

  it('isAccessId rejects keys and near misses', () => {
    const id = newAccessId()
    expect(isAccessId(newAccessKey())).toBe(false)
    expect(isAccessId(id.slice(0, -1))).toBe(false)
    expect(isAccessId(id + 'x')).toBe(false)
    expect(isAccessId('kdsk_' + id.slice(5))).toBe(false)
    expect(isAccessId(id.slice(0, 8) + '-' + id.slice(9))).toBe(false)
  })
})

describe('randomBase62 (rejection sampling)', () => {
  it('returns exactly n base62 characters', () => {
    for (const n of [0, 1, 7, 16, 32, 100, 1000]) {
      const s = randomBase62(n)
      expect(s).toHaveLength(n)
      if (n) expect(s).toMatch(BASE62)
    }
  })

  it('is uniform: no modulo bias towards the first 8 symbols (256 mod 62 = 8)', () => {
    // With plain `byte % 62`, symbols 0–7 would come up 5/256 of the time and the
    // rest 4/256: a 25 % excess. Rejection sampling makes every symbol 1/62.
    const N = 310_000
    const s = randomBase62(N)
    const counts = new Map<string, number>()
    for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1)
    expect(counts.size).toBe(62)
    const expected = N / 62
    const low = ALPHABET.slice(0, 8).split('').reduce((a, ch) => a + counts.get(ch)!, 0) / 8
    const high = ALPHABET.slice(8).split('').reduce((a, ch) => a + counts.get(ch)!, 0) / 54
    expect(low / high).toBeGreaterThan(0.95)
    expect(low / high).toBeLessThan(1.05)
    // Loose chi-square: 61 degrees of freedom, p < 1e-6 is far above 150.
    let chi = 0
    for (const c of counts.values()) chi += (c - expected) ** 2 / expected
    expect(chi).toBeLessThan(150)
  })
})
