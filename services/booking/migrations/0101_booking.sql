-- depends: 0001_platform
-- Read models of the booking service, kept in the same transaction as its events.

-- One row per booking request: the projection operators search (Q-9) and the
-- rows the hold sweep and cancellation lock. Personal data stays in this database.
CREATE TABLE bookings (
    booking_id       uuid PRIMARY KEY,
    status           text        NOT NULL,
    centre           text        NOT NULL,
    service          text        NOT NULL,
    day              date        NOT NULL,
    slot_time        time        NOT NULL,
    name             text        NOT NULL,
    surname          text        NOT NULL,
    patronymic       text        NOT NULL,
    id_card          text        NOT NULL,
    phone            text        NOT NULL,
    email            text        NOT NULL,
    language         text        NOT NULL,
    channel          text        NOT NULL,
    hold_expires_at  timestamptz NOT NULL,
    order_code_hash  text,
    version          integer     NOT NULL,
    requested_at     timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX bookings_hold_idx ON bookings (hold_expires_at) WHERE status = 'requested';
CREATE INDEX bookings_id_card_idx ON bookings (id_card, service, day);
CREATE INDEX bookings_email_idx ON bookings (lower(email));
CREATE INDEX bookings_phone_idx ON bookings (phone);
CREATE INDEX bookings_slot_idx ON bookings (centre, day, slot_time);
-- An order code identifies one active booking (kiosk, cancellation).
CREATE UNIQUE INDEX bookings_order_code_idx ON bookings (order_code_hash)
    WHERE status = 'confirmed';

-- Places taken in each slot: the one row concurrent requests for a slot contend on,
-- so capacity can never be exceeded (UPDATE … WHERE taken < capacity).
CREATE TABLE slot_usage (
    centre    text     NOT NULL,
    service   text     NOT NULL,
    day       date     NOT NULL,
    slot_time time     NOT NULL,
    capacity  integer  NOT NULL CHECK (capacity >= 0),
    taken     integer  NOT NULL DEFAULT 0 CHECK (taken >= 0 AND taken <= capacity),
    PRIMARY KEY (centre, service, day, slot_time)
);
