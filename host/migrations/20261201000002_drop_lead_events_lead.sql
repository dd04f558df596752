-- No query reads lead events by lead (they are read by id, for deliveries,
-- and purged by id range), yet every lead change inserted into this index
-- at a random place: a page written to the log per change, for nothing.
DROP INDEX lead_events_lead;
