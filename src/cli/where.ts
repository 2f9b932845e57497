/**
 * Where a CLI command's store is (--data-dir / --store / KEYDESK_STORE) and who is
 * acting: one place for every command group (main, attention, serve, team).
 */
import { hostname, userInfo } from 'node:os'
import type { Command } from 'commander'
import { resolveStore, type StoreLocation } from '../main/core/index'

export function storeOf(program: Command): StoreLocation {
  return resolveStore(program.opts<{ dataDir?: string; store?: string }>())
}

/** The audit actor: the OS user; on a team store, with the host it works from (several admins share one log). */
export function adminIdentity(where: StoreLocation): string | undefined {
  if (!where.store) return undefined
  let user = 'admin'
  try {
    user = userInfo().username || user
  } catch {
    user = process.env.USER || user
  }
  return `${user}@${hostname()}`
}
