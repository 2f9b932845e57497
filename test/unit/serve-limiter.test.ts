import { describe, expect, it } from 'vitest'
import { BlockList } from 'node:net'
import { clientAddress, clientKey, FailureLimiter, ipv6Groups, plainAddress } from '../../src/serve/limiter'
import { DEFAULT_LIMITER } from '../../src/serve/defaults'

function limiter(opts: { burst?: number; perMinute?: number; maxClients?: number } = {}) {
  const clock = { t: 1_000_000 }
  const l = new FailureLimiter({ burst: opts.burst ?? 3, perMinute: opts.perMinute ?? 60, maxClients: opts.maxClients ?? 100, now: () => clock.t })
  return { l, clock }
}

describe('FailureLimiter: options', () => {
  it('refuses bad options, naming the option', () => {
    expect(() => new FailureLimiter({ burst: -1, perMinute: 1, maxClients: 1 })).toThrow(/^burst must be a whole number ≥ 0$/)
    expect(() => new FailureLimiter({ burst: 1.5, perMinute: 1, maxClients: 1 })).toThrow(/^burst/)
    expect(() => new FailureLimiter({ burst: 1, perMinute: 0, maxClients: 1 })).toThrow(/^perMinute must be > 0$/)
    expect(() => new FailureLimiter({ burst: 1, perMinute: Number.NaN, maxClients: 1 })).toThrow(/^perMinute/)
    expect(() => new FailureLimiter({ burst: 1, perMinute: 1, maxClients: 0 })).toThrow(/^maxClients must be a whole number ≥ 1$/)
    expect(() => new FailureLimiter({ burst: 1, perMinute: 1, maxClients: 2.5 })).toThrow(/^maxClients/)
    expect(() => new FailureLimiter({ burst: 0, perMinute: 0.5, maxClients: 1 })).not.toThrow()
    expect(DEFAULT_LIMITER).toEqual({ burst: 20, perMinute: 20, maxClients: 10_000 })
  })

  it('burst 0 turns limiting off and keeps no state', () => {
    const { l } = limiter({ burst: 0 })
    expect(l.enabled).toBe(false)
    for (let i = 0; i < 50; i++) l.fail('10.0.0.1', 'kdid_x')
    expect(l.check('10.0.0.1', 'kdid_x')).toEqual({ limited: false })
    expect(l.size).toBe(0)
    expect(limiter({ burst: 1 }).l.enabled).toBe(true)
  })

  it('uses a real monotonic clock when none is given', () => {
    const l = new FailureLimiter({ burst: 1, perMinute: 1, maxClients: 10 })
    expect(l.check('10.0.0.1')).toEqual({ limited: false })
    l.fail('10.0.0.1')
    expect(l.check('10.0.0.1')).toEqual({ limited: true, retryAfterSeconds: 60 })
  })
})

