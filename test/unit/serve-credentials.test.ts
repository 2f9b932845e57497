import { describe, expect, it } from 'vitest'
import { headerSafe, presentedCredential, requiredScopes, wantedHeaders } from '../../src/serve/credentials'

const b64 = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64')
const KEY = 'kdsk_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_x'
const KEY2 = 'kdsk_ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210-_y'
const ID = 'kdid_0123456789abcdEF'
const auth = (v: string) => presentedCredential({ authorization: [v] })
const basic = (s: string) => auth(`Basic ${b64(s)}`)

describe('wantedHeaders: the headers serve reads, from rawHeaders', () => {
  it('keeps Authorization, X-Api-Key, X-Required-Scope and the extra one, any case, duplicates apart, in order', () => {
    const raw = [
      'Host', 'x', 'AUTHORIZATION', 'Bearer a', 'x-api-key', 'k1', 'X-Api-Key', 'k2', 'Cache-Control', 'no', 'X-Required-Scope', 'read',
      'Content-Location', '/x', 'X-Real-IP', '10.0.0.1', 'x-api-kez', 'no',
    ]
    expect(wantedHeaders(raw, 'x-real-ip')).toEqual({
      authorization: ['Bearer a'],
      'x-api-key': ['k1', 'k2'],
      'x-required-scope': ['read'],
      'x-real-ip': ['10.0.0.1'],
    })
    expect(wantedHeaders(raw)).toEqual({ authorization: ['Bearer a'], 'x-api-key': ['k1', 'k2'], 'x-required-scope': ['read'] })
    expect(wantedHeaders([])).toEqual({})
  })
})

describe('presentedCredential: the five accepted forms', () => {
  it('Basic accessId:accessKey', () => {
    expect(basic(`${ID}:${KEY}`)).toEqual({ kind: 'key', accessKey: KEY, accessId: ID, via: 'basic' })
  })
  it('Basic _api_key:accessKey', () => {
    expect(basic(`_api_key:${KEY}`)).toEqual({ kind: 'key', accessKey: KEY, via: 'basic' })
  })
  it('Basic accessKey: (key as user name)', () => {
    expect(basic(`${KEY}:`)).toEqual({ kind: 'key', accessKey: KEY, via: 'basic' })
  })
  it('Bearer, any case of the scheme, extra spaces around', () => {
    expect(auth(`Bearer ${KEY}`)).toEqual({ kind: 'key', accessKey: KEY, via: 'bearer' })
    expect(auth(`  bEaReR    ${KEY}  `)).toEqual({ kind: 'key', accessKey: KEY, via: 'bearer' })
    expect(auth('Bearer abc-._~+/==')).toEqual({ kind: 'key', accessKey: 'abc-._~+/==', via: 'bearer' })
  })
  it('X-Api-Key, trimmed', () => {
    expect(presentedCredential({ 'x-api-key': [` ${KEY} `] })).toEqual({ kind: 'key', accessKey: KEY, via: 'x-api-key' })
  })
  it('Basic also in upper-case scheme, unpadded base64', () => {
    const unpadded = b64(`_api_key:${KEY}`).replace(/=+$/, '')
    expect(auth(`BASIC ${unpadded}`)).toEqual({ kind: 'key', accessKey: KEY, via: 'basic' })
  })
})

describe('presentedCredential: missing', () => {
  it('no header, or only empty ones', () => {
    expect(presentedCredential({})).toEqual({ kind: 'missing' })
    expect(presentedCredential({ authorization: [''], 'x-api-key': ['   '] })).toEqual({ kind: 'missing' })
    expect(presentedCredential({ authorization: ['   '] })).toEqual({ kind: 'missing' })
    expect(presentedCredential({ authorization: [], 'x-api-key': [] })).toEqual({ kind: 'missing' })
  })
  it('an empty header beside a real one does not count as a second one', () => {
    expect(presentedCredential({ authorization: ['', `Bearer ${KEY}`] })).toEqual({ kind: 'key', accessKey: KEY, via: 'bearer' })
    expect(presentedCredential({ 'x-api-key': [KEY, ' '] })).toEqual({ kind: 'key', accessKey: KEY, via: 'x-api-key' })
  })
})

