-- depends: 0003_idempotent_requests
-- The gap-free number of each public event of this service (issue 14 §2, the
-- CloudEvents extension `sequence`): the relay holding the service's relay lock
-- numbers the public events of a batch from `last` + 1 and stores the new `last` in
-- the same transaction that deletes the batch from the outbox. A crash before that
-- commit numbers the same events the same way again (they stay first in the outbox).
CREATE TABLE public_sequence (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last      bigint  NOT NULL DEFAULT 0 CHECK (last >= 0)
);
INSERT INTO public_sequence DEFAULT VALUES;