describe('FailureLimiter: one client', () => {
  it('allows burst failures, then limits; a token comes back after 60 000 / perMinute ms, exactly', () => {
    const { l, clock } = limiter({ burst: 2, perMinute: 60 })
    expect(l.check('10.0.0.1')).toEqual({ limited: false })
    l.fail('10.0.0.1')
    expect(l.check('10.0.0.1')).toEqual({ limited: false })
    l.fail('10.0.0.1')
    expect(l.check('10.0.0.1')).toEqual({ limited: true, retryAfterSeconds: 1 })
    clock.t += 999
    expect(l.check('10.0.0.1').limited).toBe(true)
    clock.t += 1
    expect(l.check('10.0.0.1')).toEqual({ limited: false })
  })

  it('Retry-After is the whole seconds until one token is back', () => {
    const { l, clock } = limiter({ burst: 1, perMinute: 6 })
    l.fail('10.0.0.1')
    expect(l.check('10.0.0.1')).toEqual({ limited: true, retryAfterSeconds: 10 })
    clock.t += 4_500
    expect(l.check('10.0.0.1')).toEqual({ limited: true, retryAfterSeconds: 6 })
    clock.t += 5_000
    expect(l.check('10.0.0.1')).toEqual({ limited: true, retryAfterSeconds: 1 })
    const slow = limiter({ burst: 1, perMinute: 1 })
    slow.l.fail('10.0.0.1')
    expect(slow.l.check('10.0.0.1')).toEqual({ limited: true, retryAfterSeconds: 60 })
  })

  it('failing while limited does not dig deeper than empty', () => {
    const { l, clock } = limiter({ burst: 2, perMinute: 60 })
    for (let i = 0; i < 10; i++) l.fail('10.0.0.1')
    clock.t += 1000
    expect(l.check('10.0.0.1')).toEqual({ limited: false })
  })

  it('tokens come back at the rate, capped at burst; a refilled bucket is dropped', () => {
    const { l, clock } = limiter({ burst: 3, perMinute: 60 })
    l.fail('10.0.0.1')
    l.fail('10.0.0.1')
    l.fail('10.0.0.1')
    expect(l.size).toBe(1)
    clock.t += 2_000 // two tokens back
    l.fail('10.0.0.1')
    l.fail('10.0.0.1')
    expect(l.check('10.0.0.1').limited).toBe(true)
    clock.t += 2_999
    l.check('10.0.0.1')
    expect(l.size).toBe(1)
    clock.t += 1 // exactly full again
    expect(l.check('10.0.0.1')).toEqual({ limited: false })
    expect(l.size).toBe(0)
    // Long idle time does not bank more than burst.
    clock.t += 3_600_000
    l.fail('10.0.0.1')
    l.fail('10.0.0.1')
    l.fail('10.0.0.1')
    expect(l.check('10.0.0.1').limited).toBe(true)
  })

  it('other clients are unaffected by one client\'s failures', () => {
    const { l } = limiter({ burst: 1 })
    l.fail('10.0.0.1')
    expect(l.check('10.0.0.1').limited).toBe(true)
    expect(l.check('10.0.0.2')).toEqual({ limited: false })
  })
})

describe('FailureLimiter: per access ID', () => {
  it('one access ID guessed at from many addresses is limited, for every address', () => {
    const { l } = limiter({ burst: 3 })
    l.fail('10.0.0.1', 'kdid_target')
    l.fail('10.0.0.2', 'kdid_target')
    expect(l.check('10.0.0.9', 'kdid_target')).toEqual({ limited: false })
    l.fail('10.0.0.3', 'kdid_target')
    expect(l.check('10.0.0.9', 'kdid_target')).toEqual({ limited: true, retryAfterSeconds: 1 })
    // The addresses themselves, and other IDs, still have tokens.
    expect(l.check('10.0.0.9')).toEqual({ limited: false })
    expect(l.check('10.0.0.1', 'kdid_other')).toEqual({ limited: false })
    expect(l.size).toBe(4)
  })

  it('a client out of tokens is limited whatever access ID it presents', () => {
    const { l } = limiter({ burst: 2 })
    l.fail('10.0.0.1', 'kdid_a')
    l.fail('10.0.0.1', 'kdid_b')
    expect(l.check('10.0.0.1', 'kdid_c').limited).toBe(true)
    expect(l.check('10.0.0.1').limited).toBe(true)
    expect(l.check('10.0.0.2', 'kdid_a')).toEqual({ limited: false })
  })

  it('Retry-After follows the emptier of the two buckets', () => {
    const { l, clock } = limiter({ burst: 1, perMinute: 6 })
    l.fail('10.0.0.1', 'kdid_a')
    clock.t += 5_000
    l.fail('10.0.0.2', 'kdid_b')
    expect(l.check('10.0.0.2', 'kdid_a')).toEqual({ limited: true, retryAfterSeconds: 10 })
    expect(l.check('10.0.0.1', 'kdid_b')).toEqual({ limited: true, retryAfterSeconds: 10 })
    expect(l.check('10.0.0.1', 'kdid_c')).toEqual({ limited: true, retryAfterSeconds: 5 })
  })
})

