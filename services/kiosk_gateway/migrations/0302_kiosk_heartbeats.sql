-- depends: 0301_kiosks
-- Issue 16 (D-1): the kiosks table holds only what the kiosks' events say, so that it
-- can be rebuilt from them. A heartbeat is liveness telemetry, not state (no event:
-- one per kiosk every few seconds would swamp the log and decide nothing), so the
-- last one seen moves to a table of its own, outside the rebuilt read models.
CREATE TABLE kiosk_heartbeats (
    kiosk_id   text        PRIMARY KEY,
    last_seen  timestamptz NOT NULL
);
INSERT INTO kiosk_heartbeats (kiosk_id, last_seen)
    SELECT kiosk_id, last_seen FROM kiosks WHERE last_seen IS NOT NULL;
ALTER TABLE kiosks DROP COLUMN last_seen;
