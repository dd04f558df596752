-- The funnel rules only ever look for a lead's *active* events (archived_at
-- IS NULL): "archive those after the target", "has the target one?". On
-- (lead_id, funnel_stage_id) those lookups walked every event the lead ever
-- had at those stages, archived ones included, so a lead moved back and
-- forth grew slower to move with each move (the inbound benchmark's rate
-- halved over five rounds). A partial index holds only the active events,
-- at most one per stage of a lead; the full index on the lead goes back to
-- its history order, for listing it.
DROP INDEX funnel_events_lead_stage;
CREATE INDEX funnel_events_active ON funnel_events (lead_id, funnel_stage_id) WHERE archived_at IS NULL;
CREATE INDEX funnel_events_lead ON funnel_events (lead_id, occurred_at, id);
