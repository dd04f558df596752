-- A backward move asks whether the lead still has an active event at its
-- target stage (lead_id = ? AND funnel_stage_id = ?). With one index on
-- lead_id and another on funnel_stage_id, SQLite chose the stage's, which
-- holds every event ever written at that stage: each backward move grew
-- slower as the history grew. One index on (lead_id, funnel_stage_id)
-- answers it from the lead's few events, and still serves every lookup by
-- lead (a lead's history is sorted from its few rows), so it replaces the
-- index on (lead_id, occurred_at, id) instead of adding a fifth b-tree to
-- every funnel event insert.
DROP INDEX funnel_events_lead;
CREATE INDEX funnel_events_lead_stage ON funnel_events (lead_id, funnel_stage_id);
