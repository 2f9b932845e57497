/**
 * What each MAC covers is a contract with every store on disk: a silent change to one
 * of these inputs (a field dropped, a tag changed, a hash encoded differently) makes
 * every stored MAC fail, or lets two kinds of record share a MAC. The inputs are pinned
 * here byte for byte.
 */
import { describe, expect, it } from 'vitest'
import {
  auditHeadMacData,
  keyMacData,
  keyMacDataV1,
  ownerMacData,
  ownerMacDataV1,
  policyMacData,
  policyMacDataV1,
  retiredMacData,
  revocationMacData,
  type KeyMacFields,
} from '../../src/main/core/macs'

const h = (b: number) => Buffer.alloc(32, b)
const key: KeyMacFields = {
  id: 7, accessId: 'kdid_AAAAAAAAAAAAAAAA', ownerId: 3, ownerName: 'svc', ownerDisabledAt: null, name: 'k', hash: h(1), prevHash: h(2),
  prevValidUntil: 1000, prev2Hash: null, prev2ValidUntil: null, scopes: 'read write', status: 'active', createdAt: 10, expiresAt: 20,
  revokedAt: null, disabledAt: 30,
}
const hex = (b: number) => h(b).toString('hex')

describe('MAC inputs', () => {
  it('a key row (version 2): the row id, every security field, hashes as lowercase hex', () => {
    expect(keyMacData(key)).toBe(
      JSON.stringify(['key/2', 7, 'kdid_AAAAAAAAAAAAAAAA', 3, 'svc', null, 'k', hex(1), hex(2), 1000, null, null, 'read write', 'active', 10, 20, null, 30]),
    )
  })

  it('hashes given as hex text (as verify reads them) give the same bytes as Buffers', () => {
    expect(keyMacData({ ...key, hash: hex(1), prevHash: hex(2) })).toBe(keyMacData(key))
    expect(keyMacData({ ...key, prev2Hash: h(9) })).toBe(keyMacData({ ...key, prev2Hash: hex(9) }))
    expect(keyMacData({ ...key, prev2Hash: h(9) })).not.toBe(keyMacData(key))
  })

  it('version 1 rows (read only, to upgrade): no row id, no second previous secret, no key disable', () => {
    expect(keyMacDataV1(key)).toBe(JSON.stringify(['key/1', 'kdid_AAAAAAAAAAAAAAAA', 3, 'svc', null, 'k', hex(1), hex(2), 1000, 'read write', 'active', 10, 20, null]))
  })

  it('owners, policy, tombstones and the pinned head each carry their own tag', () => {
    expect(ownerMacData({ id: 3, name: 'svc', kind: 'service', disabledAt: null })).toBe('["owner/2",3,"svc","service",null]')
    expect(ownerMacDataV1({ id: 3, name: 'svc', kind: 'service', disabledAt: 5 })).toBe('["owner/1","svc","service",5]')
    const p = { maxKeyAgeDays: 90, maxKeysPerOwner: 10, defaultExpiryDays: 30, allowCreation: true, retentionDays: 365, reminderDays: [14, 7], staleAfterDays: 60 }
    expect(policyMacData(p, 12)).toBe('["policy/2",12,90,10,30,true,365,[14,7],60]')
    expect(policyMacDataV1(p)).toBe('["policy/1",90,10,30,true,365]')
    expect(retiredMacData({ hash: h(4), accessId: 'kdid_B', at: 50, auditId: 6 })).toBe(JSON.stringify(['retired/1', hex(4), 'kdid_B', 50, 6]))
    expect(revocationMacData({ accessId: 'kdid_B', at: 50, auditId: 6 })).toBe('["revocation/1","kdid_B",50,6]')
    expect(auditHeadMacData({ id: 9, hash: h(5), retired: 2, revocations: 3 })).toBe(JSON.stringify(['audit-head/2', 9, hex(5), 2, 3]))
  })
})
