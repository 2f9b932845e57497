/**
 * Keyed hashing for the store. The pepper turns an access key into its stored
 * HMAC; the MAC key signs every row's security fields and the audit chain.
 * Both come from the keychain entry and live only in this object's memory.
 */
import { createHash, createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto'
import { KeydeskError } from './errors'

export const HASH_ALG = 'hmac-sha256-v1'

export interface KeyMaterial {
  pepper: Buffer
  macKey: Buffer
}

export function newKeyMaterial(): KeyMaterial {
  return { pepper: randomBytes(32), macKey: randomBytes(32) }
}

export function encodeKeyMaterial(m: KeyMaterial): string {
  return JSON.stringify({ v: 1, pepper: m.pepper.toString('base64'), mac: m.macKey.toString('base64') })
}

export function decodeKeyMaterial(s: string): KeyMaterial {
  try {
    const o = JSON.parse(s) as { v?: unknown; pepper?: unknown; mac?: unknown }
    if (o.v === 1 && typeof o.pepper === 'string' && typeof o.mac === 'string') {
      const pepper = Buffer.from(o.pepper, 'base64')
      const macKey = Buffer.from(o.mac, 'base64')
      if (pepper.length === 32 && macKey.length === 32) return { pepper, macKey }
    }
  } catch {
    // fall through: never echo the entry's content
  }
  throw new KeydeskError('keychain_unavailable', 'The keychain entry for this store is not in a format KeyDesk understands; it was not changed.')
}

export class StoreCrypto {
  private readonly pepper: KeyObject
  private readonly macKey: KeyObject
  constructor(m: KeyMaterial) {
    this.pepper = createSecretKey(m.pepper)
    this.macKey = createSecretKey(m.macKey)
  }

  /** Stored form of an access key. */
  hashKey(accessKey: string): Buffer {
    return createHmac('sha256', this.pepper).update(accessKey).digest()
  }

  mac(data: string | Buffer): Buffer {
    return createHmac('sha256', this.macKey).update(data).digest()
  }

  macOk(data: string | Buffer, mac: Buffer | null | undefined): boolean {
    if (!mac || mac.length !== 32) return false
    return timingSafeEqual(this.mac(data), mac)
  }

  /** Identifies the keychain entry without revealing it; stored in the database. */
  fingerprint(storeId: string): string {
    return this.mac(`keydesk-fingerprint:${storeId}`).toString('hex')
  }
}

export const sha256 = (data: string | Buffer): Buffer => createHash('sha256').update(data).digest()
