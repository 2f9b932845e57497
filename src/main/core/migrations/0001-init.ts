import type { Migration } from './index'

/** Owners, keys (only hashes and hints, every row MAC'd), scopes index, search index, metadata. */
export const migration: Migration = {
  version: 1,
  name: 'init',
  up: `
    CREATE TABLE meta (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) STRICT;

    CREATE TABLE owners (
      id          INTEGER PRIMARY KEY,
      name        TEXT NOT NULL UNIQUE,
      kind        TEXT NOT NULL CHECK (kind IN ('user', 'service')),
      created_at  INTEGER NOT NULL,
      disabled_at INTEGER,
      mac         BLOB NOT NULL
    ) STRICT;

    CREATE TABLE keys (
      id               INTEGER PRIMARY KEY,
      access_id        TEXT NOT NULL UNIQUE,
      owner_id         INTEGER NOT NULL REFERENCES owners(id),
      -- Copies of the owner's name and disabled time, covered by the key's MAC, so
      -- verify needs one lookup; disabling an owner rewrites its keys' copies.
      owner_name       TEXT NOT NULL,
      owner_disabled_at INTEGER,
      name             TEXT NOT NULL,
      description      TEXT NOT NULL DEFAULT '',
      scopes           TEXT NOT NULL DEFAULT '',
      hash             BLOB NOT NULL UNIQUE,
      hash_alg         TEXT NOT NULL,
      hint             TEXT NOT NULL,
      prev_hash        BLOB UNIQUE,
      prev_valid_until INTEGER,
      status           TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
      created_at       INTEGER NOT NULL,
      expires_at       INTEGER NOT NULL,
      reset_at         INTEGER,
      revoked_at       INTEGER,
      revoked_reason   TEXT,
      last_used_at     INTEGER,
      mac              BLOB NOT NULL
    ) STRICT;
    CREATE INDEX keys_owner_name ON keys (owner_id, name);
    CREATE INDEX keys_status_expires ON keys (status, expires_at);
    CREATE INDEX keys_expires ON keys (expires_at);
    CREATE INDEX keys_name ON keys (name);
    CREATE INDEX keys_last_used ON keys (last_used_at);

    CREATE TABLE key_scopes (
      scope  TEXT NOT NULL,
      key_id INTEGER NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
      PRIMARY KEY (scope, key_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX key_scopes_key ON key_scopes (key_id);

    -- Substring search over name, access ID and description (trigram, case-insensitive).
    CREATE VIRTUAL TABLE keys_fts USING fts5(
      name, access_id, description, content = 'keys', content_rowid = 'id', tokenize = 'trigram'
    );
    CREATE TRIGGER keys_fts_ai AFTER INSERT ON keys BEGIN
      INSERT INTO keys_fts (rowid, name, access_id, description) VALUES (new.id, new.name, new.access_id, new.description);
    END;
    CREATE TRIGGER keys_fts_ad AFTER DELETE ON keys BEGIN
      INSERT INTO keys_fts (keys_fts, rowid, name, access_id, description) VALUES ('delete', old.id, old.name, old.access_id, old.description);
    END;
    CREATE TRIGGER keys_fts_au AFTER UPDATE OF name, description ON keys BEGIN
      INSERT INTO keys_fts (keys_fts, rowid, name, access_id, description) VALUES ('delete', old.id, old.name, old.access_id, old.description);
      INSERT INTO keys_fts (rowid, name, access_id, description) VALUES (new.id, new.name, new.access_id, new.description);
    END;
  `,
}
