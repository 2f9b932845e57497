/**
 * What every domain service shares: the storage port, the store's keys, the clock
 * and the acting admin; the one way to write (a transaction that pins the audit head
 * and then advances the anchor); and the one way to rewrite a key row's MAC (check
 * the old one first).
 */
import { KeydeskError } from '../errors'
import type { StoreCrypto } from '../crypto'
import { keyMacData, ownerMacData, type KeyMacFields } from '../macs'
import type { KeyFields, KeyRecord, OwnerRecord, StoragePort } from '../storage/port'
import type { AuditService } from './audit'
import type { VerifyService } from './verify'

export class ServiceContext {
  audit!: AuditService
  verifier!: VerifyService
  /** Called after every committed write with the new audit head (the anchor follows it). */
  onCommit: (head: { id: number; hash: Buffer }) => void = () => {}

  constructor(
    readonly storage: StoragePort,
    readonly crypto: StoreCrypto,
    readonly now: () => number,
    readonly actor: string,
  ) {}

  /** Run fn in one write transaction; the audit head is pinned inside it, the anchor advanced after it. */
  write<T>(fn: () => T): T {
    let result: T
    let head: { id: number; hash: Buffer } | undefined
    try {
      result = this.storage.transaction(() => {
        this.audit.beginTransaction()
        const r = fn()
        head = this.audit.pinHead()
        return r
      })
    } catch (e) {
      this.audit.abortTransaction()
      throw storageError(e)
    }
    if (head) this.onCommit(head)
    return result
  }

  keyMacOk(k: KeyRecord): boolean {
    return k.macVersion === 2 && this.crypto.macOk(keyMacData(macFields(k)), k.mac)
  }

  ownerMacOk(o: OwnerRecord): boolean {
    return this.crypto.macOk(ownerMacData(o), o.mac)
  }

  /**
   * Whether a key row can be believed: its MAC (bound to its id and access ID), its
   * owner row's MAC, the copies of the owner it carries, and its tombstones (a row
   * copied back from before a revoke or a reset contradicts them).
   */
  keyTampered(k: KeyRecord, now = this.now(), ownerOk?: Map<number, boolean>): boolean {
    let owner = ownerOk?.get(k.owner.id)
    if (owner === undefined) {
      owner = this.ownerMacOk(k.owner)
      ownerOk?.set(k.owner.id, owner)
    }
    return (
      !this.keyMacOk(k) ||
      !owner ||
      k.ownerName !== k.owner.name ||
      k.ownerDisabledAt !== k.owner.disabledAt ||
      (k.revocationAt !== null && k.status !== 'revoked') ||
      (k.currentRetiredAt !== null && k.currentRetiredAt <= now)
    )
  }

  /** Refuse to act on a row that cannot be believed. */
  requireAuthentic(k: KeyRecord, doing: string): void {
    if (this.keyTampered(k))
      throw new KeydeskError('tampered', `Key ${k.accessId} was edited outside KeyDesk (its MAC or tombstones do not match); refusing to ${doing}. Run keydesk check.`, 'key')
  }

  /** Rewrite a key row: the old MAC must verify, then the changes and the new MAC are written together. */
  rewriteKey(k: KeyRecord, changes: Partial<KeyFields>, doing: string): KeyRecord {
    this.requireAuthentic(k, doing)
    const next: KeyRecord = { ...k, ...changes }
    const mac = this.crypto.mac(keyMacData(macFields(next)))
    this.storage.updateKey(k.id, { ...changes, mac }, 2)
    return { ...next, mac, macVersion: 2 }
  }

  /** The MAC of a new key row. */
  newKeyMac(id: number, k: KeyFields): Buffer {
    return this.crypto.mac(keyMacData({ ...k, id }))
  }
}

export function macFields(k: Omit<KeyMacFields, never>): KeyMacFields {
  return {
    id: k.id, accessId: k.accessId, ownerId: k.ownerId, ownerName: k.ownerName, ownerDisabledAt: k.ownerDisabledAt, name: k.name, hash: k.hash,
    prevHash: k.prevHash, prevValidUntil: k.prevValidUntil, prev2Hash: k.prev2Hash, prev2ValidUntil: k.prev2ValidUntil, scopes: k.scopes,
    status: k.status, createdAt: k.createdAt, expiresAt: k.expiresAt, revokedAt: k.revokedAt, disabledAt: k.disabledAt,
  }
}

/** Engine failures become one plain sentence; domain errors pass through. */
export function storageError(e: unknown): unknown {
  if (e instanceof KeydeskError) return e
  const code = (e as { code?: string }).code ?? ''
  if (code === 'SQLITE_FULL' || code === 'ENOSPC')
    return new KeydeskError('store_unavailable', 'The key store could not be written: the disk is full. Nothing was changed; free some space and try again.')
  if (code.startsWith('SQLITE_')) return new KeydeskError('store_unavailable', `The key store could not be written (${code}); nothing was changed.`)
  return e
}
