-- depends: 0202_recipient_from_events
-- An email that became untrue before it was delivered ends ``superseded``; which
-- booking event made it so (e.g. BookingCancelled) is shown in its history.
ALTER TABLE emails ADD COLUMN superseded_by text;
