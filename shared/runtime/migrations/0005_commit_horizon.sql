-- depends: 0004_public_sequence
-- Issue 15: appends no longer serialize on a table lock. Each event and outbox row
-- records the transaction that wrote it (xid8; for an event, never below the
-- transaction of its stream's previous version), and readers take only rows below
-- the oldest transaction still running, in (tx, position) order: a horizon no
-- transaction can ever write beneath, so a reader that moves past a row never misses
-- one committed later (shared/runtime/eventstore.py). Rows written before this migration
-- have tx 0: they come first, in position order, as before.
ALTER TABLE events ADD COLUMN tx xid8 NOT NULL DEFAULT '0';
ALTER TABLE events ALTER COLUMN tx SET DEFAULT pg_current_xact_id();
CREATE INDEX events_tx_idx ON events (tx, global_position);
ALTER TABLE outbox ADD COLUMN tx xid8 NOT NULL DEFAULT '0';
ALTER TABLE outbox ALTER COLUMN tx SET DEFAULT pg_current_xact_id();
CREATE INDEX outbox_tx_idx ON outbox (tx, id);
