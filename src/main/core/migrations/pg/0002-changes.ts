import type { PgMigration } from './index'

/**
 * The change feed gateways follow. Every change to a key row's MAC'd fields (reset,
 * revoke, disable, edit, owner disable — which rewrites its keys), every deletion
 * (purge) and every tombstone adds a row to `changes` and, at commit, a NOTIFY on
 * channel keydesk_changes carrying "seq access_id". Gateways LISTEN; against a read
 * replica (no LISTEN there) they poll `changes` by seq. A change row only tells a
 * gateway to drop what it cached: the row itself is re-read and its MAC checked.
 */
export const migration: PgMigration = {
  version: 2,
  name: 'changes',
  up: `
    CREATE TABLE changes (
      seq       BIGSERIAL PRIMARY KEY,
      at        BIGINT NOT NULL DEFAULT (extract(epoch from clock_timestamp()) * 1000)::bigint,
      access_id TEXT NOT NULL
    );

    CREATE FUNCTION keydesk_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      aid TEXT;
      s BIGINT;
    BEGIN
      IF TG_OP = 'DELETE' THEN aid := OLD.access_id; ELSE aid := NEW.access_id; END IF;
      INSERT INTO changes (access_id) VALUES (aid) RETURNING seq INTO s;
      PERFORM pg_notify('keydesk_changes', s::text || ' ' || aid);
      RETURN NULL;
    END $$;

    CREATE TRIGGER keys_changed AFTER UPDATE OF mac OR DELETE ON keys
      FOR EACH ROW EXECUTE FUNCTION keydesk_note_change();
    CREATE TRIGGER revocations_changed AFTER INSERT ON revocations
      FOR EACH ROW EXECUTE FUNCTION keydesk_note_change();
    CREATE TRIGGER retired_changed AFTER INSERT ON retired
      FOR EACH ROW EXECUTE FUNCTION keydesk_note_change();
  `,
}
