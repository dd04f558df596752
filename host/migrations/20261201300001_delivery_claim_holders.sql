-- A claim names its holder: the delivery worker (one per process start)
-- that took it. Live workers renew the claims they work on every few
-- seconds, so the lease (claimed_until) is short and a process that dies
-- stops holding its deliveries within seconds instead of minutes. An
-- attempt's result is written only while its worker still holds the
-- delivery. Workers renew and release their claims by delivery id, so the
-- column needs no index; it is cleared together with claimed_until.
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
