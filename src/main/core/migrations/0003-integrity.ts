import type { Migration } from './index'

/**
 * Store v2: tombstones that outlive any key row (a revoked access ID, a retired
 * secret), a second previous-secret slot (two secrets in grace), per-key disable,
 * per-secret last use, reminders already sent. Row MACs move to version 2 (bound to
 * the row id) when the store is next opened with its keychain entry: see
 * services/upgrade.ts; rows whose version-1 MAC fails stay tampered.
 */
export const migration: Migration = {
  version: 3,
  name: 'integrity',
  up: `
    ALTER TABLE keys ADD COLUMN prev2_hash BLOB;
    ALTER TABLE keys ADD COLUMN prev2_valid_until INTEGER;
    ALTER TABLE keys ADD COLUMN prev_last_used_at INTEGER;
    ALTER TABLE keys ADD COLUMN prev2_last_used_at INTEGER;
    ALTER TABLE keys ADD COLUMN disabled_at INTEGER;
    ALTER TABLE keys ADD COLUMN disabled_reason TEXT;
    ALTER TABLE keys ADD COLUMN mac_version INTEGER NOT NULL DEFAULT 1;
    CREATE UNIQUE INDEX keys_prev2_hash ON keys (prev2_hash) WHERE prev2_hash IS NOT NULL;

    -- A secret that stops verifying at 'at' (reset, purge), whatever a key row says.
    -- Never updated: ending a grace early adds a second, earlier row (the earliest wins),
    -- so no older version of a row can be copied back to revive a secret.
    CREATE TABLE retired (
      hash      BLOB NOT NULL,
      access_id TEXT NOT NULL,
      at        INTEGER NOT NULL,
      audit_id  INTEGER NOT NULL,
      mac       BLOB NOT NULL,
      PRIMARY KEY (hash, at)
    ) STRICT, WITHOUT ROWID;

    -- An access ID that never verifies again (revoke), whatever a key row says.
    CREATE TABLE revocations (
      access_id TEXT PRIMARY KEY,
      at        INTEGER NOT NULL,
      audit_id  INTEGER NOT NULL,
      mac       BLOB NOT NULL
    ) STRICT, WITHOUT ROWID;

    -- Expiry reminders already shown, once per key and threshold (not security data).
    CREATE TABLE reminders (
      key_id         INTEGER NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
      threshold_days INTEGER NOT NULL,
      at             INTEGER NOT NULL,
      PRIMARY KEY (key_id, threshold_days)
    ) STRICT, WITHOUT ROWID;
  `,
}
