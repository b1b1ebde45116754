-- The folded-in entries leave the queue in the refresh's own transaction.
DELETE FROM analytics_pending_days
WHERE entry_id IN (SELECT entry_id FROM claimed_days);
