-- The days this load added rows to wait for the analytics refresh. Written in the load's own
-- transaction, last, so they commit with the rows or not at all.
INSERT INTO analytics_pending_days (spend_date, upload_id)
SELECT day, %(upload_id)s FROM unnest(%(days)s::date[]) AS day;
