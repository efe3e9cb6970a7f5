-- depends: 0201_notification
-- Issue 16: ``emails`` is the fold of the service's events (read_model.py). The
-- recipient now rides in EmailCreated (its private part); events written before
-- carry none, so the rebuilt row of such an email has no recipient.
ALTER TABLE emails ALTER COLUMN recipient DROP NOT NULL;
