/**
 * Integrity: the keychain anchor that refuses an older copy of the store, the
 * upgrade of version-1 MACs (checked before they are replaced), and the full check
 * (`keydesk check`): every page, every row MAC, the scope index, every tombstone,
 * the audit chain and its pinned head, and the anchor.
 */
import { KeydeskError } from '../errors'
import { sha256 } from '../crypto'
import { keyMacDataV1, ownerMacData, ownerMacDataV1, policyMacDataV1, retiredMacData, revocationMacData } from '../macs'
import type { KeychainPort } from '../keychain'
import { DEFAULT_POLICY, type Policy, type StoreCheck } from '../types'
import { macFields, type ServiceContext } from './context'
import { ZERO_HASH, type AuditService, type PinnedHead } from './audit'
import type { PolicyService } from './policy'

export interface Anchor {
  id: number
  hash: Buffer
}

export const anchorAccount = (storeId: string): string => `${storeId}:anchor`

export function encodeAnchor(a: Anchor): string {
  return JSON.stringify({ v: 1, id: a.id, hash: a.hash.toString('hex') })
}

export function decodeAnchor(s: string): Anchor {
  try {
    const o = JSON.parse(s) as { v?: unknown; id?: unknown; hash?: unknown }
    if (o.v === 1 && typeof o.id === 'number' && Number.isInteger(o.id) && o.id >= 0 && typeof o.hash === 'string' && /^[0-9a-f]{64}$/.test(o.hash))
      return { id: o.id, hash: Buffer.from(o.hash, 'hex') }
  } catch {
    // fall through
  }
  throw new KeydeskError('keychain_unavailable', "The keychain's record of this store's last known state is unreadable; it was not changed.")
}

/** Identifies the keychain entry (pepper and MAC key both) without revealing it. */
export function fingerprintV2(ctx: Pick<ServiceContext, 'crypto'>, storeId: string): string {
  const label = `keydesk-fingerprint/2:${storeId}`
  return sha256(Buffer.concat([ctx.crypto.mac(label), ctx.crypto.hashKey(label)])).toString('hex')
}

export const ROLLBACK_MESSAGE =
  'this store is older than its last known state — was a backup restored? use `keydesk restore`'

/**
 * Follows the audit head into the keychain after every committed write. A write's
 * anchor update is asynchronous (the keychain is); `settled()` waits for the last.
 */
export class AnchorKeeper {
  private chain: Promise<void> = Promise.resolve()
  private failure: unknown

  constructor(
    private readonly keychain: KeychainPort,
    private readonly storeId: string,
  ) {}

  advance(head: Anchor): void {
    this.chain = this.chain.then(
      () => this.keychain.set(anchorAccount(this.storeId), encodeAnchor(head)),
    ).catch((e) => {
      this.failure = e
    })
  }

  async settled(): Promise<void> {
    await this.chain
    if (this.failure) {
      const e = this.failure
      this.failure = undefined
      throw e instanceof KeydeskError ? e : new KeydeskError('keychain_unavailable', 'The OS keychain did not record the store\'s new state; the change is saved, and the next start re-anchors it.')
    }
  }

  /**
   * At open: the store must not be older than the anchor. A store ahead of it (a
   * crash between commit and anchor update) is accepted if its log contains the
   * anchored entry unchanged, and re-anchored.
   */
  async check(ctx: ServiceContext, readHead: () => PinnedHead): Promise<void> {
    // The anchor first, then the store: an anchor is only ever written after its commit,
    // so a store read after it can be ahead of it (another process just wrote) but never
    // behind it unless it was rolled back.
    const raw = await this.keychain.get(anchorAccount(this.storeId))
    const head = readHead()
    if (raw === null) {
      // First open since the anchor existed (a new or upgraded store): anchor it now.
      await this.keychain.set(anchorAccount(this.storeId), encodeAnchor(head))
      return
    }
    const anchor = decodeAnchor(raw)
    if (head.id < anchor.id) throw new KeydeskError('tampered', `The key store at ${ctx.storage.location}: ${ROLLBACK_MESSAGE} (it ends at audit entry ${head.id}; the keychain last saw entry ${anchor.id}).`)
    const at = anchor.id === 0 ? { hash: ZERO_HASH } : ctx.storage.auditById(anchor.id)
    const matches = anchor.id === 0 ? anchor.hash.equals(ZERO_HASH) : at !== undefined && at.hash.equals(anchor.hash)
    if (!matches)
      throw new KeydeskError('tampered', `The key store at ${ctx.storage.location} does not continue the history the keychain last saw (audit entry ${anchor.id} differs): it was replaced or edited. ${ROLLBACK_MESSAGE}.`)
    if (head.id > anchor.id) await this.keychain.set(anchorAccount(this.storeId), encodeAnchor(head))
  }

}

