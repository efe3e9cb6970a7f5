-- depends: 0104_canonical_id_cards
-- Issue 17 §4: the reminder the day before the visit. When the citizen was last told
-- the booking's time (its confirmation or its latest reschedule: a reminder waits a
-- few hours after it) and the day a reminder went out for (once per booking and day).
ALTER TABLE bookings ADD COLUMN told_at timestamptz;
ALTER TABLE bookings ADD COLUMN reminded_for date;
-- Bookings confirmed before: told when they were confirmed (as the projection says).
UPDATE bookings b SET told_at = (e.data->>'confirmed_at')::timestamptz
  FROM events e
 WHERE e.stream_id = 'booking-' || b.booking_id AND e.event_type = 'CodeConfirmed';
-- The reminder timer looks for tomorrow's confirmed bookings: bookings_confirmed_slot_idx
-- (day, slot_time) WHERE status = 'confirmed' serves it.
