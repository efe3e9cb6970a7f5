-- depends: 0302_kiosk_heartbeats
-- Issue 17 §1: counters (staff desks) call tickets. Read models of the counters' and
-- tickets' events, written only by services/kiosk_gateway/read_model.py.

CREATE TABLE counters (
    counter_id       text PRIMARY KEY,
    centre           text        NOT NULL,
    name             text        NOT NULL,   -- what the display board shows
    credential_hash  text        NOT NULL,   -- SHA-256 of the secret; the secret is shown once
    status           text        NOT NULL,   -- active | revoked
    services         text[]      NOT NULL DEFAULT '{}',  -- signed in for; empty: signed out
    current_ticket   uuid,                   -- the ticket it has called, not yet finished
    version          integer     NOT NULL
);
CREATE INDEX counters_centre_idx ON counters (centre);

-- A ticket's place in its visit: waiting (in `service`'s queue) → called (at
-- `counter_id`, `recalls` times again) → served | no_show; a transfer makes it wait again.
ALTER TABLE tickets
    ADD COLUMN status          text        NOT NULL DEFAULT 'waiting',
    ADD COLUMN counter_id      text,
    ADD COLUMN called_at       timestamptz,       -- its current (or last) call
    ADD COLUMN last_called_at  timestamptz,       -- the call or recall the board shows
    ADD COLUMN recalls         integer     NOT NULL DEFAULT 0,
    ADD COLUMN finished_at     timestamptz;
CREATE INDEX tickets_board_idx ON tickets (centre, day, last_called_at DESC)
    WHERE last_called_at IS NOT NULL;
