/**
 * Where a CLI command's store is (--data-dir / --store / KEYDESK_STORE) and who is
 * acting: one place for every command group (main, attention, serve, team).
 */
import type { Command } from 'commander'
import { resolveStore, type StoreLocation } from '../main/core/index'
import { teamActor } from '../main/core/settings'

export function storeOf(program: Command): StoreLocation {
  return resolveStore(program.opts<{ dataDir?: string; store?: string }>())
}

/** The audit actor: the OS user; on a team store, with the host it works from (several admins share one log). */
export function adminIdentity(where: StoreLocation): string | undefined {
  return where.store ? teamActor() : undefined
}

/** A command is one process and a query or two: SQLite's own page cache size (see OpenOptions.pageCacheKiB). */
export const CLI_PAGE_CACHE_KIB = 2048