/**
 * Stores from schema 2 carry version-1 MACs (not bound to row ids). Each is checked
 * and only then replaced by a version-2 MAC; a row whose old MAC fails keeps it and
 * stays tampered. Revoked keys get their tombstones. One transaction.
 */
export function upgradeMacs(ctx: ServiceContext, policy: PolicyService, storeId: string, v1Fingerprint: (id: string) => string): void {
  if (ctx.storage.getMeta('mac_version') === '2') return
  ctx.storage.transaction(() => {
    if (ctx.storage.getMeta('mac_version') === '2') return
    const now = ctx.now()
    // The keychain entry: the old fingerprint covered only the MAC key.
    const fp = ctx.storage.getMeta('keychain_fingerprint')
    if (fp !== v1Fingerprint(storeId))
      throw new KeydeskError('keychain_unavailable', 'The OS keychain entry for this store has changed and no longer matches the store; KeyDesk refuses to use it. Restore the original entry.')
    ctx.storage.setMeta('keychain_fingerprint', fingerprintV2(ctx, storeId))
    // The audit head moves to its version-2 record (with tombstone counts).
    const rawHead = ctx.storage.getMeta('audit_head')
    const rawHeadMac = ctx.storage.getMeta('audit_head_mac')
    let head = { id: 0, hash: ZERO_HASH }
    if (rawHead !== undefined && rawHeadMac !== undefined && ctx.crypto.macOk(`audit-head:${rawHead}`, Buffer.from(rawHeadMac, 'hex'))) {
      const [id, hex] = rawHead.split(':')
      head = { id: Number(id), hash: Buffer.from(hex ?? '', 'hex') }
    } else if (rawHead !== undefined) {
      throw new KeydeskError('tampered', 'The record of the audit log\'s last entry was edited outside KeyDesk; the store cannot be upgraded. Restore it from a backup.')
    }
    // Owners, then keys (each old MAC checked first).
    for (const o of [...ctx.storage.iterateOwners()])
      if (ctx.crypto.macOk(ownerMacDataV1(o), o.mac)) ctx.storage.setOwnerMac(o.id, ctx.crypto.mac(ownerMacData(o)))
    const revokedIds: { accessId: string; revokedAt: number | null }[] = []
    // In pages (a large store never sits in memory at once).
    for (let after = 0; ; ) {
      const page = ctx.storage.keysAfter(after, 5000)
      if (page.length === 0) break
      for (const k of page) {
        if (k.macVersion === 2) continue
        if (!ctx.crypto.macOk(keyMacDataV1(macFields(k)), k.mac)) continue
        ctx.storage.updateKey(k.id, { mac: ctx.newKeyMac(k.id, k) }, 2)
        if (k.status === 'revoked') revokedIds.push({ accessId: k.accessId, revokedAt: k.revokedAt })
      }
      after = page[page.length - 1]!.id
    }
    // The policy, bound to its last change.
    const rawPolicy = ctx.storage.getMeta('policy')
    const policyMac = ctx.storage.getMeta('policy_mac')
    let p: Policy | undefined
    try {
      p = rawPolicy ? (JSON.parse(rawPolicy) as Policy) : undefined
    } catch {
      p = undefined
    }
    const policyOk = p !== undefined && policyMac !== undefined && ctx.crypto.macOk(policyMacDataV1(p), Buffer.from(policyMac, 'hex'))
    // The chain continues from the pinned head: write the upgrade entry by hand (the audit service pins v2 heads only).
    ctx.audit.beginTransaction()
    ctx.audit.writeHead({ ...head, retired: 0, revocations: 0 })
    const auditId = ctx.audit.append('store.upgrade', 'store', { macVersion: 2, revocations: revokedIds.length })
    for (const k of revokedIds) {
      const at = k.revokedAt ?? now
      ctx.storage.insertRevocation({ accessId: k.accessId, at, auditId, mac: ctx.crypto.mac(revocationMacData({ accessId: k.accessId, at, auditId })) })
    }
    if (policyOk) policy.write({ ...DEFAULT_POLICY, ...p }, ctx.storage.lastAuditIdOf('policy.set'))
    ctx.storage.setMeta('mac_version', '2')
    ctx.audit.pinHead()
  })
}

