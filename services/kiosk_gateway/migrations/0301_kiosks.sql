-- depends: 0001_platform
-- Kiosks of the centres and the tickets they print.

CREATE TABLE kiosks (
    kiosk_id         text PRIMARY KEY,
    centre           text        NOT NULL,
    credential_hash  text        NOT NULL,   -- SHA-256 of the secret; the secret is shown once
    status           text        NOT NULL,   -- active | revoked
    registered_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    rotated_at       timestamptz,
    last_seen        timestamptz,
    failures         integer     NOT NULL DEFAULT 0,  -- wrong codes in a row
    blocked_until    timestamptz,                     -- slowed down until then
    version          integer     NOT NULL
);

-- One row per centre, day and series: the row every kiosk of a centre contends on,
-- so numbers are unique and gap-free (a rolled-back ticket rolls its number back).
CREATE TABLE ticket_counters (
    centre  text    NOT NULL,
    day     date    NOT NULL,
    series  text    NOT NULL,   -- "<service>:booked" or "<service>:walk_in"
    last    integer NOT NULL,
    PRIMARY KEY (centre, day, series)
);

CREATE TABLE tickets (
    ticket_id    uuid PRIMARY KEY,
    centre       text        NOT NULL,
    day          date        NOT NULL,
    number       text        NOT NULL,
    sequence     integer     NOT NULL,
    series       text        NOT NULL,
    service      text        NOT NULL,
    booking_id   uuid UNIQUE,           -- one ticket per booking, ever
    booked_time  time,
    kiosk_id     text        NOT NULL,
    issued_at    timestamptz NOT NULL,
    UNIQUE (centre, day, number)
);
CREATE INDEX tickets_queue_idx ON tickets (centre, day);
