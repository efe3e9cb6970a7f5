-- depends: 0002_rate_limits
-- Issue 12: a creating request that repeats one already answered (a double click, a
-- resent form, a retry with the same Idempotency-Key) gets that answer again
-- (shared/edge/idempotency.py). key: a hash of the caller, route, body (and key).
CREATE TABLE idempotent_requests (
    key         text PRIMARY KEY,
    claimed_at  timestamptz NOT NULL,
    status      integer,            -- NULL while the first request is being handled
    body        jsonb
);
CREATE INDEX idempotent_requests_claimed_idx ON idempotent_requests (claimed_at);
