/** Owners: users and service accounts. Every change to an owner is MAC'd, bound to its id, and mirrored (MAC'd) on its keys. */
import { KeydeskError, invalid } from '../errors'
import { iso } from '../duration'
import { ownerMacData } from '../macs'
import { normalizeName } from '../names'
import type { OwnerKind, OwnerView } from '../types'
import type { OwnerRecord } from '../storage/port'
import type { ServiceContext } from './context'
import type { KeyService } from './keys'

export class OwnerService {
  keys!: KeyService
  constructor(private readonly ctx: ServiceContext) {}

  byName(name: string): OwnerRecord | undefined {
    return this.ctx.storage.ownerByName(name)
  }

  /** The named owner, MAC-checked. */
  require(raw: string): OwnerRecord {
    const name = normalizeName(raw, 'owner', 'Owner')
    const o = this.ctx.storage.ownerByName(name)
    if (!o) throw new KeydeskError('not_found', `Owner "${name}" does not exist; add it first (keydesk owner add).`, 'owner')
    if (!this.ctx.ownerMacOk(o))
      throw new KeydeskError('tampered', `Owner "${name}" was edited outside KeyDesk (its MAC does not match); refusing to use it.`, 'owner')
    return o
  }

  /** Only inside a write. */
  insert(name: string, kind: OwnerKind): OwnerRecord {
    const id = this.ctx.storage.nextOwnerId()
    const o: OwnerRecord = { id, name, kind, createdAt: this.ctx.now(), disabledAt: null, mac: Buffer.alloc(0) }
    o.mac = this.ctx.crypto.mac(ownerMacData(o))
    this.ctx.storage.insertOwner(o)
    this.ctx.audit.append('owner.add', name, { kind })
    return o
  }

  /** The owner for a new key: the named one, or the acting OS user (created on first use). Only inside a write. */
  forCreate(raw: string | undefined): OwnerRecord {
    if (raw !== undefined && raw.trim() !== '') return this.require(raw)
    const name = normalizeName(this.ctx.actor, 'owner', 'Owner')
    return this.ctx.storage.ownerByName(name) ? this.require(name) : this.insert(name, 'user')
  }

  add(rawName: string, kind: OwnerKind = 'user'): OwnerView {
    const name = normalizeName(rawName, 'owner', 'Owner name')
    if (kind !== 'user' && kind !== 'service') throw invalid('kind', 'Owner kind must be "user" or "service".')
    return this.ctx.write(() => {
      if (this.ctx.storage.ownerByName(name)) throw new KeydeskError('conflict', `Owner "${name}" already exists.`, 'owner')
      this.insert(name, kind)
      return this.view(name)
    })
  }

  list(): OwnerView[] {
    return this.ctx.storage.ownerNames().map((n) => this.view(n))
  }

  view(name: string): OwnerView {
    const o = this.ctx.storage.ownerByName(name)!
    const c = this.ctx.storage.ownerKeyCounts(o.id, this.ctx.now())
    return {
      name: o.name,
      kind: o.kind,
      createdAt: iso(o.createdAt)!,
      disabledAt: iso(o.disabledAt),
      tampered: !this.ctx.ownerMacOk(o),
      keys: { active: c.active + c.disabled, expired: c.expired, revoked: c.revoked },
    }
  }

  disable(rawName: string): OwnerView {
    return this.ctx.write(() => {
      const o = this.require(rawName)
      if (o.disabledAt !== null) throw new KeydeskError('conflict', `Owner "${o.name}" is already disabled.`, 'owner')
      const keys = this.setDisabledAt(o, this.ctx.now())
      this.ctx.audit.append('owner.disable', o.name, { keys })
      return this.view(o.name)
    })
  }

  /** Undo a disable: the owner's unrevoked, unexpired keys verify again. */
  enable(rawName: string): OwnerView {
    return this.ctx.write(() => {
      const o = this.require(rawName)
      if (o.disabledAt === null) throw new KeydeskError('conflict', `Owner "${o.name}" is not disabled.`, 'owner')
      const keys = this.setDisabledAt(o, null)
      this.ctx.audit.append('owner.enable', o.name, { keys })
      return this.view(o.name)
    })
  }

  /**
   * The owner row and every key's MAC'd copy of it. Each key's old MAC is checked
   * before it is rewritten: one tampered key fails the whole change, loudly, so an
   * edited row can never be laundered into a valid one.
   */
  private setDisabledAt(o: OwnerRecord, at: number | null): number {
    const ids = this.ctx.storage.keyIdsOfOwner(o.id, false)
    for (const id of ids) {
      const k = this.ctx.storage.keyById(id)!
      this.ctx.rewriteKey(k, { ownerDisabledAt: at }, `change owner "${o.name}"`)
    }
    this.ctx.storage.setOwnerDisabled(o.id, at, this.ctx.crypto.mac(ownerMacData({ ...o, disabledAt: at })))
    return ids.length
  }
}