export class IntegrityService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly audit: AuditService,
    private readonly policy: PolicyService,
    private readonly anchorOf: () => Promise<Anchor | null>,
  ) {}

  /** At open (cheap): the pinned head must hold and the tombstone counts must match it. */
  openCheck(): PinnedHead {
    // One snapshot: another process committing between these reads must not look like an edit.
    return this.ctx.storage.readTransaction(() => this.openCheckIn())
  }

  private openCheckIn(): PinnedHead {
    const head = this.audit.pinnedHead()
    if (!head)
      throw new KeydeskError('tampered', `The key store at ${this.ctx.storage.location}: the record of its audit log's last entry is missing or was edited outside KeyDesk. Run keydesk check.`)
    const counts = this.ctx.storage.tombstoneCounts()
    if (counts.retired !== head.retired || counts.revocations !== head.revocations)
      throw new KeydeskError(
        'tampered',
        `The key store at ${this.ctx.storage.location}: tombstones of revoked keys or retired secrets were deleted or added outside KeyDesk (${counts.revocations + counts.retired} found, ${head.revocations + head.retired} recorded). Run keydesk check.`,
      )
    if (this.ctx.storage.auditMaxId() !== head.id)
      throw new KeydeskError('tampered', `The key store at ${this.ctx.storage.location}: its audit log does not end where its recorded head says (entry ${head.id}). Run keydesk check.`)
    return head
  }

  /** The full check: pages, row MACs, the scope index, tombstones, the audit chain, the policy, the anchor. */
  async check(opts: { pages?: boolean; yieldEvery?: number } = {}): Promise<StoreCheck> {
    const problems: string[] = []
    const now = this.ctx.now()
    // A long check on an event loop (the app's main process) lets other work in between rows.
    const every = opts.yieldEvery ?? 0
    let n = 0
    const breathe = async () => {
      if (every > 0 && ++n % every === 0) await new Promise((r) => setImmediate(r))
    }
    if (opts.pages !== false) for (const m of this.ctx.storage.integrityCheck()) problems.push(`database pages: ${m}`)
    let keys = 0
    let owners = 0
    for (const o of this.ctx.storage.iterateOwners()) {
      owners++
      if (!this.ctx.ownerMacOk(o)) problems.push(`owner "${o.name}" was edited outside KeyDesk (its MAC does not match)`)
    }
    let tamperedKeys = 0
    const sample: string[] = []
    const ownerOk = new Map<number, boolean>()
    // In pages by id (never an open iterator across a pause: the connection stays free for others).
    for (let after = 0; ; ) {
      const page = this.ctx.storage.keysAfter(after, 1000)
      if (page.length === 0) break
      for (const k of page) {
        keys++
        if (this.ctx.keyTampered(k, now, ownerOk)) {
          tamperedKeys++
          if (sample.length < 5) sample.push(k.accessId)
        }
      }
      after = page[page.length - 1]!.id
      await breathe()
    }
    if (tamperedKeys) problems.push(`${tamperedKeys} key row(s) were edited, swapped or copied back from an older state: ${sample.join(', ')}${tamperedKeys > sample.length ? ', …' : ''}`)
    const scopeBad = this.ctx.storage.scopeIndexMismatches()
    if (scopeBad) problems.push(`the scope index disagrees with ${scopeBad} key row(s) (key_scopes was edited)`)
    let tombstones = 0
    let badTomb = 0
    for (const t of this.ctx.storage.iterateRetired()) {
      tombstones++
      if (!this.ctx.crypto.macOk(retiredMacData(t), t.mac)) badTomb++
    }
    for (const t of this.ctx.storage.iterateRevocations()) {
      tombstones++
      if (!this.ctx.crypto.macOk(revocationMacData(t), t.mac)) badTomb++
    }
    if (badTomb) problems.push(`${badTomb} tombstone(s) of revoked keys or retired secrets were edited`)
    const chain = this.audit.verify()
    if (!chain.ok) problems.push(`audit log: ${chain.problem} (first broken entry ${chain.brokenAt})`)
    try {
      this.openCheck()
    } catch (e) {
      if (chain.ok) problems.push((e as Error).message)
    }
    try {
      this.policy.get()
    } catch (e) {
      problems.push((e as Error).message)
    }
    try {
      const anchor = await this.anchorOf()
      const head = this.audit.pinnedHead()
      if (anchor && head && head.id < anchor.id) problems.push(`${ROLLBACK_MESSAGE} (log ends at entry ${head.id}, keychain last saw ${anchor.id})`)
      else if (anchor && anchor.id > 0 && !this.ctx.storage.auditById(anchor.id)?.hash.equals(anchor.hash))
        problems.push(`the audit log does not continue the history the keychain last saw (entry ${anchor.id} differs)`)
    } catch (e) {
      problems.push((e as Error).message)
    }
    return { ok: problems.length === 0, problems, counts: { keys, owners, tombstones, auditEntries: chain.checked } }
  }
}
