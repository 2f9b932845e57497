/** `--listen HOST:PORT` and `--trusted-proxy` parsing, and the loopback rule. */
import { BlockList, isIP } from 'node:net'

export interface ListenAddress {
  host: string
  port: number
  loopback: boolean
}

export class ListenError extends Error {}

/**
 * HOST:PORT, [IPv6]:PORT, or :PORT (meaning 127.0.0.1). HOST must be an IP
 * address or "localhost" (taken as 127.0.0.1): a host name could resolve to
 * something other than what the admin expects, and the loopback rule must be
 * checked on the address actually bound.
 */
export function parseListen(spec: string): ListenAddress {
  const s = spec.trim()
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s) ?? /^()()(\d{1,5})$/.exec(s)
  if (!m) throw new ListenError(`--listen "${spec}" is not HOST:PORT (e.g. 127.0.0.1:8228 or [::1]:8228).`)
  let host = (m[1] ?? m[2] ?? '').trim()
  const port = Number(m[3])
  if (!Number.isInteger(port) || port > 65535) throw new ListenError(`--listen port ${m[3]} is out of range (0–65535; 0 picks a free port).`)
  if (host === '' || host.toLowerCase() === 'localhost') host = '127.0.0.1'
  if (m[1] !== undefined && isIP(host) !== 6) throw new ListenError(`--listen "${spec}": only an IPv6 address goes in brackets.`)
  if (isIP(host) === 0) throw new ListenError(`--listen host "${host}" is not an IP address; give one (e.g. 127.0.0.1 or ::1) or "localhost".`)
  return { host, port, loopback: isLoopback(host) }
}

export function isLoopback(address: string): boolean {
  const a = address.toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '')
  if (isIP(a) === 4) return a.startsWith('127.')
  if (isIP(a) === 6) return /^(0{0,4}:){1,7}0{0,4}1$|^::1$/.test(a)
  return false
}

/** The URL a client would use to reach this address. */
export function listenUrl(host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`
}

/** A set of proxy addresses (IPs or CIDR blocks) whose client-address header is believed. */
export function trustedProxies(specs: readonly string[]): BlockList {
  const list = new BlockList()
  for (const spec of specs) {
    const [addr, bits] = spec.trim().split('/') as [string, string | undefined]
    const family = isIP(addr)
    if (family === 0) throw new ListenError(`--trusted-proxy "${spec}" is not an IP address or CIDR block.`)
    const type = family === 6 ? 'ipv6' : 'ipv4'
    if (bits === undefined) list.addAddress(addr, type)
    else {
      const n = Number(bits)
      if (!/^\d{1,3}$/.test(bits) || n > (family === 6 ? 128 : 32)) throw new ListenError(`--trusted-proxy "${spec}": prefix length out of range.`)
      list.addSubnet(addr, n, type)
    }
  }
  return list
}
