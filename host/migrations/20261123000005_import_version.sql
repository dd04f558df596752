-- Bumped by every change to a webhook import, so that processes caching
-- what they derive from it (its stage directory) see the change on their
-- next request; a counter, unlike a timestamp, cannot repeat.
ALTER TABLE webhook_imports ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
