-- The platform tables every service database has: its event store, the outbox
-- the relay drains, the idempotency record of its consumers, and the tracking
-- positions of its projections.

CREATE TABLE events (
    -- Allocated while the appending transaction holds an EXCLUSIVE lock on this
    -- table (see shared/runtime/eventstore.py): positions are therefore in commit order
    -- and a reader following "position > last" never skips an event.
    global_position bigserial PRIMARY KEY,
    stream_id       text        NOT NULL,
    version         integer     NOT NULL CHECK (version > 0),
    event_id        uuid        NOT NULL UNIQUE,
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL,
    data            jsonb       NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    correlation_id  uuid        NOT NULL,
    causation_id    uuid,
    UNIQUE (stream_id, version)
);
CREATE INDEX events_type_idx ON events (event_type, global_position);

CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    message_id   uuid        NOT NULL,
    exchange     text        NOT NULL,
    routing_key  text        NOT NULL,
    body         bytea       NOT NULL,
    headers      jsonb       NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE tracking (
    reader       text PRIMARY KEY,
    position     bigint      NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
