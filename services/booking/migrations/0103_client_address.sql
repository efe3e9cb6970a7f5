-- depends: 0102_activation
-- Issue 12: who asked for each booking (BookingRequested's private client_address: an
-- IPv4 address or IPv6 /64), so that unconfirmed holds can be capped per client
-- address as they are per email and phone. NULL for bookings requested before.
ALTER TABLE bookings ADD COLUMN client_address text;
-- The caps count a client's holds not yet expired: only requested bookings matter.
CREATE INDEX bookings_held_by_address_idx ON bookings (client_address, hold_expires_at)
    WHERE status = 'requested';
CREATE INDEX bookings_held_by_email_idx ON bookings (lower(email), hold_expires_at)
    WHERE status = 'requested';
CREATE INDEX bookings_held_by_phone_idx ON bookings (phone, hold_expires_at)
    WHERE status = 'requested';
