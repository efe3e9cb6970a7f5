-- depends: 0001_platform
-- The monitoring service's read models (M-1 … M-3).
--
-- Built only from the public events of the other services. Every row is keyed by
-- the id of the thing it describes (a booking, an email, a query…) and every column
-- is set by exactly one event type, so applying an event twice, or events of
-- different services in any order, gives the same rows: a rebuild from the event
-- logs reproduces what the live consumers built.
--
-- *_at columns are the domain's own times (the service's clock, in the event data);
-- *_logged_at columns are when the event was recorded (the envelope's time), which
-- is what response times are measured with.

CREATE TABLE bookings (
    booking_id uuid PRIMARY KEY,
    centre text,
    service text,
    channel text,
    visit_date date,
    visit_time text,
    requested_at timestamptz,
    requested_logged_at timestamptz,
    confirmed_at timestamptz,
    confirmed_logged_at timestamptz,
    activated_at timestamptz,
    lapsed_at timestamptz,
    cancelled_at timestamptz,
    cancelled_by text,
    voided_at timestamptz,
    void_reason text,
    hold_expired_at timestamptz
);
CREATE INDEX bookings_requested ON bookings (requested_at);
CREATE INDEX bookings_visit ON bookings (visit_date);

CREATE TABLE booking_refusals (
    refusal_id uuid PRIMARY KEY,
    refused_at timestamptz NOT NULL,
    channel text NOT NULL,
    centre text,
    service text,
    reasons jsonb NOT NULL
);
CREATE INDEX booking_refusals_refused ON booking_refusals (refused_at);

CREATE TABLE emails (
    intent_id text PRIMARY KEY,
    template text,
    reference text,
    created_logged_at timestamptz,
    delivered_logged_at timestamptz,
    delivered_attempt int,
    failed_logged_at timestamptz,       -- the final failure (no retry follows)
    failure_type text,
    failure_smtp_code int
);
CREATE INDEX emails_reference ON emails (reference, template);

CREATE TABLE email_attempt_failures (   -- every failed attempt, retried or final
    event_id uuid PRIMARY KEY,
    intent_id text NOT NULL,
    failure_type text NOT NULL,
    will_retry boolean NOT NULL,
    logged_at timestamptz NOT NULL
);

CREATE TABLE fin_queries (
    query_id uuid PRIMARY KEY,
    asked_at timestamptz NOT NULL,
    method text NOT NULL,
    outcome text NOT NULL,
    latency_ms double precision NOT NULL,
    channel text NOT NULL
);
CREATE INDEX fin_queries_asked ON fin_queries (asked_at);

CREATE TABLE complaints (
    complaint_id uuid PRIMARY KEY,
    service text,
    channel text,
    filed_on date,
    filed_logged_at timestamptz,
    due_on date,
    acknowledged_by text,
    answered_at timestamptz,
    decision text,
    answered_late boolean,
    withdrawn_at timestamptz,
    warned_logged_at timestamptz,
    overdue_logged_at timestamptz
);

CREATE TABLE tickets (
    ticket_id uuid PRIMARY KEY,
    centre text NOT NULL,
    service text NOT NULL,
    date date NOT NULL,
    series text NOT NULL,
    booking_id uuid,
    issued_at timestamptz NOT NULL
);

CREATE TABLE activation_refusals (
    event_id uuid PRIMARY KEY,
    kiosk_id text NOT NULL,
    centre text NOT NULL,
    reason text NOT NULL,
    at timestamptz NOT NULL
);

CREATE TABLE kiosks (
    kiosk_id text PRIMARY KEY,
    centre text,
    registered_logged_at timestamptz,
    revoked_logged_at timestamptz
);

-- Control reports as generated (M-4): the daily one once per day, on-demand ones as asked.
CREATE TABLE control_reports (
    report_id uuid PRIMARY KEY,
    day date NOT NULL,
    trigger text NOT NULL CHECK (trigger IN ('daily', 'on_demand')),
    centre text,
    service text,
    as_of timestamptz NOT NULL,
    generated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    report jsonb NOT NULL
);
CREATE UNIQUE INDEX control_reports_one_daily ON control_reports (day) WHERE trigger = 'daily';
