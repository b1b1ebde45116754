-- Changes every consumer has applied are no longer needed.
DELETE FROM daily_spend_changes
WHERE change_id <= (SELECT min(last_change_id) FROM analytics_watermarks);
