-- Flood control (issue 15): an import may limit the inbound requests it
-- accepts, as a token bucket refilled at rate_limit_per_second and holding
-- at most rate_limit_burst requests. Enforced by each server process on
-- its own (the buckets live in memory). NULL: no limit, the default.
ALTER TABLE webhook_imports ADD COLUMN rate_limit_per_second BIGINT;
ALTER TABLE webhook_imports ADD COLUMN rate_limit_burst BIGINT;