describe('presentedCredential: malformed (and never the key back)', () => {
  it.each([
    ['unknown scheme', 'Digest username="x"'],
    ['scheme alone', 'Bearer'],
    ['Bearer with two tokens', 'Bearer abc def'],
    ['Bearer with a bad character', 'Bearer kdsk_x!'],
    ['Bearer starting with a bad character', 'Bearer !kdsk_x'],
    ['Bearer with = inside', 'Bearer abc=def'],
    ['Bearer that is only padding', 'Bearer ==='],
    ['Basic with bad base64', 'Basic @@@'],
    ['Basic with = inside', 'Basic ab=c'],
    ['Basic with three = ', `Basic ${b64('a:b')}===`],
    ['Basic with base64 of length 4n+1', 'Basic abcde'],
    ['Basic alone', 'Basic'],
    ['Basic with a bad character after good ones', `Basic ${b64('_api_key:x')}!`],
    ['Basic with a bad character first', `Basic !${b64('_api_key:x')}`],
    ['Basic with two bad characters after good ones', `Basic ${b64('_api_key:abc')}!!`],
    ['Basic with two bad characters first', `Basic !!${b64('_api_key:abc')}`],
    ['Basic with one character too many (4n+1)', `Basic ${b64('_api_key:abc')}A`],
    ['no space after the scheme', 'Bearerkdsk_x'],
    ['no space, and the scheme would be read as "bearer"', 'Bearerx'],
    ['an unknown scheme with base64 that would decode', `Token ${b64('_api_key:abc')}`],
    ['Basic _api_key with no colon', `Basic ${b64('_api_keyZ')}`],
    ['Basic without a colon', `Basic ${b64(KEY)}`],
    ['Basic with a non-ID user and a password', `Basic ${b64('someone:password')}`],
    ['Basic with an empty user and password', `Basic ${b64(':')}`],
    ['Basic with an empty user', `Basic ${b64(`:${KEY}`)}`],
    ['Basic _api_key with an empty key', `Basic ${b64('_api_key:')}`],
    ['Basic that is not UTF-8', `Basic ${b64(Buffer.from([0x5f, 0xff, 0x3a, 0x61]))}`],
    ['Basic with a control character', `Basic ${b64('_api_key:a\u0001b')}`],
    ['Basic with NUL', `Basic ${b64('_api_key:\u0000')}`],
    ['Basic with DEL', `Basic ${b64('_api_key:a\u007f')}`],
    ['Basic with a C1 control', `Basic ${b64('_api_key:a\u009f')}`],
    ['Basic with a US control', `Basic ${b64('_api_key:a\u001f')}`],
    ['a huge value', 'Bearer ' + 'A'.repeat(506)],
  ])('%s', (_n, value) => {
    expect(auth(value)).toStrictEqual({ kind: 'malformed' })
  })

  it('513 characters is too long; 512 is not', () => {
    expect(auth('Bearer ' + 'A'.repeat(505))).toEqual({ kind: 'key', accessKey: 'A'.repeat(505), via: 'bearer' })
    expect(auth('Bearer ' + 'A'.repeat(506))).toEqual({ kind: 'malformed' })
    expect(presentedCredential({ 'x-api-key': ['A'.repeat(512)] })).toEqual({ kind: 'key', accessKey: 'A'.repeat(512), via: 'x-api-key' })
    expect(presentedCredential({ 'x-api-key': ['A'.repeat(513)] })).toEqual({ kind: 'malformed' })
  })

  it('C1-range characters above U+009F are not controls', () => {
    expect(basic('_api_key:a\u00a0')).toEqual({ kind: 'key', accessKey: 'a\u00a0', via: 'basic' })
    expect(basic('_api_key:a\u0020b')).toEqual({ kind: 'key', accessKey: 'a b', via: 'basic' })
  })

  it('an X-Api-Key that is no token', () => {
    expect(presentedCredential({ 'x-api-key': ['kdsk_a b'] })).toEqual({ kind: 'malformed' })
    expect(presentedCredential({ 'x-api-key': ['kdsk_a!'] })).toEqual({ kind: 'malformed' })
  })

  it('two Authorization or two X-Api-Key headers, even if both are good', () => {
    expect(presentedCredential({ authorization: [`Bearer ${KEY}`, `Bearer ${KEY}`] })).toEqual({ kind: 'malformed' })
    expect(presentedCredential({ 'x-api-key': [KEY, KEY] })).toEqual({ kind: 'malformed' })
  })

  it('Authorization and X-Api-Key must name the same key', () => {
    expect(presentedCredential({ authorization: [`Bearer ${KEY}`], 'x-api-key': [KEY] })).toEqual({ kind: 'key', accessKey: KEY, via: 'bearer' })
    expect(presentedCredential({ authorization: [`Basic ${b64(`${ID}:${KEY}`)}`], 'x-api-key': [KEY] })).toEqual({ kind: 'key', accessKey: KEY, accessId: ID, via: 'basic' })
    // Two different, each valid on its own: not "either one".
    expect(presentedCredential({ authorization: [`Bearer ${KEY}`], 'x-api-key': [KEY2] })).toStrictEqual({ kind: 'malformed' })
    expect(presentedCredential({ authorization: [`Basic ${b64(`${ID}:${KEY}`)}`], 'x-api-key': [KEY2] })).toEqual({ kind: 'malformed', accessId: ID })
    // One of them malformed.
    expect(presentedCredential({ authorization: ['Digest x'], 'x-api-key': [KEY] })).toStrictEqual({ kind: 'malformed' })
    expect(presentedCredential({ authorization: [`Bearer ${KEY}`], 'x-api-key': ['kdsk_a b'] })).toStrictEqual({ kind: 'malformed' })
  })
})

