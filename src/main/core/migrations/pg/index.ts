/**
 * PostgreSQL migrations for the team store: append-only and numbered, like the
 * SQLite ones. Each runs in one transaction under the store's advisory lock,
 * together with its version bump in keydesk_schema. Never edit one that has
 * shipped: add the next.
 */
import { migration as m0001 } from './0001-init'
import { migration as m0002 } from './0002-changes'

export interface PgMigration {
  version: number
  name: string
  up: string
}

export const PG_MIGRATIONS: readonly PgMigration[] = [m0001, m0002]
export const PG_LATEST_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version
