import type { PgMigration } from './index'

/**
 * The team store's tables: the same rows and rules as the SQLite store at schema 3
 * (owners, keys with every security field MAC'd, the scope index, the hash-chained
 * audit log, tombstones, reminders). Times are milliseconds since the epoch
 * (BIGINT), as on SQLite. Substring search uses pg_trgm where the server has it
 * (a trusted extension since PostgreSQL 13); without it search still works, unindexed.
 */
export const migration: PgMigration = {
  version: 1,
  name: 'init',
  up: `
    CREATE TABLE meta (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );

    CREATE TABLE owners (
      id          BIGINT PRIMARY KEY,
      name        TEXT NOT NULL UNIQUE,
      kind        TEXT NOT NULL CHECK (kind IN ('user', 'service')),
      created_at  BIGINT NOT NULL,
      disabled_at BIGINT,
      mac         BYTEA NOT NULL
    );

    CREATE TABLE keys (
      id                 BIGINT PRIMARY KEY,
      access_id          TEXT NOT NULL UNIQUE,
      owner_id           BIGINT NOT NULL REFERENCES owners(id),
      owner_name         TEXT NOT NULL,
      owner_disabled_at  BIGINT,
      name               TEXT NOT NULL,
      description        TEXT NOT NULL DEFAULT '',
      scopes             TEXT NOT NULL DEFAULT '',
      hash               BYTEA NOT NULL UNIQUE,
      hash_alg           TEXT NOT NULL,
      hint               TEXT NOT NULL,
      prev_hash          BYTEA UNIQUE,
      prev_valid_until   BIGINT,
      prev2_hash         BYTEA UNIQUE,
      prev2_valid_until  BIGINT,
      status             TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
      created_at         BIGINT NOT NULL,
      expires_at         BIGINT NOT NULL,
      reset_at           BIGINT,
      revoked_at         BIGINT,
      revoked_reason     TEXT,
      disabled_at        BIGINT,
      disabled_reason    TEXT,
      last_used_at       BIGINT,
      prev_last_used_at  BIGINT,
      prev2_last_used_at BIGINT,
      mac                BYTEA NOT NULL,
      mac_version        INTEGER NOT NULL DEFAULT 2
    );
    CREATE INDEX keys_owner_name ON keys (owner_id, name);
    CREATE INDEX keys_status_expires ON keys (status, expires_at);
    CREATE INDEX keys_expires ON keys (expires_at);
    CREATE INDEX keys_name ON keys (name COLLATE "C");
    CREATE INDEX keys_access_id_c ON keys (access_id COLLATE "C");
    CREATE INDEX keys_last_used ON keys (last_used_at);

    CREATE TABLE key_scopes (
      scope  TEXT NOT NULL,
      key_id BIGINT NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
      PRIMARY KEY (scope, key_id)
    );
    CREATE INDEX key_scopes_key ON key_scopes (key_id);

    CREATE TABLE audit (
      id        BIGINT PRIMARY KEY,
      at        BIGINT NOT NULL,
      actor     TEXT NOT NULL,
      action    TEXT NOT NULL,
      target    TEXT NOT NULL,
      detail    TEXT NOT NULL DEFAULT '{}',
      prev_hash BYTEA NOT NULL,
      hash      BYTEA NOT NULL,
      mac       BYTEA NOT NULL
    );
    CREATE INDEX audit_action ON audit (action, id);
    CREATE INDEX audit_target ON audit (target, id);

    CREATE TABLE retired (
      hash      BYTEA NOT NULL,
      access_id TEXT NOT NULL,
      at        BIGINT NOT NULL,
      audit_id  BIGINT NOT NULL,
      mac       BYTEA NOT NULL,
      PRIMARY KEY (hash, at)
    );

    CREATE TABLE revocations (
      access_id TEXT PRIMARY KEY,
      at        BIGINT NOT NULL,
      audit_id  BIGINT NOT NULL,
      mac       BYTEA NOT NULL
    );

    CREATE TABLE reminders (
      key_id         BIGINT NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
      threshold_days INTEGER NOT NULL,
      at             BIGINT NOT NULL,
      PRIMARY KEY (key_id, threshold_days)
    );

    DO $$
    BEGIN
      BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
      EXCEPTION WHEN others THEN
        RAISE NOTICE 'pg_trgm is not available: key search runs without an index';
      END;
      IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        EXECUTE 'CREATE INDEX keys_search ON keys USING gin ((name || '' '' || access_id || '' '' || description) gin_trgm_ops)';
      END IF;
    END $$;
  `,
}