describe('requiredScopes', () => {
  const q = (s: string) => new URLSearchParams(s)
  it('none', () => {
    expect(requiredScopes(null, {})).toEqual({ ok: true, scopes: [] })
    expect(requiredScopes(q('other=1'), {})).toEqual({ ok: true, scopes: [] })
  })
  it('every ?scope and every X-Required-Scope (array or string), lists split on spaces and commas, deduplicated', () => {
    expect(requiredScopes(q('scope=a&scope=b c'), { 'x-required-scope': ['d,e', ' f , ,g  '] })).toEqual({ ok: true, scopes: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] })
    expect(requiredScopes(null, { 'x-required-scope': 'billing:read' })).toEqual({ ok: true, scopes: ['billing:read'] })
    expect(requiredScopes(q('scope=a'), { 'x-required-scope': 'a' })).toEqual({ ok: true, scopes: ['a'] })
    expect(requiredScopes(null, { 'x-required-scope': '\ta\nb' })).toEqual({ ok: true, scopes: ['a', 'b'] })
  })
  it('an invalid scope: one message, no echo', () => {
    const r = requiredScopes(q('scope=%3Cscript%3E'), {})
    expect(r).toEqual({
      ok: false,
      message: 'A required scope is not valid: use letters, digits and _ . : * / - (at most 64 characters, starting with a letter or digit).',
    })
    expect(requiredScopes(null, { 'x-required-scope': 'ok -bad' }).ok).toBe(false)
  })
  it('at most 64 scopes', () => {
    const many = Array.from({ length: 64 }, (_, i) => `s${i}`)
    expect(requiredScopes(null, { 'x-required-scope': many.join(' ') })).toEqual({ ok: true, scopes: many })
    expect(requiredScopes(null, { 'x-required-scope': [...many, 'one-more'].join(' ') })).toEqual({ ok: false, message: 'Too many required scopes: at most 64.' })
  })
})

describe('headerSafe', () => {
  it('printable ASCII but % stays; everything else is percent-encoded UTF-8, upper-case hex, two digits', () => {
    expect(headerSafe(' !"#$&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~')).toBe(' !"#$&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~')
    expect(headerSafe('100%')).toBe('100%25')
    expect(headerSafe('Jürgen 田中')).toBe('J%C3%BCrgen %E7%94%B0%E4%B8%AD')
    expect(headerSafe('a\u0001\u001f\u007fb')).toBe('a%01%1F%7Fb')
    expect(headerSafe('\n')).toBe('%0A')
    expect(decodeURIComponent(headerSafe('x%y ü'))).toBe('x%y ü')
  })
})