describe('FailureLimiter: bounded memory keeps the most active offenders', () => {
  it('holds at most maxClients buckets; on overflow drops to 90 %, the fullest buckets first', () => {
    const { l } = limiter({ burst: 5, perMinute: 1, maxClients: 3 })
    for (let i = 0; i < 5; i++) l.fail('10.9.9.9') // the hard offender: empty
    l.fail('10.0.0.1')
    l.fail('10.0.0.2')
    expect(l.size).toBe(3)
    l.fail('10.0.0.3') // overflow: down to floor(3 * 0.9) = 2
    expect(l.size).toBe(2)
    expect(l.check('10.9.9.9').limited).toBe(true)
  })

  it('LRU churn does not free an attacker: thousands of fresh one-failure clients evict each other, not it', () => {
    const { l, clock } = limiter({ burst: 20, perMinute: 20, maxClients: 100 })
    for (let i = 0; i < 20; i++) l.fail('203.0.113.7')
    for (let i = 0; i < 5000; i++) {
      clock.t += 0.1
      l.fail(`198.51.${(i >> 8) & 255}.${i & 255}`)
    }
    expect(l.size).toBeLessThanOrEqual(100)
    expect(l.check('203.0.113.7').limited).toBe(true)
  })

  it('among equal failures, the one that has had longer to refill goes first', () => {
    const { l, clock } = limiter({ burst: 5, perMinute: 1, maxClients: 2 })
    l.fail('10.0.0.1') // older: will have more tokens by now
    clock.t += 30_000
    l.fail('10.0.0.2')
    l.fail('10.0.0.3') // overflow → keep 1
    expect(l.size).toBe(1)
    // 10.0.0.1 (4.5 tokens) and one of the newer ones (4 tokens) would be next; the kept one is newer.
    l.fail('10.0.0.1')
    l.fail('10.0.0.1')
    l.fail('10.0.0.1')
    l.fail('10.0.0.1')
    expect(l.check('10.0.0.1').limited).toBe(false) // evicted: started again from a full bucket (5 → 1)
    l.fail('10.0.0.1')
    expect(l.check('10.0.0.1').limited).toBe(true)
  })

  it('access-ID buckets are bounded the same way', () => {
    const { l } = limiter({ burst: 3, maxClients: 10 })
    for (let i = 0; i < 3; i++) l.fail('10.0.0.1', 'kdid_hot')
    for (let i = 0; i < 200; i++) l.fail('10.0.0.2', `kdid_${i}`)
    expect(l.size).toBeLessThanOrEqual(20)
    expect(l.check('10.0.0.3', 'kdid_hot').limited).toBe(true)
  })
})

