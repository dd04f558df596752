-- `deliveries_due (next_attempt_at)` has had no query of its own since
-- claims went through `deliveries_webhook_due (webhook_id,
-- next_attempt_at)` (fair delivery): that index holds the same rows (the
-- same predicate), so the queue figures of /metrics read it instead (all
-- scheduled deliveries are counted either way). Dropping it saves an index
-- entry on every delivery insert and on every update of one that is not
-- HOT, and a second index of dead entries for vacuum to clear.
DROP INDEX deliveries_due;
