-- Nothing reads funnel history by stage: every query names the lead, and
-- stages are only ever soft-deleted, so the foreign key never looks
-- referencing events up either. The index cost every event insert a
-- random index page, and on PostgreSQL, with statistics taken while the
-- table was still small, the planner archived a lead's events through it,
-- reading every event at those stages, which grew with the whole history
-- (an archive statement went from 0.9 ms to 11 ms within 20 s of load).
DROP INDEX funnel_events_stage;
