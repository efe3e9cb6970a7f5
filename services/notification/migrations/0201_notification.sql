-- depends: 0001_platform
-- One row per email intent (e.g. "<booking id>:order-code"): exactly one email per
-- intent, however often the request is delivered. No content, no code is stored.
CREATE TABLE emails (
    intent_id        text PRIMARY KEY,
    status           text        NOT NULL,
    template         text        NOT NULL,
    template_version integer     NOT NULL,
    language         text        NOT NULL,
    reference        text        NOT NULL,
    recipient        text        NOT NULL,
    attempts         integer     NOT NULL DEFAULT 0,
    last_error       text,
    version          integer     NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX emails_reference_idx ON emails (reference);
CREATE INDEX emails_status_idx ON emails (status, updated_at);
