-- depends: 0101_booking
-- Activation at the kiosk (Q-7) and the lapse of unused bookings (Q-8).
ALTER TABLE bookings ADD COLUMN activated_at timestamptz;
ALTER TABLE bookings ADD COLUMN activated_by text;
-- The lapse sweep looks for confirmed bookings whose time has passed.
CREATE INDEX bookings_confirmed_slot_idx ON bookings (day, slot_time) WHERE status = 'confirmed';
-- After activation the order code still finds the booking (a kiosk repeating a
-- request whose answer was lost gets the same ticket).
CREATE INDEX bookings_order_code_any_idx ON bookings (order_code_hash);
