-- One index on a lead's history instead of two. Every funnel event insert
-- went into both the partial index of active events and the history-order
-- index, each at a random place (the lead's), so each change dirtied two
-- index pages that the commit had to write to the log. On
-- (lead_id, archived_at, funnel_stage_id) a lead's active events are still
-- contiguous (archived_at IS NULL is an index condition on both engines),
-- so the funnel rules' lookups stay independent of how long the history
-- is, and listing a lead's history reads the lead's entries and sorts them
-- (a lead has tens of events, not millions).
DROP INDEX funnel_events_active;
DROP INDEX funnel_events_lead;
CREATE INDEX funnel_events_by_lead ON funnel_events (lead_id, archived_at, funnel_stage_id);
