import type { Migration } from './index'

/**
 * core-shim (leaks worktree): reminders already sent, so a restart does not repeat
 * them. One row per key, threshold and expiry (a changed expiry re-arms them).
 * Main's 0003-integrity carries the real table; drop this file at merge.
 */
export const migration: Migration = {
  version: 3,
  name: 'reminders',
  up: `
    CREATE TABLE reminders (
      key_id         INTEGER NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
      threshold_days INTEGER NOT NULL,
      expires_at     INTEGER NOT NULL,
      reminded_at    INTEGER NOT NULL,
      PRIMARY KEY (key_id, threshold_days, expires_at)
    ) STRICT, WITHOUT ROWID;
  `,
}
