import type { Migration } from './index'

/**
 * core-shim (screens branch): what the key edits need until the integrator's core v2
 * lands: a reversible per-key disable and a second previous-secret slot. Numbered 3
 * here so the versions stay contiguous; the integrator's real migration replaces it.
 */
export const migration: Migration = {
  version: 3,
  name: 'key-edits',
  up: `
    ALTER TABLE keys ADD COLUMN disabled_at INTEGER;
    ALTER TABLE keys ADD COLUMN prev2_hash BLOB;
    ALTER TABLE keys ADD COLUMN prev2_valid_until INTEGER;
    CREATE UNIQUE INDEX keys_prev2_hash ON keys (prev2_hash);
  `,
}
