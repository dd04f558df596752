-- Bumped by every change to an account's funnel stages, so that processes
-- can cache what they derive from the funnel (an import's stage directory)
-- and notice, with one cheap read, when it is stale.
ALTER TABLE accounts ADD COLUMN funnel_version BIGINT NOT NULL DEFAULT 0;
