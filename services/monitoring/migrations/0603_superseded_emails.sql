-- depends: 0602_visits_at_the_centre
-- EmailSuperseded: an email never sent because what it said stopped being true (the
-- booking was cancelled, moved or confirmed meanwhile). It ends the email like a
-- delivery does: the failure report does not count it as undelivered.
ALTER TABLE emails ADD COLUMN superseded_logged_at timestamptz,
                   ADD COLUMN superseded_by text;
