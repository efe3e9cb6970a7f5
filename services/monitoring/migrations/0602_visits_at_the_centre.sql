-- depends: 0601_read_models
-- Issue 17: the visit at the centre (counters calling tickets) and the booking's
-- reschedules, reminders and closures, as read models of their public events.
--
-- Each table is keyed by the event that starts its row, or by the ticket or
-- booking that has at most one such event, and every row is inserted once: applying
-- an event twice, or in any order, gives the same rows (see 0601).

-- TicketCalled: every call of a ticket; the first (first_call) measures the wait.
CREATE TABLE ticket_calls (
    event_id uuid PRIMARY KEY,
    ticket_id uuid NOT NULL,
    centre text NOT NULL,
    date date NOT NULL,              -- the ticket's Baku day, which a visit counts on
    service text NOT NULL,           -- the service it was called for
    counter_id text NOT NULL,
    first_call boolean NOT NULL,
    issued_at timestamptz NOT NULL,
    called_at timestamptz NOT NULL
);
CREATE INDEX ticket_calls_date ON ticket_calls (date);

-- TicketServed / TicketNoShow: how a ticket ended, once per ticket.
CREATE TABLE ticket_outcomes (
    ticket_id uuid PRIMARY KEY,
    outcome text NOT NULL CHECK (outcome IN ('served', 'no_show')),
    centre text NOT NULL,
    date date NOT NULL,
    service text NOT NULL,
    counter_id text NOT NULL,
    called_at timestamptz,           -- served: the call the service time starts at
    at timestamptz NOT NULL,         -- served_at, or when it was given up
    recalls int                      -- no-show: the recalls before it
);
CREATE INDEX ticket_outcomes_date ON ticket_outcomes (date);

-- TicketTransferred: every transfer to another service's queue.
CREATE TABLE ticket_transfers (
    event_id uuid PRIMARY KEY,
    ticket_id uuid NOT NULL,
    centre text NOT NULL,
    date date NOT NULL,
    from_service text NOT NULL,
    to_service text NOT NULL,
    counter_id text NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX ticket_transfers_date ON ticket_transfers (date);

-- BookingRescheduled: every move of a visit; the latest (rescheduled_at) holds.
CREATE TABLE booking_reschedules (
    event_id uuid PRIMARY KEY,
    booking_id uuid NOT NULL,
    centre text NOT NULL,
    service text NOT NULL,
    visit_date date NOT NULL,
    visit_time text NOT NULL,
    previous_date date NOT NULL,
    previous_time text NOT NULL,
    rescheduled_at timestamptz NOT NULL
);
CREATE INDEX booking_reschedules_booking ON booking_reschedules (booking_id);

-- BookingReminded: once per booking.
CREATE TABLE booking_reminders (
    booking_id uuid PRIMARY KEY,
    centre text NOT NULL,
    service text NOT NULL,
    visit_date date NOT NULL,
    visit_time text NOT NULL,
    reminded_at timestamptz NOT NULL
);

-- CentreClosed: a centre, or one service of it, closed for a day.
CREATE TABLE closures (
    closure_id uuid PRIMARY KEY,
    centre text NOT NULL,
    service text,                    -- NULL: the whole centre
    date date NOT NULL,
    reason text NOT NULL,
    closed_at timestamptz NOT NULL,
    cancelled int NOT NULL           -- the bookings it cancelled
);
CREATE INDEX closures_date ON closures (date);
