-- depends: 0001_platform
-- Rate limits shared by every instance of a service (shared/edge/ratelimit.py): one row
-- per limit and client, holding the client's "theoretical arrival time" (GCRA) —
-- when its bucket is full again. A row whose time has passed means the same as no
-- row, and is deleted by the next sweep. The subject is a SHA-256 hash (of an
-- address, an email): no personal data in clear.
CREATE TABLE rate_limits (
    limit_name  text        NOT NULL,
    subject     text        NOT NULL,
    tat         timestamptz NOT NULL,
    PRIMARY KEY (limit_name, subject)
);
-- No index on tat: every check updates it, and without one PostgreSQL can update the
-- row in place (HOT); the sweep's scan of this small table once a minute is cheap.
