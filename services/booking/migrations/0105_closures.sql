-- depends: 0104_canonical_id_cards
-- Issue 17 §6: the closures of a centre (or of one service at it) for a day, a
-- projection of CentreClosed (read_model.apply): what the slot lists and the service
-- catalogue (the kiosk gateway's walk-ins) read. New bookings decide on the closure
-- stream itself, under its lock (handlers.refuse_if_closed).
CREATE TABLE closures (
    closure_id  uuid        PRIMARY KEY,
    centre      text        NOT NULL,
    service     text,       -- NULL: the whole centre
    day         date        NOT NULL,
    reason      text        NOT NULL,
    closed_at   timestamptz NOT NULL,
    cancelled   integer     NOT NULL
);
CREATE INDEX closures_day_idx ON closures (day, centre);
