/**
 * Append-only, numbered migrations. Never edit one that has shipped: add the next.
 * Each runs in its own BEGIN IMMEDIATE transaction together with its user_version bump.
 */
import { migration as m0001 } from './0001-init'
import { migration as m0002 } from './0002-audit'
import { migration as m0004 } from './0004-key-edits'

export interface Migration {
  version: number
  name: string
  up: string
}

export const MIGRATIONS: readonly Migration[] = [m0001, m0002, m0004]
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version
