-- The changes a consumer has not applied yet, and how far they reach. The row lock on the
-- watermark makes two refreshes of the same table queue instead of applying a change twice.
SELECT w.last_change_id,
       coalesce((SELECT max(change_id) FROM daily_spend_changes), 0) AS up_to
FROM analytics_watermarks AS w
WHERE w.consumer = %(consumer)s
FOR UPDATE;
