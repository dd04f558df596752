-- Every stage move rewrote two entries of this index at random places (and
-- on PostgreSQL it kept the move from being a heap-only update, so every
-- index of the row was written again). Only one query read it: whether
-- any lead is still at a stage that an admin wants to delete, which now
-- reads the account's leads instead; that is a rare admin action, a stage
-- move is the hot path.
DROP INDEX leads_funnel_stage;
