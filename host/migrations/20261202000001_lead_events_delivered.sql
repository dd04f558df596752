-- A lead's deliveries (the admin UI's delivery log filtered by lead) are
-- found through the lead's events. `lead_events_lead` indexed every event
-- for that, and one index entry per event at a random place (the lead's
-- id) cost SQLite 15 to 25% of its writer thread's time per change and a
-- third to double the bytes written, on every change, even where no
-- webhook listens and the index could never find a delivery.
--
-- Only an event that made deliveries can lead to one, so the index now
-- holds those alone: an event records how many deliveries it made when it
-- was committed (deliveries are only ever made then: a resend revives a
-- delivery, a batch's row belongs to no event), and where no webhook
-- listens an event costs no index entry.
ALTER TABLE lead_events ADD COLUMN delivery_count BIGINT NOT NULL DEFAULT 0;
UPDATE lead_events
SET delivery_count = (SELECT count(*) FROM deliveries WHERE deliveries.event_id = lead_events.id)
WHERE EXISTS (SELECT 1 FROM deliveries WHERE deliveries.event_id = lead_events.id);
DROP INDEX lead_events_lead;
CREATE INDEX lead_events_delivered ON lead_events (lead_id, id) WHERE delivery_count > 0;