describe('clientKey: the bucket an address falls in', () => {
  it('IPv4 as is; 127.0.1.x is an address like any other', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7')
    expect(clientKey('127.0.1.5')).toBe('127.0.1.5')
    expect(clientKey('127.0.1.5')).not.toBe(clientKey('127.0.0.1'))
  })

  it('IPv6 by /64 in every notation', () => {
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(clientKey('2001:db8:0:0:1::2')).toBe('2001:db8:0:0::/64')
    expect(clientKey('2001:0DB8:0000:0000:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:0::/64')
    expect(clientKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64')
    expect(clientKey('2001:db8:1:3::')).toBe('2001:db8:1:3::/64')
    expect(clientKey('::2')).toBe('0:0:0:0::/64')
    expect(clientKey('::')).toBe(clientKey('::1'))
    expect(clientKey('1::')).toBe('1:0:0:0::/64')
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
    expect(clientKey('2001:db8::1.2.3.4')).toBe('2001:db8:0:0::/64')
    expect(clientKey('2001:db8:1:2::5')).not.toBe(clientKey('2001:db8:1:3::5'))
  })

  it('v4-mapped IPv6 is the IPv4 address, in either notation; near misses are not', () => {
    expect(clientKey('::ffff:1.2.3.4')).toBe('1.2.3.4')
    expect(clientKey('::FFFF:10.200.30.4')).toBe('10.200.30.4')
    expect(clientKey('::ffff:102:304')).toBe('1.2.3.4')
    expect(clientKey('0:0:0:0:0:ffff:c0a8:fe01')).toBe('192.168.254.1')
    expect(clientKey('::fffe:1.2.3.4')).toBe('0:0:0:0::/64')
    expect(clientKey('::1:ffff:1.2.3.4')).toBe('0:0:0:0::/64')
    expect(clientKey('0:0:0:1:0:ffff:102:304')).toBe('0:0:0:1::/64')
    expect(clientKey('0:0:1::ffff:102:304')).toBe('0:0:1:0::/64')
    expect(clientKey('0:1::ffff:102:304')).toBe('0:1:0:0::/64')
    expect(clientKey('1::ffff:102:304')).toBe('1:0:0:0::/64')
  })

  it('anything else is its own bucket', () => {
    expect(clientKey('unknown')).toBe('unknown')
    expect(clientKey('')).toBe('')
  })

  it('ipv6Groups expands every form to eight groups', () => {
    expect(ipv6Groups('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0])
    expect(ipv6Groups('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(ipv6Groups('1::8')).toEqual([1, 0, 0, 0, 0, 0, 0, 8])
    expect(ipv6Groups('ab:CD::')).toEqual([0xab, 0xcd, 0, 0, 0, 0, 0, 0])
    expect(ipv6Groups('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304])
    expect(ipv6Groups('1:2:3:4:5:6:255.254.253.252')).toEqual([1, 2, 3, 4, 5, 6, 0xfffe, 0xfdfc])
    expect(ipv6Groups('fe80::a%wlan0')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 0xa])
  })

  it('plainAddress writes v4-mapped as IPv4 and leaves everything else', () => {
    expect(plainAddress('::ffff:127.0.0.1')).toBe('127.0.0.1')
    expect(plainAddress('127.0.0.1')).toBe('127.0.0.1')
    expect(plainAddress('2001:db8::1')).toBe('2001:db8::1')
    expect(plainAddress('unknown')).toBe('unknown')
  })
})

describe('clientAddress: whose address a request counts under', () => {
  const proxies = new BlockList()
  proxies.addAddress('127.0.0.1', 'ipv4')
  proxies.addSubnet('fd00::', 8, 'ipv6')

  it('the peer, unless the peer is a trusted proxy that sent the header', () => {
    expect(clientAddress('10.0.0.5', ['203.0.113.7'], proxies)).toBe('10.0.0.5')
    expect(clientAddress('127.0.0.1', ['203.0.113.7'], undefined)).toBe('127.0.0.1')
    expect(clientAddress('127.0.0.1', undefined, proxies)).toBe('127.0.0.1')
    expect(clientAddress('127.0.0.1', [], proxies)).toBe('127.0.0.1')
    expect(clientAddress('127.0.0.1', ['203.0.113.7'], proxies)).toBe('203.0.113.7')
  })

  it('loopback is not trusted implicitly (127.0.0.2 is not 127.0.0.1, ::1 is not listed)', () => {
    expect(clientAddress('127.0.0.2', ['203.0.113.7'], proxies)).toBe('127.0.0.2')
    expect(clientAddress('::1', ['203.0.113.7'], proxies)).toBe('::1')
  })

  it('v4-mapped peers and headers are read as IPv4; IPv6 proxies work', () => {
    expect(clientAddress('::ffff:127.0.0.1', ['203.0.113.7'], proxies)).toBe('203.0.113.7')
    expect(clientAddress('::ffff:10.0.0.5', ['203.0.113.7'], proxies)).toBe('10.0.0.5')
    expect(clientAddress('127.0.0.1', ['::ffff:198.51.100.1'], proxies)).toBe('198.51.100.1')
    expect(clientAddress('fd12::1', ['2001:db8::9'], proxies)).toBe('2001:db8::9')
  })

  it('X-Forwarded-For: the last entry of the last header line, trimmed', () => {
    expect(clientAddress('127.0.0.1', ['198.51.100.1, 198.51.100.2 ,  203.0.113.9 '], proxies)).toBe('203.0.113.9')
    expect(clientAddress('127.0.0.1', ['198.51.100.1', '203.0.113.10'], proxies)).toBe('203.0.113.10')
  })

  it('a header that is not an IP address counts under the peer; no peer is "unknown"', () => {
    expect(clientAddress('127.0.0.1', ['not-an-ip'], proxies)).toBe('127.0.0.1')
    expect(clientAddress('127.0.0.1', ['203.0.113.7, '], proxies)).toBe('127.0.0.1')
    expect(clientAddress(undefined, ['203.0.113.7'], proxies)).toBe('unknown')
    expect(clientAddress('/run/x.sock', ['203.0.113.7'], proxies)).toBe('/run/x.sock')
  })
})
