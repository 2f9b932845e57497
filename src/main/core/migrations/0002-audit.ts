import type { Migration } from './index'

/**
 * Append-only audit log. Each entry's hash covers the previous entry's hash, and
 * its MAC is keyed by the store's keychain entry; meta.audit_head pins the tail so
 * truncation is caught too.
 */
export const migration: Migration = {
  version: 2,
  name: 'audit',
  up: `
    CREATE TABLE audit (
      id        INTEGER PRIMARY KEY,
      at        INTEGER NOT NULL,
      actor     TEXT NOT NULL,
      action    TEXT NOT NULL,
      target    TEXT NOT NULL,
      detail    TEXT NOT NULL DEFAULT '{}',
      prev_hash BLOB NOT NULL,
      hash      BLOB NOT NULL,
      mac       BLOB NOT NULL
    ) STRICT;
    CREATE INDEX audit_action ON audit (action, id);
    CREATE INDEX audit_target ON audit (target, id);
  `,
}
