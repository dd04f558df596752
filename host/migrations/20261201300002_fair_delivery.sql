-- Fair delivery: each webhook caps its deliveries in flight per worker
-- process (max_in_flight, 16 by default), and a claim shares a worker's
-- free slots across the webhooks (and accounts) with due deliveries
-- instead of taking the oldest due ones whoever they belong to, so that a
-- receiver that hangs cannot hold every slot.
--
-- The claim finds the webhooks with scheduled deliveries by skipping from
-- one webhook to the next in this index (one seek each, however long a
-- webhook's queue), then takes each one's share oldest first from it.
ALTER TABLE webhooks ADD COLUMN max_in_flight BIGINT NOT NULL DEFAULT 16;
CREATE INDEX deliveries_webhook_due ON deliveries (webhook_id, next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;
