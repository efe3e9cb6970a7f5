-- depends: 0001_platform
-- The staff's view of complaints (C-1 … C-4), kept with their events.
CREATE TABLE complaints (
    complaint_id  uuid PRIMARY KEY,
    reference     text UNIQUE NOT NULL,     -- what the complainant quotes
    status        text        NOT NULL,     -- filed | acknowledged | assigned | answered | withdrawn
    service       text        NOT NULL,
    channel       text        NOT NULL,
    booking_id    text,
    reviewer      text,
    email         text,
    language      text        NOT NULL,
    name          text        NOT NULL,
    filed_on      date        NOT NULL,
    due_on        date        NOT NULL,
    overdue       boolean     NOT NULL DEFAULT false,
    warned        boolean     NOT NULL DEFAULT false,
    version       integer     NOT NULL
);
CREATE INDEX complaints_open_due_idx ON complaints (due_on)
    WHERE status IN ('filed', 'acknowledged', 'assigned');
