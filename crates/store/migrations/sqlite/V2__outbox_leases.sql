-- Leases on outbox rows, so several consumers can drain the outbox at once.
--
-- A claim writes the consumer and the end of its lease; other consumers skip the row
-- until the lease runs out, after which an abandoned claim is handed out again.
-- Completed changes are deleted.

ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until_ms INTEGER;
