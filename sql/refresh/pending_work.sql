-- What waits for a refresh: how many days, and the newest entry (a new one means new work).
SELECT count(DISTINCT spend_date), max(entry_id), min(queued_at) FROM analytics_pending_days;
