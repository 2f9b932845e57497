/**
 * What each MAC covers. One function per record kind, so every writer and every
 * checker agree byte for byte. Version 2 binds each record to its row id (and a
 * key to its access ID), so a row moved to another id, or two rows swapped, no
 * longer verifies; the policy is bound to the audit entry that set it, so an older
 * policy copied back is caught.
 */
import type { Policy } from '../../shared/domain'

/** The security fields of a key row (the MAC'd part; description and last use are not). */
export interface KeyMacFields {
  id: number
  accessId: string
  ownerId: number
  ownerName: string
  ownerDisabledAt: number | null
  name: string
  /** Hashes as stored, or already as lowercase hex (the verify path reads them so). */
  hash: Buffer | string
  prevHash: Buffer | string | null
  prevValidUntil: number | null
  prev2Hash: Buffer | string | null
  prev2ValidUntil: number | null
  scopes: string
  status: 'active' | 'revoked'
  createdAt: number
  expiresAt: number
  revokedAt: number | null
  disabledAt: number | null
}

const hex = (b: Buffer | string | null): string | null => (b == null ? null : typeof b === 'string' ? b : b.toString('hex'))

export function keyMacData(r: KeyMacFields): string {
  return JSON.stringify([
    'key/2', r.id, r.accessId, r.ownerId, r.ownerName, r.ownerDisabledAt, r.name, hex(r.hash), hex(r.prevHash), r.prevValidUntil,
    hex(r.prev2Hash), r.prev2ValidUntil, r.scopes, r.status, r.createdAt, r.expiresAt, r.revokedAt, r.disabledAt,
  ])
}

/** Version 1 (stores before schema 3): no row id, no second previous secret, no key disable. Read only, to upgrade. */
export function keyMacDataV1(r: KeyMacFields): string {
  return JSON.stringify([
    'key/1', r.accessId, r.ownerId, r.ownerName, r.ownerDisabledAt, r.name, hex(r.hash), hex(r.prevHash), r.prevValidUntil, r.scopes,
    r.status, r.createdAt, r.expiresAt, r.revokedAt,
  ])
}

export interface OwnerMacFields {
  id: number
  name: string
  kind: string
  disabledAt: number | null
}

export function ownerMacData(o: OwnerMacFields): string {
  return JSON.stringify(['owner/2', o.id, o.name, o.kind, o.disabledAt])
}

export function ownerMacDataV1(o: OwnerMacFields): string {
  return JSON.stringify(['owner/1', o.name, o.kind, o.disabledAt])
}

/** The policy and the id of the audit entry that set it (0: the store's initial policy). */
export function policyMacData(p: Policy, setBy: number): string {
  return JSON.stringify([
    'policy/2', setBy, p.maxKeyAgeDays, p.maxKeysPerOwner, p.defaultExpiryDays, p.allowCreation, p.retentionDays, p.reminderDays, p.staleAfterDays,
  ])
}

export function policyMacDataV1(p: Pick<Policy, 'maxKeyAgeDays' | 'maxKeysPerOwner' | 'defaultExpiryDays' | 'allowCreation' | 'retentionDays'>): string {
  return JSON.stringify(['policy/1', p.maxKeyAgeDays, p.maxKeysPerOwner, p.defaultExpiryDays, p.allowCreation, p.retentionDays])
}

/** A retired secret: this hash stops verifying at `at`, whatever any key row says. */
export function retiredMacData(t: { hash: Buffer; accessId: string; at: number; auditId: number }): string {
  return JSON.stringify(['retired/1', t.hash.toString('hex'), t.accessId, t.at, t.auditId])
}

/** A revocation: this access ID never verifies again. */
export function revocationMacData(t: { accessId: string; at: number; auditId: number }): string {
  return JSON.stringify(['revocation/1', t.accessId, t.at, t.auditId])
}

/** The pinned audit head: last entry id and hash, and how many tombstones the store holds. */
export function auditHeadMacData(h: { id: number; hash: Buffer; retired: number; revocations: number }): string {
  return JSON.stringify(['audit-head/2', h.id, h.hash.toString('hex'), h.retired, h.revocations])
}
